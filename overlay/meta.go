package overlay

import (
	"archive/tar"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// setMeta applies owner (when chown), mode and xattrs to the open file or
// directory fd. The order matters: chown(2) clears setuid, setgid and file
// capabilities, so the mode and then security.capability come after it.
func (u *unpacker) setMeta(fd int, name string, hdr *tar.Header, chown bool) error {
	if chown {
		if err := fchown(fd, name, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	if err := fchmod(fd, name, uint32(hdr.Mode&0o7777)); err != nil {
		return err
	}
	for k, v := range hdr.PAXRecords {
		if x, ok := strings.CutPrefix(k, xattrRecordPrefix); ok {
			if err := fsetxattr(fd, x, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// setMetaAt applies owner (when chown), mode (when chmod), xattrs and times
// to name in dirfd without following it, for symlinks and fifos, which have
// no descriptor to write through.
func (u *unpacker) setMetaAt(dirfd int, name string, hdr *tar.Header, chown, chmod bool) error {
	if chown {
		if err := fchownat(dirfd, name, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	if chmod {
		// fchmodat(2) follows symlinks, but name is the fifo just made in a
		// directory of ours.
		if err := fchmodat(dirfd, name, uint32(hdr.Mode&0o7777)); err != nil {
			return err
		}
	}
	for k, v := range hdr.PAXRecords {
		if x, ok := strings.CutPrefix(k, xattrRecordPrefix); ok {
			// /proc/self/fd/N resolves to our own directory; the last
			// component is not followed.
			p := "/proc/self/fd/" + strconv.Itoa(dirfd) + "/" + name
			if err := lsetxattr(p, name, x, v); err != nil {
				return err
			}
		}
	}
	ts := times(hdr)
	return utimensat(dirfd, name, &ts)
}

// setDirTimes sets the times of the directories the tar listed, deepest
// first, after everything inside them was written: each entry made in a
// directory changes its mtime.
func (u *unpacker) setDirTimes() error {
	u.sorted = u.sorted[:0]
	for p, d := range u.dirs {
		if d.hasTimes {
			u.sorted = append(u.sorted, p)
		}
	}
	slices.SortFunc(u.sorted, func(a, b string) int {
		if c := cmp.Compare(strings.Count(b, "/"), strings.Count(a, "/")); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, p := range u.sorted {
		if err := u.trim(); err != nil {
			return err
		}
		pp, base := split(p)
		pfd, err := u.dirFD(pp)
		if err == nil {
			err = utimensat(pfd, base, &u.dirs[p].times)
		}
		if err != nil {
			return fmt.Errorf("directory %q: %w", p, err)
		}
	}
	return nil
}

// times is the header's access and modification times, the access time
// defaulting to the modification time.
func times(hdr *tar.Header) [2]unix.Timespec {
	at := hdr.AccessTime
	if at.IsZero() {
		at = hdr.ModTime
	}
	return [2]unix.Timespec{
		{Sec: at.Unix(), Nsec: int64(at.Nanosecond())},
		{Sec: hdr.ModTime.Unix(), Nsec: int64(hdr.ModTime.Nanosecond())},
	}
}
