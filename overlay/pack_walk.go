package overlay

import (
	"archive/tar"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// How Pack reads an upper directory: depth first in tar order, one directory
// at a time with getdents(2) (readDirents), each entry opened or stat'ed
// relative to its parent's descriptor with O_NOFOLLOW or AT_SYMLINK_NOFOLLOW,
// so no symlink is ever followed and nothing outside upper is reached. A
// regular file is opened first and stat'ed through its descriptor, which
// then serves its xattrs and content: four system calls and the reads.
// O_NONBLOCK keeps a file replaced by a fifo meanwhile from blocking the
// open; O_NOATIME keeps reading from touching the container's files.
const (
	packFileFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOATIME | unix.O_CLOEXEC
	packDirFlags  = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	// xattrListSize is XATTR_LIST_MAX and XATTR_SIZE_MAX (xattr(7)): no
	// list of names and no value is longer.
	xattrListSize = 64 << 10
	maxLinkTarget = 4096 // PATH_MAX: a symlink's target is shorter
)

// fileID names an inode, to find the other names of a file.
type fileID struct{ dev, ino uint64 }

// dirent is a directory entry as getdents(2) gives it.
type dirent struct {
	name string
	typ  byte
}

// packer holds the state of one Pack or PackList.
type packer struct {
	upper  string
	opts   PackOptions
	mounts map[string]mountRole // by path without the leading "/"
	links  map[fileID]string    // the tar name of a file's first name
	stats  PackStats
	emit   func(*packed) error
	dents  []byte // getdents buffer
	xnames []byte // xattr names
	xvalue []byte // an xattr's value, a symlink's target
}

func newPacker(upper string, opts PackOptions) *packer {
	return &packer{
		upper:  upper,
		opts:   opts,
		mounts: mountRoles(opts.MountPoints),
		links:  map[fileID]string{},
		dents:  make([]byte, direntBufSize),
		xnames: make([]byte, xattrListSize),
		xvalue: make([]byte, xattrListSize),
	}
}

// run walks the upper directory, handing every entry to emit.
func (p *packer) run() error {
	if os.Geteuid() != 0 { // see Pack
		return fmt.Errorf("pack %s: reading the trusted.overlay xattrs needs root", p.upper)
	}
	fd, err := openat(unix.AT_FDCWD, p.upper, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("pack %s: %w", p.upper, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("pack %s: stat: %w", p.upper, err)
	}
	// The root has no entry of its own (Unpack leaves the root to its
	// caller), but it may be opaque: .wh..wh..opq at the top of the layer.
	if err := p.marks(fd, "", &st); err != nil {
		return fmt.Errorf("pack %s: entry %q: %w", p.upper, "/", err)
	}
	if err := p.dir(fd, ""); err != nil {
		return fmt.Errorf("pack %s: %w", p.upper, err)
	}
	return nil
}

// dir packs the entries of the directory rel, open as fd, and what is
// beneath them.
func (p *packer) dir(fd int, rel string) error {
	ents, err := p.readNames(fd)
	if err != nil {
		return fmt.Errorf("read directory %q: %w", "/"+rel, err)
	}
	for _, e := range ents {
		crel := joinRel(rel, e.name)
		sub, err := p.entry(fd, crel, e)
		if err != nil {
			return fmt.Errorf("entry %q: %w", "/"+crel, err)
		}
		if sub < 0 {
			continue
		}
		err = p.dir(sub, crel)
		unix.Close(sub) // a directory opened read-only: nothing to flush
		if err != nil {
			return err
		}
	}
	return nil
}

// readNames returns the entries of the directory open as fd, sorted by
// byte order of their names.
func (p *packer) readNames(fd int) ([]dirent, error) {
	var ents []dirent
	err := readDirents(fd, p.dents, func(name string, typ byte) {
		ents = append(ents, dirent{name: name, typ: typ})
	})
	slices.SortFunc(ents, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
	return ents, err
}

// entry packs the entry e, at rel, of the directory open as dirfd. For a
// directory it returns a descriptor of it, whose entries are the caller's to
// pack, or -1 when it was left out; -1 for the rest.
func (p *packer) entry(dirfd int, rel string, e dirent) (int, error) {
	var st unix.Stat_t
	fd, ok, err := p.open(dirfd, e, &st)
	if err != nil || !ok {
		return -1, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		keep, err := p.dirEntry(fd, rel, &st)
		if err != nil || !keep {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
	if fd >= 0 {
		defer unix.Close(fd)
	}
	return -1, p.nonDir(dirfd, fd, e.name, rel, &st)
}

// open stats the entry e of dirfd into st and opens it when it is a regular
// file or a directory; fd is -1 for the rest, and ok is false when the
// entry vanished since it was listed.
func (p *packer) open(dirfd int, e dirent, st *unix.Stat_t) (fd int, ok bool, err error) {
	typ := e.typ
	if typ != unix.DT_REG && typ != unix.DT_DIR {
		if err := unix.Fstatat(dirfd, e.name, st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				return -1, false, nil
			}
			return -1, false, fmt.Errorf("stat: %w", err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			typ = unix.DT_REG
		case unix.S_IFDIR:
			typ = unix.DT_DIR
		default:
			return -1, true, nil
		}
	}
	flags := packFileFlags
	if typ == unix.DT_DIR {
		flags = packDirFlags
	}
	fd, err = openat(dirfd, e.name, flags, 0)
	if errors.Is(err, unix.EPERM) && flags&unix.O_NOATIME != 0 {
		// O_NOATIME needs the file's owner or CAP_FOWNER (open(2)).
		fd, err = openat(dirfd, e.name, flags&^unix.O_NOATIME, 0)
	}
	if errors.Is(err, unix.ENOENT) {
		return -1, false, nil
	}
	if err != nil {
		return -1, false, err
	}
	if err := unix.Fstat(fd, st); err != nil {
		unix.Close(fd)
		return -1, false, fmt.Errorf("stat: %w", err)
	}
	if m := st.Mode & unix.S_IFMT; m != unix.S_IFREG && m != unix.S_IFDIR {
		unix.Close(fd) // replaced since it was listed: described by st alone
		return -1, true, nil
	}
	return fd, true, nil
}

// dirEntry packs the directory rel, open as fd, unless the engine made it
// to mount on; it reports whether it did.
func (p *packer) dirEntry(fd int, rel string, st *unix.Stat_t) (bool, error) {
	if p.mounts[rel] != 0 {
		made, err := p.engineMade(fd, rel)
		if err != nil {
			return false, err
		}
		if made {
			p.stats.Excluded++
			return false, nil
		}
	}
	x, err := p.xattrs(fd, "")
	if err != nil {
		return false, err
	}
	if x.redirect {
		return false, errRedirect
	}
	p.stats.Dirs++
	if err := p.put(PackDir, rel, "", p.header(rel+"/", tar.TypeDir, st, x.pax), -1); err != nil {
		return false, err
	}
	if x.opaque {
		return true, p.opaque(rel, st)
	}
	return true, nil
}

// marks packs what the xattrs of the root directory say: only an opaque
// marker, the root having no entry of its own.
func (p *packer) marks(fd int, rel string, st *unix.Stat_t) error {
	x, err := p.xattrs(fd, "")
	if err != nil {
		return err
	}
	if x.redirect {
		return errRedirect
	}
	if x.opaque {
		return p.opaque(rel, st)
	}
	return nil
}

// The entries an upper directory may hold that a layer tar cannot.
var (
	errRedirect = kindErrorf(ErrUnsupported,
		"directory has %s (a renamed lower directory), which a layer cannot hold; mount with redirect_dir=nofollow", xattrRedirect)
	errMetacopy = kindErrorf(ErrUnsupported,
		"file has %s (its data is in a lower layer), which a layer cannot hold; mount with metacopy=off", xattrMetacopy)
)

// nonDir packs the entry rel, name in dirfd, which is not a directory; fd
// is it open when it is a regular file, else -1.
func (p *packer) nonDir(dirfd, fd int, name, rel string, st *unix.Stat_t) error {
	// Whiteouts first: every whiteout of an upper directory may be a name
	// of one shared inode, and must not be taken for a hard link.
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			return p.whiteout(rel, st, formWhiteoutDevice)
		}
	case unix.S_IFSOCK:
		p.stats.Sockets++
		return nil
	}
	if p.mounts[rel]&mountPoint != 0 {
		p.stats.Excluded++ // the file the engine bound over
		return nil
	}
	x, err := p.xattrsAt(dirfd, fd, name)
	if err != nil {
		return err
	}
	isReg := st.Mode&unix.S_IFMT == unix.S_IFREG
	if x.whiteout && isReg && st.Size == 0 {
		return p.whiteout(rel, st, formWhiteoutXattr)
	}
	if x.metacopy {
		return errMetacopy
	}
	if st.Nlink > 1 {
		id := fileID{dev: st.Dev, ino: st.Ino}
		if first, ok := p.links[id]; ok {
			hdr := p.header(rel, tar.TypeLink, st, nil)
			hdr.Linkname = first
			p.stats.Hardlinks++
			return p.put(PackHardlink, rel, "", hdr, -1)
		}
		p.links[id] = rel
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		hdr := p.header(rel, tar.TypeReg, st, x.pax)
		hdr.Size = st.Size
		p.stats.Files++
		return p.put(PackFile, rel, "", hdr, fd)
	case unix.S_IFLNK:
		n, err := unix.Readlinkat(dirfd, name, p.xvalue[:maxLinkTarget])
		if err != nil {
			return fmt.Errorf("readlink: %w", err)
		}
		hdr := p.header(rel, tar.TypeSymlink, st, x.pax)
		hdr.Linkname = string(p.xvalue[:n])
		p.stats.Symlinks++
		return p.put(PackSymlink, rel, "", hdr, -1)
	case unix.S_IFCHR, unix.S_IFBLK:
		kind, typ := PackChar, byte(tar.TypeChar)
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			kind, typ = PackBlock, tar.TypeBlock
		}
		hdr := p.header(rel, typ, st, x.pax)
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		p.stats.Specials++
		return p.put(kind, rel, "", hdr, -1)
	case unix.S_IFIFO:
		p.stats.Specials++
		return p.put(PackFifo, rel, "", p.header(rel, tar.TypeFifo, st, x.pax), -1)
	}
	return kindErrorf(ErrUnsupported, "file type %#o not supported", st.Mode&unix.S_IFMT)
}

// whiteout packs the whiteout at rel as .wh.NAME beside it.
func (p *packer) whiteout(rel string, st *unix.Stat_t, form string) error {
	dir, base := splitPath(rel)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: joinRel(dir, whiteoutPrefix+base), ModTime: p.markTime(st)}
	p.stats.Whiteouts++
	return p.put(PackWhiteout, rel, form, hdr, -1)
}

// opaque packs the opaque marker of the directory rel ("" for the root).
func (p *packer) opaque(rel string, st *unix.Stat_t) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: joinRel(rel, whiteoutOpaque), ModTime: p.markTime(st)}
	p.stats.Opaques++
	return p.put(PackOpaque, rel, formOpaque, hdr, -1)
}

// header is the tar header of the entry name, described by st, with the
// xattr records pax: owners by number, the mode's permission, setuid,
// setgid and sticky bits, the time in whole seconds and clamped, no access
// or change time. Leaving the header's Format unset lets archive/tar use
// USTAR where it can and PAX where it must.
func (p *packer) header(name string, typ byte, st *unix.Stat_t, pax map[string]string) *tar.Header {
	return &tar.Header{
		Typeflag:   typ,
		Name:       name,
		Mode:       int64(st.Mode & 0o7777),
		Uid:        int(st.Uid),
		Gid:        int(st.Gid),
		ModTime:    p.modTime(st),
		PAXRecords: pax,
	}
}

// modTime is st's modification time in whole seconds, clamped to
// PackOptions.ModTime.
func (p *packer) modTime(st *unix.Stat_t) time.Time {
	sec := st.Mtim.Sec
	if p.opts.ModTime != nil {
		sec = min(sec, p.opts.ModTime.Unix())
	}
	return time.Unix(sec, 0)
}

// markTime is the time of a whiteout or opaque marker: PackOptions.ModTime
// when given, else that of what it stands for.
func (p *packer) markTime(st *unix.Stat_t) time.Time {
	if p.opts.ModTime != nil {
		return time.Unix(p.opts.ModTime.Unix(), 0)
	}
	return p.modTime(st)
}

// put hands one entry to emit, after checking that Unpack reads its name
// back as what it stands for.
func (p *packer) put(kind PackKind, rel, form string, hdr *tar.Header, fd int) error {
	if err := checkTarName(kind, rel, hdr.Name); err != nil {
		return err
	}
	p.stats.Entries++
	return p.emit(&packed{kind: kind, rel: rel, form: form, hdr: hdr, fd: fd})
}

// checkTarName refuses a tar name that parseName would not read back as an
// entry of kind at rel: a name spelled like a whiteout (.wh.x in the upper
// directory would delete x), a control character, a name or path too long.
func checkTarName(kind PackKind, rel, name string) error {
	n, err := parseName(name)
	if err != nil {
		return err
	}
	want := namePlain
	switch kind {
	case PackWhiteout:
		want = nameWhiteout
	case PackOpaque:
		want = nameOpaque
	}
	if rel == "" {
		rel = "."
	}
	if n.kind != want || n.path != rel {
		return kindErrorf(ErrUnsupported, "name spelled like a whiteout (%s…), which a layer cannot hold", whiteoutPrefix)
	}
	return nil
}
