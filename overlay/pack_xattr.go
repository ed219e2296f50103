package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// packXattrs is what the xattrs of an upper entry say to Pack.
type packXattrs struct {
	pax      map[string]string // the xattrs kept, as PAX records; nil for none
	opaque   bool              // trusted.overlay.opaque=y
	whiteout bool              // trusted.overlay.whiteout is set
	redirect bool              // trusted.overlay.redirect is set
	metacopy bool              // trusted.overlay.metacopy is set
}

// keptXattr reports whether Pack writes the xattr name into a layer: the
// names Unpack accepts (checkHeader), user.*, security.* and the POSIX ACLs.
// Every trusted.* xattr stays behind, trusted.overlay.* above all: a layer
// that carried them would tell the kernel where lower files were.
func keptXattr(name string) bool {
	return strings.HasPrefix(name, "user.") || strings.HasPrefix(name, "security.") ||
		name == "system.posix_acl_access" || name == "system.posix_acl_default"
}

// xattrsAt reads the xattrs of name in dirfd, through fd when it is open
// (>= 0). Without a descriptor (symlinks, devices, fifos) the path goes
// through /proc/self/fd/DIRFD, which names the directory already open, and
// the l* calls follow no symlink at name.
func (p *packer) xattrsAt(dirfd, fd int, name string) (packXattrs, error) {
	if fd >= 0 {
		return p.xattrs(fd, "")
	}
	return p.xattrs(-1, "/proc/self/fd/"+strconv.Itoa(dirfd)+"/"+name)
}

// xattrs reads the xattrs of the file open as fd, or when fd < 0 of path.
func (p *packer) xattrs(fd int, path string) (packXattrs, error) {
	var x packXattrs
	n, err := listXattrs(fd, path, p.xnames)
	if errors.Is(err, unix.ENOTSUP) {
		return x, nil // a file system without xattrs
	}
	if err != nil {
		return x, fmt.Errorf("listxattr: %w", err)
	}
	for names := p.xnames[:n]; len(names) > 0; {
		i := bytes.IndexByte(names, 0)
		if i < 0 {
			i = len(names)
		}
		name := string(names[:i])
		names = names[min(i+1, len(names)):]
		switch {
		case name == opaqueXattr:
			v, ok, err := p.getXattr(fd, path, name)
			if err != nil {
				return x, err
			}
			x.opaque = ok && v == "y" // "x" marks a directory holding xattr whiteouts: not opaque
		case name == xattrWhiteout:
			x.whiteout = true
		case name == xattrRedirect:
			x.redirect = true
		case name == xattrMetacopy:
			x.metacopy = true
		case keptXattr(name):
			v, ok, err := p.getXattr(fd, path, name)
			if err != nil {
				return x, err
			}
			if !ok {
				continue
			}
			if x.pax == nil {
				x.pax = map[string]string{}
			}
			x.pax[xattrRecordPrefix+name] = v
		}
	}
	return x, nil
}

// getXattr reads one xattr; ok is false when it is gone.
func (p *packer) getXattr(fd int, path, name string) (string, bool, error) {
	var n int
	var err error
	if fd >= 0 {
		n, err = unix.Fgetxattr(fd, name, p.xvalue)
	} else {
		n, err = unix.Lgetxattr(path, name, p.xvalue)
	}
	if errors.Is(err, unix.ENODATA) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("getxattr %q: %w", name, err)
	}
	return string(p.xvalue[:n]), true, nil
}

func listXattrs(fd int, path string, buf []byte) (int, error) {
	if fd >= 0 {
		return unix.Flistxattr(fd, buf)
	}
	return unix.Llistxattr(path, buf)
}

// readFD reads from fd into b, retrying when interrupted.
func readFD(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
		return n, nil
	}
}
