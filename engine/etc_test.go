package engine

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
)

func TestParseHost(t *testing.T) {
	for in, want := range map[string]string{
		"db:192.0.2.9": "192.0.2.9\tdb", "db=192.0.2.9": "192.0.2.9\tdb", "v6:[2001:db8::1]": "2001:db8::1\tv6",
		"v6:2001:db8::1": "2001:db8::1\tv6", "v6=::1": "::1\tv6",
	} {
		if got, err := ParseHost(in); err != nil || got != want {
			t.Errorf("ParseHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "db", ":1.2.3.4", "db:", "db:host-gateway", "db:300.1.1.1", "v6:fe80::1%eth0", "a b:1.2.3.4", "x\x1b:1.2.3.4"} {
		if _, err := ParseHost(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseHost(%q): %v, want ErrInvalid", in, err)
		}
	}
}

// FuzzParseHost checks that an accepted extra host makes one line of
// /etc/hosts: an address, a tab, a name without blanks or controls.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"db:192.0.2.9", "v6=[::1]", "x:y", "\n:1.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line, err := ParseHost(s)
		if err != nil {
			return
		}
		for _, r := range line {
			if r == '\n' || r < ' ' && r != '\t' {
				t.Fatalf("ParseHost(%q) = %q", s, line)
			}
		}
	})
}

// TestEtcFilesOnRestart starts each container twice: the engine's files
// over /etc are the same on the second start as on the first, and an
// image's own /etc/hosts stays the container's to change.
func TestEtcFilesOnRestart(t *testing.T) {
	f := newFixture(t)
	withHosts := filepath.Join(t.TempDir(), "hosts")
	os.MkdirAll(filepath.Join(withHosts, "etc"), 0o755)
	if err := os.WriteFile(filepath.Join(withHosts, "etc", "hosts"), []byte("127.0.0.1 localhost image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	imageHosts := append(slices.Clone(f.layers), withHosts)
	// A link to nowhere is no hosts file: the engine's goes where it points.
	linked := filepath.Join(t.TempDir(), "linked")
	os.MkdirAll(filepath.Join(linked, "etc"), 0o755)
	if err := os.Symlink("/run/hosts", filepath.Join(linked, "etc", "hosts")); err != nil {
		t.Fatal(err)
	}
	linkedHosts := append(slices.Clone(f.layers), linked)
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 192.0.2.7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	o := testOptions(f.root)
	o.ResolvConf = resolv
	e, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	checkCgroups(t, e.Cgroups())
	const show = "cat /etc/hosts /etc/hostname /etc/resolv.conf; grep -c ' /etc/hosts ' /proc/self/mountinfo; echo changed >> /etc/hosts"
	etc := func(hostsFile, mounted string) string {
		return hostsFile + "box\nnameserver 192.0.2.7\n" + mounted + "\n"
	}
	tests := []struct {
		name   string
		layers []string
		extra  []string
		want   [2]string // the output of the first start and of the second
	}{
		{"an image without hosts", f.layers, nil,
			[2]string{etc(hosts("box", nil), "1"), etc(hosts("box", nil), "1")}},
		{"an image with hosts, extra hosts", imageHosts, []string{"db:192.0.2.9"},
			[2]string{etc(hosts("box", []string{"192.0.2.9\tdb"}), "1"), etc(hosts("box", []string{"192.0.2.9\tdb"}), "1")}},
		{"an image with hosts linked to nowhere", linkedHosts, nil,
			[2]string{etc(hosts("box", nil), "0"), etc(hosts("box", nil), "0")}},
		{"an image with hosts, changed by the container", imageHosts, nil,
			[2]string{etc("127.0.0.1 localhost image\n", "0"), etc("127.0.0.1 localhost image\nchanged\n", "0")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := e.Create(Spec{Hostname: "box", Layers: tt.layers, ExtraHosts: tt.extra, Process: Process{Args: []string{"sh", "-c", show}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Remove(st.ID, true) })
			for i, want := range tt.want {
				sess, err := e.Start(st.ID, true)
				if err != nil {
					t.Fatalf("start %d: %v", i+1, err)
				}
				var out strings.Builder
				code, err := sess.Wait(&out, &out)
				sess.Close()
				if err != nil || code != 0 {
					t.Errorf("start %d: exit %d, %v (output %q)", i+1, code, err, out.String())
				}
				if diff := cmp.Diff(want, out.String()); diff != "" {
					t.Errorf("start %d: output (-want +got):\n%s", i+1, diff)
				}
			}
		})
	}
}
