package overlay

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// TestPackRoundTrip changes a real overlay mount as a user would, packs its
// upper directory, unpacks the tar, and checks both that the unpacked layer
// is the upper directory again and that the lower layer with it shows the
// same merged tree as the original mount.
func TestPackRoundTrip(t *testing.T) {
	requireOverlayRoot(t)
	base := t.TempDir()
	lower := filepath.Join(base, "lower")
	if err := os.Mkdir(lower, 0o755); err != nil {
		t.Fatal(err)
	}
	err := buildLayer(lower, []layerOp{
		file("etc/a", "alpha"), file("etc/b", "beta"), file("etc/gone", "g"), file("etc/gone2", "g2"),
		file("d/x", "x"), file("d/y/z", "z"), file("usr/bin/tool", "tool").withMode(0o755),
		file("keep/k", "k"), dir("srv"),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Lower: []string{lower}, Upper: filepath.Join(base, "upper"), Work: filepath.Join(base, "work"), Target: filepath.Join(base, "merged")}
	for _, d := range []string{s.Upper, s.Work, s.Target} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Mount(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(s.Target, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			t.Errorf("unmount %s: %v", s.Target, err)
		}
	})
	changeMerged(t, s.Target)
	before := kernelView(t, s.Target)
	if err := unix.Unmount(s.Target, 0); err != nil {
		t.Fatal(err)
	}

	tarball, stats := packBytes(t, s.Upper, PackOptions{Lower: s.Lower})
	if again, _ := packBytes(t, s.Upper, PackOptions{Lower: s.Lower}); !bytes.Equal(tarball, again) {
		t.Error("two packs of the same upper directory differ")
	}
	want := PackStats{Whiteouts: 2, Opaques: 1, Hardlinks: 2, Symlinks: 1, Specials: 1}
	got := PackStats{Whiteouts: stats.Whiteouts, Opaques: stats.Opaques, Hardlinks: stats.Hardlinks, Symlinks: stats.Symlinks, Specials: stats.Specials}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	var gone, gone2 unix.Stat_t
	unix.Lstat(filepath.Join(s.Upper, "etc/gone"), &gone)
	unix.Lstat(filepath.Join(s.Upper, "etc/gone2"), &gone2)
	t.Logf("the upper's whiteouts share an inode: %v (nlink %d)", gone.Ino == gone2.Ino, gone.Nlink)

	unpacked := filepath.Join(base, "unpacked")
	if err := os.Mkdir(unpacked, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Unpack(bytes.NewReader(tarball), unpacked, UnpackOptions{}); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	if diff := cmp.Diff(layerForm(t, s.Upper), layerForm(t, unpacked)); diff != "" {
		t.Errorf("unpacked layer differs from the upper directory (-upper +unpacked):\n%s", diff)
	}
	if diff := cmp.Diff(mtimes(t, s.Upper), mtimes(t, unpacked)); diff != "" {
		t.Errorf("modification times (-upper +unpacked):\n%s", diff)
	}

	view := filepath.Join(base, "view")
	if err := os.Mkdir(view, 0o755); err != nil {
		t.Fatal(err)
	}
	after := kernelView(t, mountLowers(t, view, []string{lower, unpacked}))
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("merged tree of lower+unpacked differs from the container's (-container +unpacked):\n%s", diff)
	}
}

// changeMerged makes, in the merged directory m, the changes a user of a
// container makes.
func changeMerged(t *testing.T, m string) {
	t.Helper()
	at := func(p string) string { return filepath.Join(m, p) }
	capV2 := []byte{0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // cap_net_bind_service=p
	steps := []struct {
		what string
		do   func() error
	}{
		{"new file", func() error { return os.WriteFile(at("new.txt"), []byte("new"), 0o644) }},
		{"chown", func() error { return os.Chown(at("new.txt"), 1000, 1000) }},
		{"user xattr", func() error { return unix.Setxattr(at("new.txt"), "user.note", []byte("hello"), 0) }},
		{"capability", func() error { return unix.Setxattr(at("new.txt"), "security.capability", capV2, 0) }},
		{"append", func() error {
			f, err := os.OpenFile(at("etc/b"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString(" more")
			return errors.Join(err, f.Close())
		}},
		{"rm", func() error { return os.Remove(at("etc/gone")) }},
		{"rm another", func() error { return os.Remove(at("etc/gone2")) }},
		{"rm -rf d", func() error { return os.RemoveAll(at("d")) }},
		{"mkdir d", func() error { return os.Mkdir(at("d"), 0o750) }},
		{"file in new d", func() error { return os.WriteFile(at("d/fresh"), []byte("fresh"), 0o600) }},
		{"hard link new files", func() error {
			return errors.Join(os.WriteFile(at("h1"), []byte("linked"), 0o644), os.Link(at("h1"), at("h2")))
		}},
		{"hard link a lower file", func() error { return os.Link(at("etc/a"), at("etc/a2")) }},
		{"chmod setuid", func() error { return os.Chmod(at("usr/bin/tool"), 0o755|os.ModeSetuid) }},
		{"symlink", func() error { return os.Symlink("etc/a", at("lnk")) }},
		{"mkdir nested", func() error { return os.MkdirAll(at("n1/n2/n3"), 0o755) }},
		{"file nested", func() error { return os.WriteFile(at("n1/n2/n3/deep"), []byte("deep"), 0o644) }},
		{"sticky dir", func() error {
			return errors.Join(os.Mkdir(at("srv/tmp"), 0o777), os.Chmod(at("srv/tmp"), 0o777|os.ModeSticky))
		}},
		{"fifo", func() error { return unix.Mkfifo(at("pipe"), 0o644) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
	}
}

// layerForm describes a layer directory as describe does, without its root
// and without the overlay xattrs that do not change what it means.
func layerForm(t *testing.T, dir string) map[string]node {
	t.Helper()
	tree := describe(t, dir)
	delete(tree, ".")
	for p, n := range tree {
		for k, v := range n.Xattrs {
			if strings.HasPrefix(k, "trusted.overlay.") && !(k == opaqueXattr && v == "y") {
				delete(n.Xattrs, k)
			}
		}
		if len(n.Xattrs) == 0 {
			n.Xattrs = nil
		}
		tree[p] = n
	}
	return tree
}

// mtimes lists the modification times, in seconds, of a layer directory's
// paths but its root and whiteouts (Unpack makes those anew).
func mtimes(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	tree, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	err = tree.Walk(func(p string, n Node) error {
		if p != "/" && !n.Whiteout {
			out[p] = n.ModTime.Unix()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
