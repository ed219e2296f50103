package buildctx

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The system calls of the walks and the copy, wrapped once. Each works on
// one path component relative to an open directory and never follows a
// symlink in it; each error names the call and the path the component
// stands for (in the context, or in the container), quoted:
//
//	mkdirat "/app/sub" (0700): not a directory

// sysErr wraps err from the call op on the path shown, with its arguments
// args ("" for none).
func sysErr(op, shown, args string, err error) error {
	if args == "" {
		return fmt.Errorf("%s %s: %w", op, quote(shown), err)
	}
	return fmt.Errorf("%s %s (%s): %w", op, quote(shown), args, err)
}

// retry runs fn again while it is interrupted by a signal.
func retry(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

func fstatat(dirfd int, name string, st *unix.Stat_t, shown string) error {
	if err := retry(func() error { return unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
		return sysErr("lstat", shown, "", err)
	}
	return nil
}

// exists is fstatat that tells a missing name apart: ok is false then,
// with no error.
func exists(dirfd int, name string, st *unix.Stat_t, shown string) (bool, error) {
	err := retry(func() error { return unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW) })
	if err == unix.ENOENT {
		return false, nil
	}
	if err != nil {
		return false, sysErr("lstat", shown, "", err)
	}
	return true, nil
}

// openAt opens name in dirfd with flags, O_NOFOLLOW and O_CLOEXEC added.
func openAt(dirfd int, name string, flags int, mode uint32, shown string) (*os.File, error) {
	var fd int
	err := retry(func() (err error) {
		fd, err = unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
		return err
	})
	if err != nil {
		args := "O_RDONLY"
		switch {
		case flags&unix.O_DIRECTORY != 0:
			args = "O_DIRECTORY"
		case flags&unix.O_CREAT != 0:
			args = fmt.Sprintf("O_WRONLY|O_CREAT|O_EXCL, %#o", mode)
		}
		return nil, sysErr("openat", shown, args+"|O_NOFOLLOW", err)
	}
	return os.NewFile(uintptr(fd), shown), nil
}

// openDirAt opens the directory name in dirfd, refusing a symlink.
func openDirAt(dirfd int, name, shown string) (*os.File, error) {
	return openAt(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0, shown)
}

// openReadAt opens the regular file name in dirfd for reading. O_NONBLOCK
// keeps a fifo swapped in meanwhile from blocking the open; the file is
// checked to be regular once open.
func openReadAt(dirfd int, name, shown string) (*os.File, error) {
	f, err := openAt(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK, 0, shown)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		if err == nil {
			err = unix.EINVAL
		}
		return nil, sysErr("open regular file", shown, "", err)
	}
	return f, nil
}

func mkdirat(dirfd int, name string, mode uint32, shown string) error {
	if err := retry(func() error { return unix.Mkdirat(dirfd, name, mode) }); err != nil {
		return sysErr("mkdirat", shown, fmt.Sprintf("%#o", mode), err)
	}
	return nil
}

func symlinkat(target string, dirfd int, name, shown string) error {
	if err := retry(func() error { return unix.Symlinkat(target, dirfd, name) }); err != nil {
		return sysErr("symlinkat", shown, quote(target), err)
	}
	return nil
}

func mknodat(dirfd int, name string, mode uint32, dev uint64, shown string) error {
	if err := retry(func() error { return unix.Mknodat(dirfd, name, mode, int(dev)) }); err != nil {
		return sysErr("mknodat", shown, fmt.Sprintf("%#o", mode), err)
	}
	return nil
}

func unlinkat(dirfd int, name string, flags int, shown string) error {
	if err := retry(func() error { return unix.Unlinkat(dirfd, name, flags) }); err != nil {
		return sysErr("unlinkat", shown, "", err)
	}
	return nil
}

// lchownat sets the owner of name in dirfd, a symlink's own.
func lchownat(dirfd int, name string, uid, gid int, shown string) error {
	if err := retry(func() error { return unix.Fchownat(dirfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
		return sysErr("lchown", shown, fmt.Sprintf("%d:%d", uid, gid), err)
	}
	return nil
}

// lutimesat sets the access and modification times of name in dirfd, a
// symlink's own.
func lutimesat(dirfd int, name string, atime, mtime unix.Timespec, shown string) error {
	ts := []unix.Timespec{atime, mtime}
	if err := retry(func() error { return unix.UtimesNanoAt(dirfd, name, ts, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
		return sysErr("utimensat", shown, "", err)
	}
	return nil
}

// fchmod sets the mode bits (permissions, setuid, setgid, sticky) of an
// open file or directory.
func fchmod(f *os.File, mode uint32, shown string) error {
	if err := retry(func() error { return unix.Fchmod(int(f.Fd()), mode&0o7777) }); err != nil {
		return sysErr("chmod", shown, fmt.Sprintf("%#o", mode&0o7777), err)
	}
	return nil
}

// removeAllAt removes name in dirfd and, when it is a directory, all it
// holds, without following a symlink anywhere.
func removeAllAt(dirfd int, name, shown string) error {
	var st unix.Stat_t
	if err := fstatat(dirfd, name, &st, shown); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unlinkat(dirfd, name, 0, shown)
	}
	d, err := openDirAt(dirfd, name, shown)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	for _, n := range names {
		if err == nil {
			err = removeAllAt(int(d.Fd()), n, shown+"/"+n)
		}
	}
	d.Close()
	if err != nil {
		return err
	}
	return unlinkat(dirfd, name, unix.AT_REMOVEDIR, shown)
}
