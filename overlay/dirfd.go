package overlay

import (
	"archive/tar"
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// maxOpenDirs is the number of directory descriptors kept open; trim
// closes the least recently used half beyond it.
const maxOpenDirs = 128

// nodeKind is what this unpack made at a path.
type nodeKind uint8

const (
	kindNone nodeKind = iota
	kindDir
	kindFile
	kindSymlink
	kindFifo
	kindWhiteout
)

// dirInfo is a directory this unpack made (or the target itself).
type dirInfo struct {
	fd       int // -1 while closed
	used     uint64
	children []string // paths made in it; may repeat or name removed ones
	gid      int      // its group, -1 when not known
	setgid   bool
	hasTimes bool
	times    [2]unix.Timespec
}

// dirFD returns an open descriptor of the directory p, which must be in
// u.dirs, opening it from its parent when it was closed.
func (u *unpacker) dirFD(p string) (int, error) {
	d := u.dirs[p]
	u.clock++
	d.used = u.clock
	if d.fd >= 0 {
		return d.fd, nil
	}
	pp, base := split(p)
	pfd, err := u.dirFD(pp)
	if err != nil {
		return -1, err
	}
	fd, err := openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	d.fd = fd
	u.open[p] = d
	return fd, nil
}

// trim closes the least recently used half of the directory descriptors when
// more than maxOpenDirs are open. It runs between entries only, when no
// descriptor is held across the call.
func (u *unpacker) trim() error {
	if len(u.open) <= maxOpenDirs {
		return nil
	}
	u.tmp = u.tmp[:0]
	for p := range u.open {
		if p != "." {
			u.tmp = append(u.tmp, p)
		}
	}
	slices.SortFunc(u.tmp, func(a, b string) int { return cmp.Compare(u.open[a].used, u.open[b].used) })
	var errs []error
	for _, p := range u.tmp[:len(u.tmp)-maxOpenDirs/2] {
		d := u.open[p]
		if err := unix.Close(d.fd); err != nil {
			errs = append(errs, fmt.Errorf("close directory %q: %w", p, err))
		}
		d.fd = -1
		delete(u.open, p)
	}
	return errors.Join(errs...)
}

// addNode records what was made at p; isNew says p was free before.
func (u *unpacker) addNode(p string, k nodeKind, isNew bool) {
	u.nodes[p] = k
	pp, _ := split(p)
	parent := u.dirs[pp]
	if k == kindDir {
		// mkdir(2) in a setgid directory passes the bit on.
		u.dirs[p] = &dirInfo{fd: -1, gid: u.newGid(parent), setgid: parent.setgid}
	}
	if isNew {
		parent.children = append(parent.children, p)
	}
}

// newGid is the group of an inode this process makes in parent, or -1 when
// it depends on the filesystem: a setgid parent gives its own group; else the
// creator's group, unless the filesystem is mounted with grpid (ext4(5)),
// which gives the parent's group. Both agree when the two are the same.
func (u *unpacker) newGid(parent *dirInfo) int {
	if parent.setgid || parent.gid == u.gid {
		return parent.gid
	}
	return -1
}

// needChown reports whether an inode just made in parent must be chowned to
// the header's owner. Skipping the call when it would change nothing saves
// one system call in six for a layer of files owned by root.
func (u *unpacker) needChown(parent *dirInfo, hdr *tar.Header) bool {
	if !u.chown {
		return false
	}
	return hdr.Uid != u.uid || hdr.Gid != u.newGid(parent)
}

// forget drops p, and everything beneath it when it is a directory, from the
// records, closing descriptors.
func (u *unpacker) forget(p string) {
	if d, ok := u.dirs[p]; ok {
		for _, c := range d.children {
			u.forget(c)
		}
		if d.fd >= 0 {
			unix.Close(d.fd) // a directory opened read-only: nothing to flush
			delete(u.open, p)
		}
		delete(u.dirs, p)
	}
	delete(u.nodes, p)
}

// dirAt returns a descriptor of the directory p for an entry to be made in
// it, making p (mode 0755) when the tar has not listed it yet.
func (u *unpacker) dirAt(p string) (int, error) {
	k := u.nodes[p]
	switch {
	case p == "." || k == kindDir:
		return u.dirFD(p)
	case k == kindSymlink:
		return -1, kindErrorf(ErrUnsafePath, "parent %q is a symlink", p)
	case k != kindNone && k != kindWhiteout:
		return -1, kindErrorf(ErrUnsafePath, "parent %q is not a directory", p)
	}
	pp, base := split(p)
	pfd, err := u.dirAt(pp)
	if err != nil {
		return -1, err
	}
	if k == kindWhiteout {
		// The layer deletes a lower p and makes a new one: an opaque directory.
		if err := unlinkat(pfd, base, 0); err != nil {
			return -1, err
		}
	}
	if err := mkdirat(pfd, base, 0o755); err != nil {
		return -1, err
	}
	u.addNode(p, kindDir, k == kindNone)
	fd, err := u.dirFD(p)
	if err != nil {
		return -1, err
	}
	if err := fchmod(fd, base, 0o755); err != nil {
		return -1, err
	}
	u.dirs[p].setgid = false
	if k == kindWhiteout {
		return fd, setOpaque(fd)
	}
	return fd, nil
}

// prepare returns the parent descriptor and base name for an entry at p,
// removing what an earlier entry made at p unless both are directories. It
// returns what was at p.
func (u *unpacker) prepare(p string, isDir bool) (int, string, nodeKind, error) {
	pp, base := split(p)
	pfd, err := u.dirAt(pp)
	if err != nil {
		return -1, "", kindNone, err
	}
	had := u.nodes[p]
	switch {
	case had == kindNone || had == kindDir && isDir:
	case had == kindDir:
		if u.root == nil {
			if u.root, err = os.OpenRoot(u.target); err != nil {
				return -1, "", had, fmt.Errorf("replace directory: %w", err)
			}
		}
		if err := u.root.RemoveAll(p); err != nil {
			return -1, "", had, fmt.Errorf("replace directory: %w", err)
		}
		u.forget(p)
	default:
		if err := unlinkat(pfd, base, 0); err != nil {
			return -1, "", had, err
		}
		delete(u.nodes, p)
	}
	return pfd, base, had, nil
}
