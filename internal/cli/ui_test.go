package main

import (
	"context"
	"os"
	"path/filepath"
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
	if code, _, errs := cli(t, root, "image", "create-base"); code != 0 {
		t.Fatal(errs)
	}
	a := &app{root: root}
	s, err := a.images()
	if err != nil {
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
	if got, want := list[0].Size, unpackedSize(s, img); got != want {
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
