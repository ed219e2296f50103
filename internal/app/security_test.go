package app

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/engine"
)

// profiles stands for the files --security-opt seccomp=FILE reads.
func profiles(path string) ([]byte, error) {
	switch path {
	case "ok.json":
		return []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}`), nil
	case "bad.json":
		return []byte(`{"defaultAction": 1}`), nil
	}
	return nil, fs.ErrNotExist
}

func TestSecurity(t *testing.T) {
	ok, _ := profiles("ok.json")
	for _, tc := range []struct {
		o    Options
		want engine.Security
		err  string
	}{
		{o: Options{}, want: engine.Security{}},
		{o: Options{CapAdd: []string{"sys_admin"}, CapDrop: []string{"ALL"}}, want: engine.Security{CapAdd: []string{"sys_admin"}, CapDrop: []string{"ALL"}}},
		{o: Options{SecurityOpt: []string{"seccomp=unconfined", "no-new-privileges"}}, want: engine.Security{Seccomp: engine.SeccompUnconfined, NoNewPrivileges: true}},
		{o: Options{SecurityOpt: []string{"seccomp:unconfined", "seccomp=builtin", "no-new-privileges:true", "no-new-privileges=false"}}, want: engine.Security{}},
		{o: Options{SecurityOpt: []string{"seccomp=ok.json"}}, want: engine.Security{Seccomp: string(ok)}},
		{o: Options{SecurityOpt: []string{"seccomp=bad.json"}}, err: `"seccomp=bad.json": invalid seccomp profile`},
		{o: Options{SecurityOpt: []string{"seccomp=none.json"}}, err: "file does not exist"},
		{o: Options{SecurityOpt: []string{"label=disable"}}, err: `"label=disable": unknown option`},
		{o: Options{SecurityOpt: []string{"no-new-privileges=yes"}}, err: "true or false"},
		{o: Options{CapDrop: []string{"CAP_NOPE"}}, err: `--cap-drop: invalid container spec: unknown capability "CAP_NOPE"`},
	} {
		got, err := security(tc.o, profiles)
		if tc.err != "" {
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: %v, want ErrInvalid saying %q", tc.o, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%+v: %v", tc.o, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tc.o, diff)
		}
	}
}

// FuzzSecurityOpt feeds --security-opt values (a profile's file being
// fuzzed too) to the parser: an error must be a usage error.
func FuzzSecurityOpt(f *testing.F) {
	for _, s := range []string{"seccomp=unconfined", "seccomp:builtin", "seccomp=p.json", "no-new-privileges", "no-new-privileges:false", "seccomp=", "=", ":", "apparmor=x"} {
		f.Add(s, []byte(`{"defaultAction":"SCMP_ACT_ALLOW"}`))
	}
	f.Fuzz(func(t *testing.T, opt string, profile []byte) {
		read := func(string) ([]byte, error) { return profile, nil }
		s, err := security(Options{SecurityOpt: []string{opt}}, read)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: error not ErrInvalid: %v", opt, err)
			}
			return
		}
		if s.Seccomp != engine.SeccompDefault && s.Seccomp != engine.SeccompUnconfined {
			if err := engine.CheckProfile([]byte(s.Seccomp)); err != nil {
				t.Fatalf("%q: accepted a profile the engine refuses: %v", opt, err)
			}
		}
	})
}
