package lesson

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The xattrs by which the kernel marks an upper directory's entries
// (Documentation/filesystems/overlayfs.rst).
const (
	xattrOpaque   = "trusted.overlay.opaque"
	xattrWhiteout = "trusted.overlay.whiteout"
	xattrRedirect = "trusted.overlay.redirect"
)

// maxRead is the most of a file a contains or same-as-lower check reads.
const maxRead = 8 << 20

// view is one place a check looks at, by relative path ("" for its root).
// lstat reports fs.ErrNotExist when the place shows nothing at the path.
type view interface {
	lstat(rel string) (fs.FileInfo, error)
	readFile(rel string) ([]byte, error)
	readDir(rel string) ([]string, error)
	readlink(rel string) (string, error)
	// xattr is the value of an extended attribute of the entry, "" when
	// it has none; only the directories of layers have the kernel's.
	xattr(rel, name string) string
}

// layersView is the lower layers merged by the kernel's rules, or one
// upper directory alone (a stack of one): the layer directories, bottom
// first. It never follows a symbolic link: a path that goes through one
// shows nothing, as a layer holds it.
type layersView struct{ dirs []string }

// reach is what a layer holds on the way to a path.
type reach struct {
	absent  bool // a directory on the way is missing: nothing here
	blocked bool // a whiteout or a non-directory on the way hides the layers below
	opaque  bool // an opaque directory on the way: no layer below counts
}

// walkTo looks at the directories on the way to rel in the layer dir.
func walkTo(dir, rel string) (reach, error) {
	var r reach
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		p := filepath.Join(dir, filepath.Join(parts[:i]...))
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			r.absent = true
			return r, nil
		case err != nil:
			return r, err
		case isWhiteout(p, fi) || !fi.IsDir():
			r.blocked = true
			return r, nil
		}
		if getxattr(p, xattrOpaque) == "y" {
			r.opaque = true
		}
	}
	return r, nil
}

// showing returns the layer directories that show something at rel, top
// first: the first holds the entry itself; those after it add entries
// beneath a directory that is not opaque. A whiteout at rel hides it.
func (v layersView) showing(rel string) ([]string, error) {
	var out []string
	for i := len(v.dirs) - 1; i >= 0; i-- {
		d := v.dirs[i]
		r, err := walkTo(d, rel)
		if err != nil {
			return nil, err
		}
		if r.blocked {
			break
		}
		if !r.absent {
			p := filepath.Join(d, rel)
			fi, err := os.Lstat(p)
			switch {
			case err == nil && isWhiteout(p, fi) && len(v.dirs) > 1:
				return out, nil
			case err == nil:
				if len(out) > 0 && !fi.IsDir() {
					return out, nil // a directory above hides a non-directory
				}
				out = append(out, d)
				if !fi.IsDir() || getxattr(p, xattrOpaque) == "y" || len(v.dirs) == 1 {
					return out, nil
				}
			case !errors.Is(err, fs.ErrNotExist):
				return nil, err
			}
		}
		if r.opaque {
			break
		}
	}
	return out, nil
}

func (v layersView) top(rel string) (string, error) {
	ds, err := v.showing(rel)
	if err != nil {
		return "", err
	}
	if len(ds) == 0 {
		return "", fs.ErrNotExist
	}
	return filepath.Join(ds[0], rel), nil
}

func (v layersView) lstat(rel string) (fs.FileInfo, error) {
	p, err := v.top(rel)
	if err != nil {
		return nil, err
	}
	return os.Lstat(p)
}

func (v layersView) readFile(rel string) ([]byte, error) {
	p, err := v.top(rel)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxRead))
}

func (v layersView) readlink(rel string) (string, error) {
	p, err := v.top(rel)
	if err != nil {
		return "", err
	}
	return os.Readlink(p)
}

func (v layersView) xattr(rel, name string) string {
	p, err := v.top(rel)
	if err != nil {
		return ""
	}
	return getxattr(p, name)
}

// readDir lists a directory as the layers merged show it: every name of
// every layer that shows the directory, less those a whiteout hides. A
// single directory (an upper one) lists its whiteouts as entries.
func (v layersView) readDir(rel string) ([]string, error) {
	ds, err := v.showing(rel)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, fs.ErrNotExist
	}
	hidden, seen := map[string]bool{}, map[string]bool{}
	for _, d := range ds {
		dir := filepath.Join(d, rel)
		names, err := readNames(dir)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			p := filepath.Join(dir, n)
			if fi, err := os.Lstat(p); err == nil && isWhiteout(p, fi) && len(v.dirs) > 1 {
				hidden[n] = true
			} else if !hidden[n] {
				seen[n] = true
			}
		}
	}
	return sortedKeys(seen), nil
}

// rootView is a directory tree seen as a process would see it: the
// container's root (/proc/PID/root, symbolic links resolved inside it,
// mounts crossed) or a volume's directory.
type rootView struct{ r *os.Root }

func (v rootView) lstat(rel string) (fs.FileInfo, error) { return v.r.Lstat(orDot(rel)) }

func (v rootView) readFile(rel string) ([]byte, error) {
	f, err := v.r.OpenFile(orDot(rel), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxRead))
}

func (v rootView) readDir(rel string) ([]string, error) {
	f, err := v.r.Open(orDot(rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}

func (v rootView) readlink(rel string) (string, error) { return v.r.Readlink(orDot(rel)) }
func (v rootView) xattr(string, string) string         { return "" }

func orDot(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

// isWhiteout reports whether the entry at p is an overlay whiteout: a
// character device 0:0, or an empty file carrying trusted.overlay.whiteout.
func isWhiteout(p string, fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice != 0 {
		st, ok := fi.Sys().(*syscall.Stat_t)
		return ok && st.Rdev == 0
	}
	if !fi.Mode().IsRegular() || fi.Size() != 0 {
		return false
	}
	_, ok := lgetxattr(p, xattrWhiteout)
	return ok
}

// getxattr returns an xattr of p, not following a symlink; "" when p has
// none.
func getxattr(p, name string) string {
	v, _ := lgetxattr(p, name)
	return v
}

// lgetxattr returns an xattr of p and whether p has it.
func lgetxattr(p, name string) (string, bool) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, name, buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// describe says in a few words what a view shows at rel: "nothing",
// "a whiteout (c 0:0)", "a file of 34 B, mode 0644, 1 link".
func describe(v view, rel string) string {
	fi, err := v.lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return "nothing"
	case err != nil:
		return "unreadable: " + err.Error()
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	var nlink uint64
	var perm uint32
	if st != nil {
		nlink, perm = uint64(st.Nlink), st.Mode&0o7777
	}
	switch {
	case fi.Mode()&fs.ModeCharDevice != 0 && st != nil && st.Rdev == 0:
		return "a whiteout (c 0:0)"
	case fi.Mode().IsRegular():
		s := fmt.Sprintf("a file of %d B, mode %04o", fi.Size(), perm)
		if nlink > 1 {
			s += fmt.Sprintf(", %d links", nlink)
		}
		return s
	case fi.IsDir():
		if v.xattr(rel, xattrOpaque) == "y" {
			return "an opaque directory"
		}
		return fmt.Sprintf("a directory, mode %04o", perm)
	case fi.Mode()&fs.ModeSymlink != 0:
		t, _ := v.readlink(rel)
		return "a symlink to " + t
	}
	return "a " + fi.Mode().Type().String() + " entry"
}
