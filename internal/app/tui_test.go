package app

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

// TestUIImageSize checks that the UI shows an image's size as "images"
// does: its layers uncompressed, as docker does, not the blobs' size.
func TestUIImageSize(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	a := New(root)
	s, err := a.Images()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBase(); err != nil {
		t.Fatal(err)
	}
	list, err := uiImages{s}.Images()
	if err != nil || len(list) != 1 {
		t.Fatalf("images: %v, %v", list, err)
	}
	img, err := s.Get(list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Size(img)
	if err != nil {
		t.Fatal(err)
	}
	if got := list[0].Size; got != want {
		t.Errorf("UI image size %d, images shows %d (the compressed size is %d)", got, want, img.Size())
	}
	var sum int64
	for _, l := range list[0].Layers {
		sum += l.Size
	}
	if list[0].Size != sum {
		t.Errorf("UI image size %d is not the sum of its layers' sizes %d", list[0].Size, sum)
	}
}

// TestUILiveEqualsFresh changes an upper directory while the layer view
// follows it through the watcher, and checks that the view ends as a fresh
// read of the same directories makes it: the same kinds (^ m ~ + - W O),
// the same whiteouts and opaque directories, nothing stale.
func TestUILiveEqualsFresh(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	l0, l1, up := filepath.Join(dir, "l0"), filepath.Join(dir, "l1"), filepath.Join(dir, "up")
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(p, s string) {
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
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for p, s := range map[string]string{"etc/hosts": "127.0.0.1\n", "etc/passwd": "root\n", "bin/sh": "sh", "bin/ls": "ls",
		"usr/share/doc/README": "read me", "usr/bin/env": "env", "opt/tool": "tool"} {
		write(filepath.Join(l0, p), s)
	}
	write(filepath.Join(l1, "app/main.py"), "print(1)\n")
	write(filepath.Join(up, "etc/resolv.conf"), "nameserver 1.1.1.1\n")
	write(filepath.Join(up, "opt/tool"), "tool2")
	lower := []string{l0, l1}
	s, err := stackOf(lower, up, []string{"l0", "l1"})
	must(err)
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs, err := overlay.Watch(ctx, up)
	must(err)
	ch := watchNodes(up, lower, evs)

	// What a container does, in the overlayfs form of its upper dir.
	write(filepath.Join(up, "etc/passwd"), "root\n")                          // copied up, same content, touched: m
	must(os.Chtimes(filepath.Join(up, "etc/passwd"), time.Now(), time.Now())) //
	write(filepath.Join(up, "etc/hosts"), "127.0.0.1\n10.0.0.1 db\n")         // modified: ~
	must(os.MkdirAll(filepath.Join(up, "bin"), 0o755))                        //
	must(unix.Mknod(filepath.Join(up, "bin/sh"), unix.S_IFCHR, 0))            // rm /bin/sh: -
	must(unix.Mknod(filepath.Join(up, "etc/nothing"), unix.S_IFCHR, 0))       // a whiteout of nothing: W
	must(os.MkdirAll(filepath.Join(up, "usr/share/doc"), 0o755))              // the whiteouts rm -rf leaves…
	must(unix.Mknod(filepath.Join(up, "usr/share/doc/README"), unix.S_IFCHR, 0))
	time.Sleep(300 * time.Millisecond)
	must(os.RemoveAll(filepath.Join(up, "usr"))) // …then rm -rf /usr; mkdir /usr: O
	must(os.Mkdir(filepath.Join(up, "usr"), 0o755))
	must(unix.Setxattr(filepath.Join(up, "usr"), "trusted.overlay.opaque", []byte("y"), 0))
	write(filepath.Join(up, "usr/new"), "new")
	must(os.Remove(filepath.Join(up, "opt/tool"))) // gone from upper: the lower file shows again
	write(filepath.Join(up, "srv/www/index.html"), "<html>")

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
		fresh, err := stackOf(lower, up, []string{"l0", "l1"})
		must(err)
		if diff = cmp.Diff(snapshot(fresh), snapshot(s)); diff == "" {
			break
		}
	}
	_ = m.View()
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
