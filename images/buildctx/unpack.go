package buildctx

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// unpacker applies an ADD's archive to a directory as docker's
// chrootarchive.Untar does: as if that directory were the root, entries
// land beneath it whatever their names, and symlinks on the way (the
// archive's own or those already there) are followed inside it, never out.
// Each entry's parent is opened with pathrs.MkdirAllHandle relative to the
// directory (missing parents made 0755 root:root, as docker makes them);
// the entry itself is made relative to that handle without following it.
//
// An entry takes its owner from the archive, or the --chown owner; its
// mode bits and times from the archive (--chmod does not apply to an
// unpacked archive in BuildKit either). A name that climbs out with ".."
// is refused, as is a hard link to a path that does; an entry over an
// existing one replaces it, unless both are directories. Whiteout names
// (.wh.*) are ordinary files here, as in docker's ADD. Extended attributes
// in the archive are not applied.
type unpacker struct {
	cp   *copier
	dest *os.File
	at   string // dest's in-container path
	dirs []dirEntry
}

// dirEntry is a directory of the archive, whose metadata is set when the
// whole archive is in: entries made in it later would change its times.
type dirEntry struct {
	rel string
	hdr *tar.Header
}

func (u *unpacker) run(tr *tar.Reader) error {
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := u.entry(tr, hdr); err != nil {
			return err
		}
	}
	for i := len(u.dirs) - 1; i >= 0; i-- {
		if err := u.dirMeta(u.dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

// entryRel cleans an entry's name, relative to the directory unpacked
// into: a leading "/" stands for it, a ".." that climbs above it is
// refused.
func entryRel(name string) (string, error) {
	rel, err := cleanRel(name)
	if err != nil {
		return "", fmt.Errorf("entry %s: path escapes the destination", quote(name))
	}
	return rel, nil
}

func (u *unpacker) entry(tr *tar.Reader, hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	rel, err := entryRel(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		// The archive's root is dest: docker and buildah give dest its
		// owner, mode and times. Any other type there is not applied.
		if hdr.Typeflag == tar.TypeDir {
			u.dirs = append(u.dirs, dirEntry{rel: rel, hdr: hdr})
		}
		return nil
	}
	at := path.Join(u.at, rel)
	parent, err := pathrs.MkdirAllHandle(u.dest, path.Dir(rel), 0o755)
	if err != nil {
		return fmt.Errorf("entry %s: parent: %w", quote(hdr.Name), err)
	}
	defer parent.Close()
	dirfd, name := int(parent.Fd()), path.Base(rel)
	there, err := clearFor(dirfd, name, hdr.Typeflag == tar.TypeDir, at)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !there {
			if err := mkdirat(dirfd, name, 0o700, at); err != nil {
				return err
			}
		}
		u.dirs = append(u.dirs, dirEntry{rel: rel, hdr: hdr})
		return nil
	case tar.TypeReg, tar.TypeRegA:
		return u.file(tr, hdr, dirfd, name, at)
	case tar.TypeSymlink:
		if err := symlinkat(hdr.Linkname, dirfd, name, at); err != nil {
			return err
		}
		return u.meta(dirfd, name, nil, hdr, at)
	case tar.TypeLink:
		return u.hardlink(hdr, dirfd, name, at)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return u.node(hdr, dirfd, name, at)
	}
	return fmt.Errorf("entry %s: unsupported type %q", quote(hdr.Name), hdr.Typeflag)
}

// clearFor makes room for an entry at name in dirfd: what is there is
// removed, unless both are directories, and then there is set.
func clearFor(dirfd int, name string, isDir bool, at string) (there bool, err error) {
	var st unix.Stat_t
	there, err = exists(dirfd, name, &st, at)
	if err != nil || !there {
		return false, err
	}
	if isDir && st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return true, nil
	}
	return false, removeAllAt(dirfd, name, at)
}

func (u *unpacker) file(tr *tar.Reader, hdr *tar.Header, dirfd int, name, at string) error {
	f, err := openAt(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o600, at)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(f, tr); err != nil {
		return fmt.Errorf("write %s: %w", quote(at), err)
	}
	return u.meta(dirfd, name, f, hdr, at)
}

// hardlink links name to an earlier entry, found inside dest as any path
// is.
func (u *unpacker) hardlink(hdr *tar.Header, dirfd int, name, at string) error {
	target, err := entryRel(hdr.Linkname)
	if err != nil || target == "." {
		return fmt.Errorf("entry %s: hard link to %s outside the destination", quote(hdr.Name), quote(hdr.Linkname))
	}
	tdir, err := pathrs.OpenatInRoot(u.dest, path.Dir(target))
	if err != nil {
		return fmt.Errorf("entry %s: hard link to %s: %w", quote(hdr.Name), quote(hdr.Linkname), err)
	}
	defer tdir.Close()
	err = retry(func() error { return unix.Linkat(int(tdir.Fd()), path.Base(target), dirfd, name, 0) })
	if err != nil {
		return sysErr("linkat", at, quote(hdr.Linkname), err)
	}
	return nil
}

func (u *unpacker) node(hdr *tar.Header, dirfd int, name, at string) error {
	mode := uint32(unix.S_IFIFO)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode = unix.S_IFCHR
	case tar.TypeBlock:
		mode = unix.S_IFBLK
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	if err := mknodat(dirfd, name, mode|0o600, dev, at); err != nil {
		return err
	}
	if err := u.meta(dirfd, name, nil, hdr, at); err != nil {
		return err
	}
	return fchmodat(dirfd, name, uint32(hdr.Mode), at)
}

// dirMeta sets a directory's metadata once everything is in it.
func (u *unpacker) dirMeta(d dirEntry) error {
	at := path.Join(u.at, d.rel)
	parent, err := pathrs.OpenatInRoot(u.dest, path.Dir(d.rel))
	if err != nil {
		return fmt.Errorf("entry %s: %w", quote(d.hdr.Name), err)
	}
	defer parent.Close()
	f, err := openDirAt(int(parent.Fd()), path.Base(d.rel), at)
	if err != nil {
		if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			return nil // a later entry replaced it
		}
		return err
	}
	defer f.Close()
	return u.meta(int(parent.Fd()), path.Base(d.rel), f, d.hdr, at)
}

// meta gives an entry its owner, mode and times (see copier.meta for the
// order).
func (u *unpacker) meta(dirfd int, name string, f *os.File, hdr *tar.Header, at string) error {
	o := owner{uid: hdr.Uid, gid: hdr.Gid}
	if u.cp.chown != nil {
		o = *u.cp.chown
	}
	if err := lchownat(dirfd, name, o.uid, o.gid, at); err != nil {
		return err
	}
	if f != nil {
		if err := fchmod(f, uint32(hdr.Mode), at); err != nil {
			return err
		}
	}
	mtime := hdr.ModTime
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = mtime
	}
	return lutimesat(dirfd, name, unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano()), at)
}
