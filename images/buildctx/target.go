package buildctx

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// target is the root filesystem a copy writes into.
//
// How a destination stays inside it: the in-container path is first
// resolved with securejoin.SecureJoin, which follows its symlinks as if the
// root were / (a link to /etc leads to root/etc, a ".." stops at the root, a
// dangling link leads to where it points, to be made), as docker's
// FollowSymlinkInScope does. The result is then walked from an open
// descriptor of the root one component at a time with O_NOFOLLOW, making
// what is missing with mkdirat: a symlink put in the way meanwhile makes
// the walk fail, never leave the root. Walking by hand rather than with
// pathrs.MkdirAllHandle tells which directories this copy made, which take
// the --chown owner as docker gives it to them.
type target struct {
	dir  string // absolute, symlinks resolved
	root *os.File
}

func openTarget(dir string) (*target, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", human.Visible(dir), err)
	}
	f, err := os.OpenFile(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", human.Visible(dir), err)
	}
	return &target{dir: abs, root: f}, nil
}

func (t *target) close() error { return t.root.Close() }

// resolve returns where the in-container path dest leads inside the root,
// relative to it ("." for the root).
func (t *target) resolve(dest string) (string, error) {
	p, err := securejoin.SecureJoin(t.dir, dest)
	if err != nil {
		return "", fmt.Errorf("destination %s: %w", quote(dest), err)
	}
	rel, err := filepath.Rel(t.dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("destination %s: resolved outside the root", quote(dest))
	}
	return rel, nil
}

// walk opens the directory rel (resolved, relative to the root) one
// component at a time. With create set, what is missing is made (0755, owned
// by o); without it, a missing component or one that is not a directory
// gives a nil file and no error.
func (t *target) walk(rel string, create bool, o owner) (*os.File, error) {
	cur, err := openDirAt(int(t.root.Fd()), ".", "/")
	if err != nil {
		return nil, err
	}
	at := ""
	for _, comp := range splitRel(rel) {
		at += "/" + comp
		next, err := t.step(cur, comp, at, create, o)
		cur.Close()
		if next == nil || err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// step opens the directory comp in cur, making it when missing and create is
// set.
func (t *target) step(cur *os.File, comp, at string, create bool, o owner) (*os.File, error) {
	dirfd := int(cur.Fd())
	var st unix.Stat_t
	ok, err := exists(dirfd, comp, &st, at)
	if err != nil {
		return nil, err
	}
	switch {
	case !ok && !create:
		return nil, nil
	case !ok:
		if err := mkdirat(dirfd, comp, 0o755, at); err != nil {
			return nil, err
		}
		f, err := openDirAt(dirfd, comp, at)
		if err != nil {
			return nil, err
		}
		if err := lchownat(dirfd, comp, o.uid, o.gid, at); err == nil {
			err = fchmod(f, 0o755, at) // whatever the umask
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		if !create {
			return nil, nil
		}
		return nil, fmt.Errorf("cannot copy to non-directory: %s", human.Visible(at))
	}
	return openDirAt(dirfd, comp, at)
}

// openDir opens the directory rel, or returns nil when it is missing or
// not a directory.
func (t *target) openDir(rel string) (*os.File, error) {
	return t.walk(rel, false, owner{})
}

// mkdirAll opens the directory rel, making what is missing of it.
func (t *target) mkdirAll(rel string, o owner) (*os.File, error) {
	return t.walk(rel, true, o)
}

// linkTo makes name in dirfd a hard link of the file open (O_PATH) as
// first, through its /proc/self/fd name, which needs no capability that
// linkat's AT_EMPTY_PATH does.
func linkTo(first *os.File, dirfd int, name, at string) error {
	old := "/proc/self/fd/" + strconv.Itoa(int(first.Fd()))
	err := retry(func() error { return unix.Linkat(unix.AT_FDCWD, old, dirfd, name, unix.AT_SYMLINK_FOLLOW) })
	if err != nil {
		return sysErr("linkat", at, "", err)
	}
	return nil
}

// fchmodat sets the mode of name in dirfd, a node this copy has just made.
func fchmodat(dirfd int, name string, mode uint32, at string) error {
	if err := retry(func() error { return unix.Fchmodat(dirfd, name, mode&0o7777, 0) }); err != nil {
		return sysErr("chmod", at, fmt.Sprintf("%#o", mode&0o7777), err)
	}
	return nil
}
