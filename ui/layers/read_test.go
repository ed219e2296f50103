package layers_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
	"minidocker/overlay"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

var old = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// write makes the file p holding s, its parents included, dated old.
func write(t testing.TB, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadStackImage reads two layer directories as an image: each layer
// alone with its kinds, all of them merged, and the content of an entry
// from the layer that provides it.
func TestReadStackImage(t *testing.T) {
	dir := t.TempDir()
	l0, l1 := filepath.Join(dir, "l0"), filepath.Join(dir, "l1")
	write(t, filepath.Join(l0, "etc/hosts"), "127.0.0.1\n")
	write(t, filepath.Join(l0, "bin/sh"), "sh")
	write(t, filepath.Join(l1, "etc/hosts"), "127.0.0.1\n10.0.0.1 db\n")
	write(t, filepath.Join(l1, "app/main.py"), "print(1)\n")
	s, err := layers.ReadStack([]string{l0, l1}, "", []string{"l0", "l1"})
	must(t, err)
	if s.Upper != nil || s.Merged != nil {
		t.Fatal("an image has an upper directory")
	}
	kinds := func(tr *tree.Tree) map[string]string {
		out := map[string]string{}
		tr.Walk(func(n tree.Node) {
			if !n.IsDir() {
				out[n.Path] = n.Kind.String()
			}
		})
		return out
	}
	want := map[string]string{"/etc/hosts": "modified", "/app/main.py": "added"}
	if diff := cmp.Diff(want, kinds(s.Layers[1])); diff != "" {
		t.Errorf("layer 1 (-want +got):\n%s", diff)
	}
	want = map[string]string{"/etc/hosts": "modified", "/app/main.py": "added", "/bin/sh": "unmodified"}
	if diff := cmp.Diff(want, kinds(s.Lower)); diff != "" {
		t.Errorf("all layers (-want +got):\n%s", diff)
	}
	// /etc is held again by layer 1, as the parent of /etc/hosts: changed.
	if diff := cmp.Diff([]layers.Counts{{Added: 4}, {Added: 2, Changed: 2}}, s.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	n, ok := s.Lower.Lookup("/etc/hosts")
	if !ok || n.Layer != 1 {
		t.Fatalf("/etc/hosts: %+v", n)
	}
	r, err := s.Open(n)
	must(t, err)
	b, err := io.ReadAll(r)
	must(t, err)
	r.Close()
	if string(b) != "127.0.0.1\n10.0.0.1 db\n" {
		t.Errorf("/etc/hosts reads %q, want layer 1's content", b)
	}
}

// TestLiveEqualsFresh changes an upper directory while the layer view
// follows it through WatchUpper, and checks that the view ends as a fresh
// read of the same directories makes it: the same kinds (^ m ~ + - W O),
// the same whiteouts and opaque directories, nothing stale.
func TestLiveEqualsFresh(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	l0, l1, up := filepath.Join(dir, "l0"), filepath.Join(dir, "l1"), filepath.Join(dir, "up")
	for p, s := range map[string]string{"etc/hosts": "127.0.0.1\n", "etc/passwd": "root\n", "bin/sh": "sh", "bin/ls": "ls",
		"usr/share/doc/README": "read me", "usr/bin/env": "env", "opt/tool": "tool"} {
		write(t, filepath.Join(l0, p), s)
	}
	write(t, filepath.Join(l1, "app/main.py"), "print(1)\n")
	write(t, filepath.Join(up, "etc/resolv.conf"), "nameserver 1.1.1.1\n")
	write(t, filepath.Join(up, "opt/tool"), "tool2")
	lower := []string{l0, l1}
	s, err := layers.ReadStack(lower, up, []string{"l0", "l1"})
	must(t, err)
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := layers.WatchUpper(ctx, up, lower)
	must(t, err)

	// What a container does, in the overlayfs form of its upper dir.
	write(t, filepath.Join(up, "etc/passwd"), "root\n")                          // copied up, same content, touched: m
	must(t, os.Chtimes(filepath.Join(up, "etc/passwd"), time.Now(), time.Now())) //
	write(t, filepath.Join(up, "etc/hosts"), "127.0.0.1\n10.0.0.1 db\n")         // modified: ~
	must(t, os.MkdirAll(filepath.Join(up, "bin"), 0o755))                        //
	must(t, unix.Mknod(filepath.Join(up, "bin/sh"), unix.S_IFCHR, 0))            // rm /bin/sh: -
	must(t, unix.Mknod(filepath.Join(up, "etc/nothing"), unix.S_IFCHR, 0))       // a whiteout of nothing: W
	must(t, os.MkdirAll(filepath.Join(up, "usr/share/doc"), 0o755))              // the whiteouts rm -rf leaves…
	must(t, unix.Mknod(filepath.Join(up, "usr/share/doc/README"), unix.S_IFCHR, 0))
	time.Sleep(300 * time.Millisecond)
	must(t, os.RemoveAll(filepath.Join(up, "usr"))) // …then rm -rf /usr; mkdir /usr: O
	must(t, os.Mkdir(filepath.Join(up, "usr"), 0o755))
	must(t, unix.Setxattr(filepath.Join(up, "usr"), "trusted.overlay.opaque", []byte("y"), 0))
	write(t, filepath.Join(up, "usr/new"), "new")
	must(t, os.Remove(filepath.Join(up, "opt/tool"))) // gone from upper: the lower file shows again
	write(t, filepath.Join(up, "srv/www/index.html"), "<html>")

	snapshot := func(s layers.Stack) [2][]tree.Node {
		var out [2][]tree.Node
		s.Upper.Walk(func(n tree.Node) { out[0] = append(out[0], n) })
		s.Merged.Walk(func(n tree.Node) { out[1] = append(out[1], n) })
		return out
	}
	deadline := time.After(10 * time.Second)
	var diff string
	for {
		select {
		case nodes := <-ch:
			m, _ = m.Update(layers.EventsMsg{Nodes: nodes})
		case <-time.After(500 * time.Millisecond):
		case <-deadline:
			t.Fatalf("the live view never equalled a fresh one (-fresh +live):\n%s", diff)
		}
		fresh, err := layers.ReadStack(lower, up, []string{"l0", "l1"})
		must(t, err)
		if diff = cmp.Diff(snapshot(fresh), snapshot(s)); diff == "" {
			break
		}
	}
	_ = m.View()
}

// TestWatchUpperEndsWithContext checks that the stream closes once ctx
// ends, even when nobody reads the last batch.
func TestWatchUpperEndsWithContext(t *testing.T) {
	up := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := layers.WatchUpper(ctx, up, nil)
	must(t, err)
	write(t, filepath.Join(up, "f"), "x")
	time.Sleep(400 * time.Millisecond) // a batch waits to be read
	cancel()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the stream did not close after its context ended")
		}
	}
}

// TestReadStackUpper checks ReadStack on real layer directories: a
// whiteout and an opaque directory in the upper directory, a file copied
// up and one made new.
func TestReadStackUpper(t *testing.T) {
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
	s, err := layers.ReadStack([]string{l0, l1}, up, []string{"l0", "l1"})
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
