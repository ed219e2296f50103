package engine

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

// TestExecEntersRoot execs into a container entered each way: the exec
// lands in the container's root (setns(2) alone would leave it at the
// namespace's, the host's under chroot), where the escape behaves as it
// does for the container's own process.
func TestExecEntersRoot(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	layers := append(slices.Clone(f.layers), escapeLayer(t))
	host := hostRoot(t)
	for _, how := range RootEntries {
		t.Run(how.String(), func(t *testing.T) {
			t.Parallel()
			st, err := e.Create(Spec{Layers: layers, Root: how, Process: Process{Args: []string{"sleep", "1000"}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Remove(st.ID, true) })
			if _, err := e.Start(st.ID, false); err != nil {
				t.Fatal(err)
			}
			var out syncBuffer
			if code, err := e.Exec(st.ID, Process{Args: []string{"cat", "/etc/lowerfile"}, Cwd: "/etc"}, Stdio{Stdout: &out, Stderr: &out}); err != nil || code != 0 || out.String() != "from l1\n" {
				t.Errorf("cat /etc/lowerfile: %d, %v, %q; want the image's file", code, err, out.String())
			}
			var esc syncBuffer
			if code, err := e.Exec(st.ID, Process{Args: []string{"/escape"}}, Stdio{Stdout: &esc, Stderr: &esc}); err != nil || code != 0 {
				t.Fatalf("/escape: %d, %v: %s", code, err, esc.String())
			}
			got := strings.Fields(esc.String())
			if reached := slices.Equal(got, host); reached != (how == RootChroot) {
				t.Errorf("the escape from an exec listed %q (the host's: %v)", got, reached)
			}
		})
	}
}

// TestNoPivotKeepsHostRoot shows what --no-pivot leaves in the
// container's namespace: a privileged container unmounts its root, and a
// process that joins the namespace by setns(2) alone (nsenter(1), from
// the host) lands in the host's root, where pivot_root left nothing.
// minidocker exec into a container not entered by pivot_root takes the
// init's root as well (nsenter.go), which the unmount leaves as it was.
func TestNoPivotKeepsHostRoot(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	nsenter := testutil.RequireTool(t, "nsenter")
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
			if st, err = e.Get(st.ID); err != nil {
				t.Fatal(err)
			}
			var out syncBuffer
			if code, err := e.Exec(st.ID, Process{Args: []string{"busybox", "umount", "-l", "/"}}, Stdio{Stdout: &out, Stderr: &out}); err != nil || code != 0 {
				t.Fatalf("umount -l /: %d, %v: %s", code, err, out.String())
			}
			if how == RootNoPivot {
				var after syncBuffer
				if code, err := e.Exec(st.ID, Process{Args: []string{"cat", "/etc/lowerfile"}}, Stdio{Stdout: &after, Stderr: &after}); err != nil || code != 0 || after.String() != "from l1\n" {
					t.Errorf("exec after the unmount: %d, %v, %q; want the container's root still", code, err, after.String())
				}
			}
			// The host's ls, in the namespace, from its root.
			ls, err := exec.Command(nsenter, "--mount=/proc/"+strconv.Itoa(st.Pid)+"/ns/mnt", "/bin/ls", "-a", "/").CombinedOutput()
			if how == RootPivot {
				if err == nil {
					t.Errorf("after pivot_root, below the root: %q; want nothing, not even ls", ls)
				}
				return
			}
			if err != nil {
				t.Fatalf("nsenter ls -a /: %v: %s", err, ls)
			}
			got := slices.DeleteFunc(strings.Fields(string(ls)), func(n string) bool { return n == "." || n == ".." })
			slices.Sort(got)
			if diff := cmp.Diff(host, got); diff != "" {
				t.Errorf("below the --no-pivot root (-host +got):\n%s", diff)
			}
		})
	}
}
