package overlay

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// mountRole is what a path is to the engine's mount points.
type mountRole uint8

const (
	mountPoint    mountRole = 1 << iota // the engine mounted on the path
	mountAncestor                       // a mount point is beneath the path
)

// mountRoles maps the paths of the mount points given as absolute
// in-container paths, and of the directories above them, without the
// leading "/", to their roles.
func mountRoles(points []string) map[string]mountRole {
	roles := map[string]mountRole{}
	for _, m := range points {
		rel := normPath(m)
		if rel == "" {
			continue
		}
		roles[rel] |= mountPoint
		for d, _ := splitPath(rel); d != ""; d, _ = splitPath(d) {
			roles[d] |= mountAncestor
		}
	}
	return roles
}

// engineMade reports whether the upper directory rel, open as fd, is one the
// engine made to mount on, or to hold a mount point: the lower layers lack
// its path, and everything it holds is left out too (a file at a mount
// point, or a directory the engine made). A whiteout, or anything at a path
// that is not a mount point or beneath one, is the container's own change
// and keeps the directory.
func (p *packer) engineMade(fd int, rel string) (bool, error) {
	if lt, _, err := lowerEntry(p.opts.Lower, rel); err != nil || lt != nil {
		return false, err
	}
	// A descriptor of its own: reading the entries through fd would move
	// the offset that packing them reads from afterwards.
	dfd, err := openat(fd, ".", packDirFlags, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(dfd)
	ents, err := p.readNames(dfd)
	if err != nil {
		return false, fmt.Errorf("read directory %q: %w", "/"+rel, err)
	}
	for _, e := range ents {
		crel := joinRel(rel, e.name)
		role := p.mounts[crel]
		if role == 0 {
			return false, nil
		}
		var st unix.Stat_t
		if err := unix.Fstatat(dfd, e.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return false, fmt.Errorf("stat %q: %w", "/"+crel, err)
		}
		switch {
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			cfd, err := openat(dfd, e.name, packDirFlags, 0)
			if err != nil {
				return false, err
			}
			made, err := p.engineMade(cfd, crel)
			unix.Close(cfd)
			if err != nil || !made {
				return false, err
			}
		case st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0:
			return false, nil
		case role&mountPoint == 0:
			return false, nil
		}
	}
	return true, nil
}
