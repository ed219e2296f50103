package overlay

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The system calls of Unpack, wrapped once. Each error names the call, the
// single path component it was given (quoted) and, in parentheses, the
// flags, mode or owner it was given:
//
//	openat "f" (O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600): file exists

// sysErr wraps err from the call op on name, with its arguments args ("" for
// none).
func sysErr(op, name, args string, err error) error {
	if args == "" {
		return fmt.Errorf("%s %q: %w", op, name, err)
	}
	return fmt.Errorf("%s %q (%s): %w", op, name, args, err)
}

// flagNames lists the flags of openat(2) and the *at calls by name.
var flagNames = []struct {
	flag int
	name string
}{
	{unix.O_WRONLY, "O_WRONLY"}, {unix.O_RDWR, "O_RDWR"}, {unix.O_CREAT, "O_CREAT"},
	{unix.O_EXCL, "O_EXCL"}, {unix.O_TRUNC, "O_TRUNC"}, {unix.O_DIRECTORY, "O_DIRECTORY"},
	{unix.O_NOFOLLOW, "O_NOFOLLOW"}, {unix.O_CLOEXEC, "O_CLOEXEC"},
}

// openFlags spells the flags of openat(2) as C does.
func openFlags(flags int) string {
	names := []string{}
	if flags&(unix.O_WRONLY|unix.O_RDWR) == 0 {
		names = append(names, "O_RDONLY")
	}
	for _, f := range flagNames {
		if flags&f.flag != 0 {
			names = append(names, f.name)
			flags &^= f.flag
		}
	}
	if flags != 0 {
		names = append(names, fmt.Sprintf("%#x", flags))
	}
	return strings.Join(names, "|")
}

func openat(dirfd int, name string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, mode)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			args := openFlags(flags)
			if flags&unix.O_CREAT != 0 {
				args += fmt.Sprintf(", %#o", mode)
			}
			return -1, sysErr("openat", name, args, err)
		}
		return fd, nil
	}
}

func mkdirat(dirfd int, name string, mode uint32) error {
	if err := unix.Mkdirat(dirfd, name, mode); err != nil {
		return sysErr("mkdirat", name, fmt.Sprintf("%#o", mode), err)
	}
	return nil
}

func mknodat(dirfd int, name string, mode uint32, dev int) error {
	if err := unix.Mknodat(dirfd, name, mode, dev); err != nil {
		return sysErr("mknodat", name, fmt.Sprintf("%#o, %d:%d", mode, unix.Major(uint64(dev)), unix.Minor(uint64(dev))), err)
	}
	return nil
}

func symlinkat(target string, dirfd int, name string) error {
	if err := unix.Symlinkat(target, dirfd, name); err != nil {
		return sysErr("symlinkat", name, "", err)
	}
	return nil
}

// linkat does not follow a symlink at the old name: flags are 0 (linkat(2)).
func linkat(olddirfd int, oldname string, newdirfd int, newname string) error {
	if err := unix.Linkat(olddirfd, oldname, newdirfd, newname, 0); err != nil {
		return sysErr("linkat "+strconv.Quote(oldname)+" to", newname, "", err)
	}
	return nil
}

func unlinkat(dirfd int, name string, flags int) error {
	if err := unix.Unlinkat(dirfd, name, flags); err != nil {
		args := ""
		if flags&unix.AT_REMOVEDIR != 0 {
			args = "AT_REMOVEDIR"
		}
		return sysErr("unlinkat", name, args, err)
	}
	return nil
}

func pwrite(fd int, name string, b []byte, off int64) error {
	for len(b) > 0 {
		n, err := unix.Pwrite(fd, b, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return sysErr("pwrite", name, "offset "+strconv.FormatInt(off, 10), err)
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

func ftruncate(fd int, name string, size int64) error {
	if err := unix.Ftruncate(fd, size); err != nil {
		return sysErr("ftruncate", name, strconv.FormatInt(size, 10), err)
	}
	return nil
}

func fchown(fd int, name string, uid, gid int) error {
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return sysErr("fchown", name, fmt.Sprintf("%d:%d", uid, gid), err)
	}
	return nil
}

func fchownat(dirfd int, name string, uid, gid int) error {
	if err := unix.Fchownat(dirfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return sysErr("fchownat", name, fmt.Sprintf("%d:%d, AT_SYMLINK_NOFOLLOW", uid, gid), err)
	}
	return nil
}

func fchmod(fd int, name string, mode uint32) error {
	if err := unix.Fchmod(fd, mode); err != nil {
		return sysErr("fchmod", name, fmt.Sprintf("%#o", mode), err)
	}
	return nil
}

func fchmodat(dirfd int, name string, mode uint32) error {
	if err := unix.Fchmodat(dirfd, name, mode, 0); err != nil {
		return sysErr("fchmodat", name, fmt.Sprintf("%#o", mode), err)
	}
	return nil
}

// fsetxattr sets attr on the open file fd; the error names the attribute,
// the file being the entry's.
func fsetxattr(fd int, attr, value string) error {
	if err := unix.Fsetxattr(fd, attr, []byte(value), 0); err != nil {
		return fmt.Errorf("fsetxattr %q: %w", attr, err)
	}
	return nil
}

func lsetxattr(path, name, attr, value string) error {
	if err := unix.Lsetxattr(path, attr, []byte(value), 0); err != nil {
		return sysErr("lsetxattr "+strconv.Quote(attr)+" on", name, "", err)
	}
	return nil
}

func utimensat(dirfd int, name string, ts *[2]unix.Timespec) error {
	if err := unix.UtimesNanoAt(dirfd, name, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return sysErr("utimensat", name, "AT_SYMLINK_NOFOLLOW", err)
	}
	return nil
}

// futimens sets the times of the open file fd: utimensat(2) with a NULL
// path, which x/sys/unix does not offer.
func futimens(fd int, name string, ts *[2]unix.Timespec) error {
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return sysErr("futimens", name, "", e)
	}
	return nil
}
