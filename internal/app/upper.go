package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// errGone is an upper directory that is no longer there: its container was
// removed while it was measured.
var errGone = errors.New("upper directory gone")

// upperContent is the content size of the tree at dir (see Meter): the
// st_size of its regular files, a file with several names once.
//
// A container may be writing while the walk runs: an entry that vanishes
// between the listing and its stat is skipped, as it is no longer there to
// count; only dir itself vanishing is errGone.
func upperContent(dir string) (int64, error) {
	c := contentCounter{seen: map[inode]bool{}}
	err := c.walk(dir)
	if errors.Is(err, fs.ErrNotExist) && !exists(dir) {
		return 0, errGone
	}
	return c.n, err
}

type inode struct{ dev, ino uint64 }

type contentCounter struct {
	n    int64
	seen map[inode]bool // files with several names, counted once
}

// walk counts dir and then its subdirectories, one open directory at a
// time however deep the tree: names are stat'ed relative to the open
// directory (fstatat), which spares resolving each full path again, and
// only regular files are stat'ed at all, the listing giving the type.
func (c *contentCounter) walk(dir string) error {
	subdirs, err := c.count(dir)
	if err != nil {
		return err
	}
	for _, name := range subdirs {
		err := c.walk(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// count adds the regular files directly in dir and returns its
// subdirectories' names.
func (c *contentCounter) count(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var subdirs []string
	var statErr error
	ctlErr := rc.Control(func(fd uintptr) {
		for _, e := range ents {
			switch {
			case e.IsDir():
				subdirs = append(subdirs, e.Name())
			case e.Type().IsRegular():
				if err := c.add(int(fd), e.Name()); err != nil {
					statErr = fmt.Errorf("stat %s: %w", filepath.Join(dir, e.Name()), err)
					return
				}
			}
		}
	})
	return subdirs, errors.Join(ctlErr, statErr)
}

// add counts the regular file name in the directory fd.
func (c *contentCounter) add(fd int, name string) error {
	var st unix.Stat_t
	err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil // replaced meanwhile by something that is not a file
	}
	if st.Nlink > 1 {
		k := inode{uint64(st.Dev), st.Ino}
		if c.seen[k] {
			return nil
		}
		c.seen[k] = true
	}
	c.n += st.Size
	return nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
