package overlay

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// A layer fixture is a list of operations applied, in order, to an empty
// directory, making the overlayfs form of a layer in code (no literal
// whiteouts are committed).
type layerOp struct {
	kind  opKind
	path  string
	data  string // file content, symlink or hardlink target, redirect
	mode  os.FileMode
	uid   int
	mtime int64 // seconds; 0 for a fixed default
}

type opKind int

const (
	opFile      opKind = iota // regular file with data
	opDir                     // directory
	opSymlink                 // symlink to data
	opHardlink                // hardlink to data (a path in the same layer)
	opWhiteout                // character device 0:0
	opOpaque                  // trusted.overlay.opaque=y on a directory (made if missing)
	opXWhiteout               // zero-size file with trusted.overlay.whiteout, parent marked opaque=x
	opRedirect                // trusted.overlay.redirect=data on a directory (made if missing)
	opFifo                    // named pipe
)

func file(p, data string) layerOp       { return layerOp{kind: opFile, path: p, data: data, mode: 0o644} }
func dir(p string) layerOp              { return layerOp{kind: opDir, path: p, mode: 0o755} }
func symlink(p, target string) layerOp  { return layerOp{kind: opSymlink, path: p, data: target} }
func hardlink(p, target string) layerOp { return layerOp{kind: opHardlink, path: p, data: target} }
func whiteout(p string) layerOp         { return layerOp{kind: opWhiteout, path: p} }
func opaque(p string) layerOp           { return layerOp{kind: opOpaque, path: p, mode: 0o755} }
func xwhiteout(p string) layerOp        { return layerOp{kind: opXWhiteout, path: p} }
func redirect(p, target string) layerOp {
	return layerOp{kind: opRedirect, path: p, data: target, mode: 0o755}
}
func (o layerOp) withMode(m os.FileMode) layerOp { o.mode = m; return o }

const fixtureTime = 1_700_000_000

// buildLayer applies ops in the directory root.
func buildLayer(root string, ops []layerOp) error {
	for _, o := range ops {
		if err := applyOp(root, o); err != nil {
			return fmt.Errorf("%v %q: %w", o.kind, o.path, err)
		}
	}
	return nil
}

func applyOp(root string, o layerOp) error {
	p := filepath.Join(root, o.path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	mt := o.mtime
	if mt == 0 {
		mt = fixtureTime
	}
	ts := []unix.Timespec{{Sec: mt}, {Sec: mt}}
	switch o.kind {
	case opFile:
		if err := os.WriteFile(p, []byte(o.data), o.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, o.mode); err != nil {
			return err
		}
	case opDir, opOpaque, opRedirect:
		if err := os.Mkdir(p, o.mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		switch o.kind {
		case opOpaque:
			if err := unix.Setxattr(p, opaqueXattr, []byte("y"), 0); err != nil {
				return err
			}
		case opRedirect:
			if err := unix.Setxattr(p, xattrRedirect, []byte(o.data), 0); err != nil {
				return err
			}
		}
	case opSymlink:
		if err := os.Symlink(o.data, p); err != nil {
			return err
		}
	case opHardlink:
		return os.Link(filepath.Join(root, o.data), p)
	case opWhiteout:
		if err := unix.Mknod(p, unix.S_IFCHR, 0); err != nil {
			return err
		}
	case opXWhiteout:
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return err
		}
		if err := unix.Setxattr(p, xattrWhiteout, []byte(""), 0); err != nil {
			return err
		}
		if err := unix.Setxattr(filepath.Dir(p), opaqueXattr, []byte("x"), 0); err != nil {
			return err
		}
	case opFifo:
		if err := unix.Mkfifo(p, 0o644); err != nil {
			return err
		}
	}
	if o.uid != 0 {
		if err := os.Lchown(p, o.uid, o.uid); err != nil {
			return err
		}
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func (k opKind) String() string {
	return [...]string{"file", "dir", "symlink", "hardlink", "whiteout", "opaque", "xwhiteout", "redirect", "fifo"}[k]
}

// buildStack makes one directory per layer under base and reads each.
func buildStack(tb testing.TB, base string, layers [][]layerOp) ([]string, []*Tree) {
	tb.Helper()
	var dirs []string
	var trees []*Tree
	for i, ops := range layers {
		d := filepath.Join(base, fmt.Sprintf("l%d", i))
		if err := os.Mkdir(d, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := buildLayer(d, ops); err != nil {
			tb.Fatalf("layer %d: %v", i, err)
		}
		t, err := ReadDir(d)
		if err != nil {
			tb.Fatal(err)
		}
		dirs = append(dirs, d)
		trees = append(trees, t)
	}
	return dirs, trees
}

// mountLowers mounts dirs (bottom first) read-only with overlayfs at a new
// directory under base and unmounts it when the test ends.
func mountLowers(tb testing.TB, base string, dirs []string) string {
	tb.Helper()
	mnt := filepath.Join(base, "merged")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		tb.Fatal(err)
	}
	lower := slices.Clone(dirs)
	slices.Reverse(lower)
	if len(lower) == 1 {
		// Without an upper layer overlayfs wants two lower layers: add an
		// empty one at the bottom, which changes nothing in the view.
		empty := filepath.Join(base, "empty")
		if err := os.Mkdir(empty, 0o755); err != nil {
			tb.Fatal(err)
		}
		lower = append(lower, empty)
	}
	opts := "lowerdir=" + strings.Join(lower, ":")
	if err := unix.Mount("overlay", mnt, "overlay", unix.MS_RDONLY, opts); err != nil {
		tb.Fatalf("mount overlay on %s (MS_RDONLY) %s: %v", mnt, opts, err)
	}
	tb.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			tb.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

// seen is what one path looks like, for comparing views.
type seen struct {
	Type   string
	Perm   fs.FileMode
	UID    uint32
	Size   int64 // regular files only
	Link   string
	SHA256 string // regular files only
}

// kernelView walks a mounted view.
func kernelView(tb testing.TB, root string) map[string]seen {
	tb.Helper()
	out := map[string]seen{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			if errors.Is(err, unix.ENOENT) {
				// readdir of a directory that is not merged lists the
				// underlying directory as it is, whiteouts included,
				// though looking one up finds nothing: not in the view.
				return nil
			}
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		s := seen{Type: typeName(modeFromUnix(st.Mode)), Perm: modeFromUnix(st.Mode) &^ fs.ModeType, UID: st.Uid}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			s.Size = st.Size
			s.SHA256 = sha(tb, p)
		case unix.S_IFLNK:
			s.Link, _ = os.Readlink(p)
		}
		out[rel] = s
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// userView walks a Merged view; file content comes from the layer that
// holds the data.
func userView(tb testing.TB, m *Merged) map[string]seen {
	tb.Helper()
	out := map[string]seen{}
	err := m.Walk(func(e Entry) error {
		n := e.Node
		s := seen{Type: typeName(n.Mode), Perm: n.Mode &^ fs.ModeType, UID: n.UID}
		switch {
		case n.Mode.IsRegular():
			s.Size = n.Size
			s.SHA256 = sha(tb, filepath.Join(m.Layers()[e.DataLayer].Dir(), e.DataPath))
		case n.Mode&fs.ModeSymlink != 0:
			s.Link = n.Link
		}
		out[e.Path] = s
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func typeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "dir"
	case m.IsRegular():
		return "file"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeCharDevice != 0:
		return "char"
	}
	return m.Type().String()
}

func sha(tb testing.TB, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatalf("read %s: %v", p, err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// requireOverlayRoot skips (or in CI fails) without root, and checks the
// mount table is left as found.
func requireOverlayRoot(tb testing.TB) {
	tb.Helper()
	testutil.RequireRoot(tb)
	testutil.CheckMounts(tb)
}

func mkdirFuzz(p string) error { return os.Mkdir(p, 0o755) }
