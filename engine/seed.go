package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// seedVolume copies what the container's root has at target, a directory
// resolved inside it, into data, a volume's directory on the host, when
// data is empty: docker's copy of the image's content into a new volume.
// Ownership, modes and times are kept; symbolic links are copied as links,
// never followed, so nothing is read or written outside the two trees.
func seedVolume(target, data string) error {
	ents, err := os.ReadDir(data)
	if err != nil || len(ents) > 0 {
		return err
	}
	var st unix.Stat_t
	if err := unix.Lstat(target, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil // nothing in the image there: the volume starts empty
	}
	if err := copyDir(target, data); err != nil {
		return fmt.Errorf("seed volume %s from %s: %w", data, target, err)
	}
	return keepMeta(data, &st)
}

// copyDir copies the entries of the directory src into dst, which exists.
func copyDir(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := copyEntry(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// copyEntry copies one entry of any type but a socket, then its metadata.
func copyEntry(src, dst string) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return err
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err = os.Mkdir(dst, 0o700); err == nil {
			err = copyDir(src, dst)
		}
	case unix.S_IFREG:
		err = copyFile(src, dst)
	case unix.S_IFLNK:
		var link string
		if link, err = os.Readlink(src); err == nil {
			err = os.Symlink(link, dst)
		}
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		err = unix.Mknod(dst, st.Mode, int(st.Rdev))
	default:
		return nil
	}
	if err != nil {
		return err
	}
	return keepMeta(dst, &st)
}

func copyFile(src, dst string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}

// keepMeta gives path the owner, mode and times of st. The mode comes
// after the owner: chown(2) clears the set-user-ID bit.
func keepMeta(path string, st *unix.Stat_t) error {
	if err := unix.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Chmod(path, st.Mode&0o7777); err != nil {
			return fmt.Errorf("chmod %s: %w", path, err)
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", path, err)
	}
	return nil
}
