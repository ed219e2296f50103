package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
	"minidocker/overlay"
	"minidocker/ui/tree"
)

// TestUIEndToEnd runs the real binary's UI in tmux over a real container:
// it opens the container, types into its shell, and watches the whiteout
// the shell's rm makes appear in the layer view.
func TestUIEndToEnd(t *testing.T) {
	testutil.RequireRoot(t)
	tmux := testutil.RequireTool(t, "tmux")
	testutil.CheckMounts(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "minidocker")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "store")
	md := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--root", root}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("minidocker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out, err := exec.Command(bin, "ui", "--help").CombinedOutput(); err != nil {
		t.Skipf("minidocker ui is not wired into main.go yet: %s", out)
	}
	md("image", "create-base")
	md("run", "-d", "-i", "-t", "--name", "e2e", "base", "/bin/sh")
	t.Cleanup(func() { exec.Command(bin, "--root", root, "rm", "-f", "e2e").Run() })

	sock := fmt.Sprintf("minidocker-e2e-%d", os.Getpid())
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	tm("new-session", "-d", "-s", "ui", "-x", "120", "-y", "40", bin+" --root "+root+" ui")
	t.Cleanup(func() { exec.Command(tmux, "-L", sock, "kill-server").Run() })
	waitFor := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		var screen string
		for time.Now().Before(deadline) {
			screen = tm("capture-pane", "-p", "-t", "ui")
			if strings.Contains(screen, want) {
				return screen
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("the screen never showed %q:\n%s", want, screen)
		return ""
	}

	waitFor("[1] Images")
	waitFor("● e2e running")
	tm("send-keys", "-t", "ui", "2", "Enter")
	waitFor("merged")
	tm("send-keys", "-t", "ui", "2")
	waitFor("ctrl+g to leave")
	// The three lessons of the issue: a copy-up, a whiteout, an opaque dir.
	// /bin is a link to usr/bin in base, and rm -rf /usr takes mkdir with
	// it, so a copy of busybox makes the directory again.
	tm("send-keys", "-t", "ui", "echo x > /etc/hosts; echo step-$((6*7))", "Enter")
	waitFor("step-42")
	screen := waitFor("hosts")
	if !strings.Contains(screen, "~") {
		t.Errorf("the changed /etc/hosts is not marked modified (~):\n%s", screen)
	}
	tm("send-keys", "-t", "ui", "rm /bin/sh; echo step-$((7*7))", "Enter")
	waitFor("step-49")
	screen = waitFor("⊘ whiteout")
	if !strings.Contains(screen, "sh ⊘ whiteout") {
		t.Errorf("the whiteout is not the deleted file's:\n%s", screen)
	}
	tm("send-keys", "-t", "ui", "cp /usr/bin/busybox /busybox; rm -rf /usr; /busybox mkdir /usr; /busybox echo step-$((8*8))", "Enter")
	waitFor("step-64")
	screen = waitFor("usr/ ◼ opaque")
	tm("send-keys", "-t", "ui", "C-g")
	tm("send-keys", "-t", "ui", "q")
	deadline := time.Now().Add(5 * time.Second)
	for exec.Command(tmux, "-L", sock, "has-session", "-t", "ui").Run() == nil {
		if time.Now().After(deadline) {
			t.Fatal("q did not quit the UI")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(md("ps"), "e2e") {
		t.Error("quitting the UI stopped the container")
	}
}

// TestUIStackOfDirs checks the adapter from real layer directories to the
// layer view's trees: a whiteout and an opaque directory in the upper
// directory, a file copied up and one made new.
func TestUIStackOfDirs(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	l0, l1, up := filepath.Join(dir, "l0"), filepath.Join(dir, "l1"), filepath.Join(dir, "up")
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(l0, "etc/hosts"), "127.0.0.1 localhost\n")
	write(filepath.Join(l0, "bin/ls"), "ls")
	write(filepath.Join(l0, "doc/old"), "old")
	write(filepath.Join(l1, "app/main.py"), "print(1)\n")
	write(filepath.Join(up, "etc/hosts"), "127.0.0.1 localhost\n10.0.0.1 db\n")
	write(filepath.Join(up, "root/new"), "new")
	write(filepath.Join(up, "doc/fresh"), "fresh")
	// The upper directory's forms, as overlayfs writes them: a 0:0
	// character device for a whiteout, trusted.overlay.opaque for a
	// directory made again.
	if err := unix.Mknod(filepath.Join(up, "bin/ls"), unix.S_IFCHR, 0); err != nil {
		if err := os.MkdirAll(filepath.Join(up, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mknod(filepath.Join(up, "bin/ls"), unix.S_IFCHR, 0); err != nil {
			t.Fatalf("mknod whiteout: %v", err)
		}
	}
	if err := unix.Setxattr(filepath.Join(up, "doc"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatalf("set opaque: %v", err)
	}
	s, err := stackOf([]string{l0, l1}, up, []string{"l0", "l1"})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := s.Upper.Lookup("/bin/ls"); !ok || !n.Whiteout {
		t.Errorf("upper /bin/ls: %+v, want a whiteout", n)
	}
	if n, ok := s.Upper.Lookup("/doc"); !ok || !n.Opaque {
		t.Errorf("upper /doc: %+v, want opaque", n)
	}
	if _, ok := s.Merged.Lookup("/bin/ls"); ok {
		t.Error("merged shows the whited-out /bin/ls")
	}
	if _, ok := s.Merged.Lookup("/doc/old"); ok {
		t.Error("merged shows /doc/old beneath the opaque /doc")
	}
	for p, want := range map[string]overlay.DiffKind{
		"/etc/hosts":   overlay.Modified,
		"/root/new":    overlay.Added,
		"/app/main.py": overlay.Unmodified,
		"/doc/fresh":   overlay.Added,
	} {
		if n, ok := s.Merged.Lookup(p); !ok || n.Kind != want {
			t.Errorf("merged %s: kind %v (present %v), want %v", p, n.Kind, ok, want)
		}
	}
	if n, _ := s.Merged.Lookup("/etc/hosts"); n.Layer != 2 || len(n.Shadows) == 0 || n.Shadows[0] != 0 {
		t.Errorf("merged /etc/hosts from layer %d shadowing %v, want upper over layer 0", n.Layer, n.Shadows)
	}
	if n, ok := s.Layers[1].Lookup("/app/main.py"); !ok || n.Kind != overlay.Added {
		t.Errorf("layer 1 /app/main.py: %+v", n)
	}
	r, err := s.Open(tree.Node{Path: "/etc/hosts", Layer: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if !strings.Contains(string(b), "10.0.0.1 db") {
		t.Errorf("open /etc/hosts read %q from the wrong layer", b)
	}
	// A symlink a container makes in its upper dir must not lead the
	// preview out of the layer.
	if err := os.Symlink("/", filepath.Join(up, "escape")); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Open(tree.Node{Path: "/escape/etc/passwd", Layer: 2}); err == nil {
		r.Close()
		t.Error("open followed a symlink out of the layer")
	}
}
