package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/engine"
	"minidocker/internal/testutil"
)

// TestSecurityFlags runs containers with --privileged, --cap-add,
// --cap-drop and --security-opt, checks what their processes get and what
// inspect shows, and that a bad value is a usage error naming it.
func TestSecurityFlags(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	profile := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"defaultAction": "SCMP_ACT_NOPE"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	status := "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr '\\t\\n' ' '"
	for _, tc := range []struct {
		args []string
		code int
		out  string // stdout, or a part of stderr for an error
	}{
		{[]string{}, 0, "CapEff: 00000000a80425fb NoNewPrivs: 0 Seccomp: 2 "},
		{[]string{"--security-opt", "seccomp=unconfined"}, 0, "CapEff: 00000000a80425fb NoNewPrivs: 0 Seccomp: 0 "},
		{[]string{"--security-opt", "no-new-privileges"}, 0, "CapEff: 00000000a80425fb NoNewPrivs: 1 Seccomp: 2 "},
		{[]string{"--security-opt", "no-new-privileges:false"}, 0, "CapEff: 00000000a80425fb NoNewPrivs: 0 Seccomp: 2 "},
		{[]string{"--cap-drop", "all", "--cap-add", "Net_Raw"}, 0, "CapEff: 0000000000002000 NoNewPrivs: 0 Seccomp: 2 "},
		{[]string{"--cap-drop", "CAP_CHOWN", "--cap-drop", "kill"}, 0, "CapEff: 00000000a80425da NoNewPrivs: 0 Seccomp: 2 "},
		{[]string{"--security-opt", "seccomp=" + profile}, 0, "CapEff: 00000000a80425fb NoNewPrivs: 0 Seccomp: 2 "},
		{[]string{"--cap-add", "bogus"}, 125, `unknown capability "bogus"`},
		{[]string{"--cap-drop", "CAP_"}, 125, `unknown capability "CAP_"`},
		{[]string{"--security-opt", "apparmor=x"}, 125, `"apparmor=x": unknown option`},
		{[]string{"--security-opt", "seccomp="}, 125, `"seccomp="`},
		{[]string{"--security-opt", "no-new-privileges=maybe"}, 125, `"no-new-privileges=maybe"`},
		{[]string{"--security-opt", "seccomp=/nonexistent.json"}, 125, "/nonexistent.json: no such file"},
		{[]string{"--security-opt", "seccomp=" + bad}, 125, `unknown action "SCMP_ACT_NOPE"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append(append([]string{"run", "--rm"}, tc.args...), "base", "sh", "-c", status)
			code, stdout, stderr := cli(t, root, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if tc.code == 0 && stdout != tc.out {
				t.Errorf("got %q, want %q", stdout, tc.out)
			}
			if tc.code != 0 && !strings.Contains(stderr, tc.out) {
				t.Errorf("stderr %q does not say %q", stderr, tc.out)
			}
		})
	}
	t.Run("profile applies", func(t *testing.T) {
		code, _, stderr := cli(t, root, "run", "--rm", "--security-opt", "seccomp="+profile, "base", "mkdir", "/x")
		if code == 0 || !strings.Contains(stderr, "Permission denied") {
			t.Errorf("mkdir under a profile refusing it: exit %d, %q", code, stderr)
		}
	})
	t.Run("privileged", func(t *testing.T) {
		code, stdout, stderr := cli(t, root, "run", "--rm", "--privileged", "base", "sh", "-c",
			status+"; mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted")
		if code != 0 || !strings.Contains(stdout, "Seccomp: 0 ") || !strings.Contains(stdout, "mounted") || strings.Contains(stdout, "a80425fb") {
			t.Errorf("exit %d, %q, %q", code, stdout, stderr)
		}
	})
	t.Run("inspect", func(t *testing.T) {
		code, id, stderr := cli(t, root, "create", "--cap-drop", "ALL", "--cap-add", "chown", "--security-opt", "no-new-privileges", "base", "true")
		if code != 0 {
			t.Fatalf("create: %d %s", code, stderr)
		}
		id = strings.TrimSpace(id)
		t.Cleanup(func() { cli(t, root, "rm", id) })
		_, out, _ := cli(t, root, "inspect", id)
		var sts []engine.State
		if err := json.Unmarshal([]byte(out), &sts); err != nil || len(sts) != 1 {
			t.Fatalf("inspect: %v: %s", err, out)
		}
		want := engine.Confinement{Capabilities: []string{"CAP_CHOWN"}, Seccomp: "default", NoNewPrivileges: true}
		if diff := cmp.Diff(want, sts[0].Confinement); diff != "" {
			t.Errorf("confinement (-want +got):\n%s", diff)
		}
		wantSec := engine.Security{CapAdd: []string{"chown"}, CapDrop: []string{"ALL"}, NoNewPrivileges: true}
		if diff := cmp.Diff(wantSec, sts[0].Spec.Security); diff != "" {
			t.Errorf("security (-want +got):\n%s", diff)
		}
	})
}
