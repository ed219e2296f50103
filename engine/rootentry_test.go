package engine

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
)

func TestParseRootEntry(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want RootEntry
		err  bool
	}{
		{"", RootPivot, false}, {"pivot_root", RootPivot, false},
		{"no-pivot", RootNoPivot, false}, {"chroot", RootChroot, false},
		{"pivot", "", true}, {"CHROOT", "", true},
	} {
		got, err := ParseRootEntry(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseRootEntry(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseRootEntry(%q): %v is not ErrInvalid", tt.in, err)
		}
	}
	if got := RootPivot.String(); got != "pivot_root" {
		t.Errorf("RootPivot.String() = %q", got)
	}
}

// escapeLayer builds testdata/chrootescape, static, into a layer of its
// own as /escape.
func escapeLayer(t *testing.T) string {
	t.Helper()
	goTool := testutil.RequireTool(t, "go")
	dir := t.TempDir()
	cmd := exec.Command(goTool, "build", "-o", filepath.Join(dir, "escape"), "./testdata/chrootescape")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the escape: %v\n%s", err, out)
	}
	return dir
}

// hostRoot lists the names at this process's root, the host's.
func hostRoot(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestRootEntry runs the classic chroot escape inside a container entered
// each way: pivot_root and runc's --no-pivot keep it in the container's
// root (the kernel's ".." stops at the namespace's root mount, and at a
// mount on "/"), chroot alone lets it reach the host's root.
func TestRootEntry(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	layers := append(slices.Clone(f.layers), escapeLayer(t))
	host := hostRoot(t)
	for _, bad := range []RootEntry{"pivot_root", "jail"} {
		if _, err := e.Create(Spec{Layers: layers, Root: bad, Process: Process{Args: []string{"/escape"}}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("create with root %q: %v, want ErrInvalid", bad, err)
		}
	}
	for _, how := range RootEntries {
		t.Run(how.String(), func(t *testing.T) {
			t.Parallel()
			r := f.run(t, e, Spec{Layers: layers, Root: how, Process: Process{Args: []string{"/escape"}}}, "")
			if r.code != 0 {
				t.Fatalf("exit code %d: %s", r.code, r.out)
			}
			if r.st.Spec.Root != how {
				t.Errorf("state says root %q, want %q", r.st.Spec.Root, how)
			}
			got := strings.Fields(r.out)
			if how == RootChroot {
				if diff := cmp.Diff(host, got); diff != "" {
					t.Errorf("the escape from a chroot did not reach the host's root (-host +got):\n%s", diff)
				}
				return
			}
			for _, want := range []string{"escape", "proc", "tmp"} {
				if !slices.Contains(got, want) {
					t.Errorf("the escape left the container's root: / holds %q, without %s", got, want)
				}
			}
		})
	}
}

// TestNoPivotKeepsHostRoot shows what --no-pivot leaves in the
// container's namespace: a privileged container unmounts its root, and
// the next process to enter the namespace lands in the host's root,
// which pivot_root detached.
func TestNoPivotKeepsHostRoot(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	host := hostRoot(t)
	for _, how := range []RootEntry{RootPivot, RootNoPivot} {
		t.Run(how.String(), func(t *testing.T) {
			st, err := e.Create(Spec{Layers: f.layers, Root: how, Privileged: true, Process: Process{Args: []string{"sleep", "1000"}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Remove(st.ID, true) })
			if _, err := e.Start(st.ID, false); err != nil {
				t.Fatal(err)
			}
			var out syncBuffer
			if code, err := e.Exec(st.ID, Process{Args: []string{"busybox", "umount", "-l", "/"}}, Stdio{Stdout: &out, Stderr: &out}); err != nil || code != 0 {
				t.Fatalf("umount -l /: %d, %v: %s", code, err, out.String())
			}
			// The host's ls, when the host's root is what is left: the
			// container's busybox is gone with the overlay.
			var ls syncBuffer
			code, err := e.Exec(st.ID, Process{Args: []string{"/bin/ls", "-a", "/"}}, Stdio{Stdout: &ls, Stderr: &ls})
			if how == RootPivot {
				if !errors.Is(err, ErrCommandNotFound) {
					t.Errorf("after pivot_root, below the root: %d, %v, %q; want nothing, not even ls", code, err, ls.String())
				}
				return
			}
			if err != nil || code != 0 {
				t.Fatalf("ls -a /: %d, %v: %s", code, err, ls.String())
			}
			got := slices.DeleteFunc(strings.Fields(ls.String()), func(n string) bool { return n == "." || n == ".." })
			slices.Sort(got)
			if diff := cmp.Diff(host, got); diff != "" {
				t.Errorf("below the --no-pivot root (-host +got):\n%s", diff)
			}
		})
	}
}
