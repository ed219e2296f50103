package overlay

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestNamespacesListsOwn(t *testing.T) {
	own, err := nsInode("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	nss, err := Namespaces("/proc")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	found := false
	for _, ns := range nss {
		if seen[ns.Inode] {
			t.Errorf("namespace %s listed twice", ns)
		}
		seen[ns.Inode] = true
		if ns.Inode == own {
			found = true
			if ns.Pid > os.Getpid() {
				t.Errorf("own namespace read through pid %d, want the lowest (at most %d)", ns.Pid, os.Getpid())
			}
		}
	}
	if !found {
		t.Errorf("own namespace mnt:[%d] not among %v", own, nss)
	}
}

// namespaceOverlay starts a process in a mount namespace of its own that
// mounts an overlay of lower (top first) at mnt, and returns it once the
// mount is made; the test ends it.
func namespaceOverlay(t *testing.T, mnt string, lower []string) *exec.Cmd {
	t.Helper()
	// Go makes the new namespace's mounts private before exec (Unshareflags
	// with CLONE_NEWNS), so nothing propagates back to the test's.
	cmd := exec.Command("sh", "-c", `mount -t overlay overlay -o "lowerdir=$1" "$2" && echo ready && exec sleep 600`,
		"sh", strings.Join(lower, ":"), mnt)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("the namespace's mount failed: %q", line)
	}
	return cmd
}

// TestHostMountsAcrossNamespaces mounts an overlay here and another in a
// new mount namespace (which starts with a copy of the first): both are
// listed, each once, the second with the path that reaches it from here.
func TestHostMountsAcrossNamespaces(t *testing.T) {
	requireOverlayRoot(t)
	base := t.TempDir()
	dirs, _ := buildStack(t, base, [][]layerOp{{file("a", "bottom")}, {file("b", "top")}})
	here := mountLowers(t, base, dirs)
	there := filepath.Join(base, "there")
	if err := os.Mkdir(there, 0o755); err != nil {
		t.Fatal(err)
	}
	child := namespaceOverlay(t, there, []string{dirs[1], dirs[0]})

	ms, err := HostMounts("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var mine, theirs []HostMount
	for _, m := range ms {
		switch m.Point {
		case here:
			mine = append(mine, m)
		case there:
			theirs = append(theirs, m)
		}
	}
	if len(mine) != 1 || !mine[0].Own {
		t.Errorf("the mount here: %+v, want it once, in our own namespace", mine)
	}
	if len(theirs) != 1 {
		t.Fatalf("the other namespace's mount: listed %d times, want 1", len(theirs))
	}
	m := theirs[0]
	if m.Own || m.Namespace.Pid != child.Process.Pid {
		t.Errorf("namespace %s pid %d own %v, want pid %d's", m.Namespace, m.Namespace.Pid, m.Own, child.Process.Pid)
	}
	want := filepath.Join("/proc", strconv.Itoa(child.Process.Pid), "root", there)
	if m.Path() != want {
		t.Errorf("Path() = %s, want %s", m.Path(), want)
	}
	if b, err := os.ReadFile(filepath.Join(m.Path(), "b")); err != nil || string(b) != "top" {
		t.Errorf("reading through Path(): %q, %v", b, err)
	}
	merged, err := m.Open()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := merged.Lookup("/a"); !ok {
		t.Error("Open: /a missing from the merged view")
	}

	child.Process.Kill()
	child.Wait()
	ms, err = HostMounts("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Point == there {
			t.Errorf("the mount of an ended namespace is still listed: %+v", m)
		}
	}
}

func TestLayerDir(t *testing.T) {
	base := t.TempDir()
	layer := filepath.Join(base, "abc123", "diff")
	for _, d := range []string{layer, filepath.Join(base, "l")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	short := filepath.Join(base, "l", "SHORT")
	if err := os.Symlink("../abc123/diff", short); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{short, layer},
		{layer, layer},
		{filepath.Join(base, "l", "missing"), filepath.Join(base, "l", "missing")},
		{"/not/a/link", "/not/a/link"},
	} {
		if got := LayerDir(tc.in); got != tc.want {
			t.Errorf("LayerDir(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestOpenRefusesMounterPaths: an upper given as the mounter's file
// descriptor, or a relative lower, would read something else here.
func TestOpenRefusesMounterPaths(t *testing.T) {
	for _, m := range []Mount{
		{FSType: "overlay", Point: "/", Lower: []string{t.TempDir()}, Upper: "/proc/self/fd/7"},
		{FSType: "overlay", Point: "/m", Lower: []string{"l/ABC"}},
	} {
		if _, err := m.Open(); !errors.Is(err, ErrNotReadable) {
			t.Errorf("Open(%v): %v, want ErrNotReadable", m.Lower, err)
		}
	}
}

// TestWatchMountinfo mounts and unmounts a tmpfs and waits for each to be
// told. The host mounts and unmounts too while it runs: each change told
// is checked against the table until it shows what the test did. The
// goroutine keeps its thread, so that the table watched and the mounts
// made are of one namespace.
func TestWatchMountinfo(t *testing.T) {
	requireOverlayRoot(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := WatchMountinfo(ctx, "/proc/thread-self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	wait := func(what string, mounted bool) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case <-ch:
				if isMounted(t, mnt) == mounted {
					return
				}
			case <-deadline:
				t.Fatalf("no change told after %s", what)
			}
		}
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	wait("a mount", true)
	if err := unix.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	wait("an unmount", false)
	cancel()
	for range ch { // drain until closed
	}
}

// isMounted reports whether the calling thread's namespace has a mount
// at p.
func isMounted(t *testing.T, p string) bool {
	t.Helper()
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := ParseMountinfo(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Point == p {
			return true
		}
	}
	return false
}

// BenchmarkHostMounts is one rescan of the host's mount namespaces, as the
// UI's Host mounts panel makes every 2 s.
func BenchmarkHostMounts(b *testing.B) {
	for b.Loop() {
		if _, err := HostMounts("/proc"); err != nil {
			b.Fatal(err)
		}
	}
}
