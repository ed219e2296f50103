package buildctx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// CopyOptions are the flags of a COPY or ADD.
type CopyOptions struct {
	// Chown is --chown: "user", "uid", "user:group" or "uid:gid", names
	// looked up in the root's /etc/passwd and /etc/group. Empty: 0:0 for a
	// build context, the sources' own owners for a stage's root.
	Chown string
	// Chmod is --chmod: an octal mode for every file and directory copied.
	Chmod string
	// Add makes it an ADD: a local tar archive (plain, gzip, bzip2, xz or
	// zstd) is unpacked into dest instead of copied.
	Add bool
}

// maxLinkFDs bounds the hard links a copy keeps: each first copy of a
// linked file is held open until the copy ends, so that later names of
// it can be linked to it. Beyond this, later names become copies.
const maxLinkFDs = 1024

// CopyInto copies srcs into root, a container's root filesystem, at dest,
// an in-container absolute path, by docker's rules:
//
//   - dest is resolved inside root, its symlinks followed as if root were
//     / (a link to /etc leads to root/etc); what is missing is made, mode
//     0755, owned by the --chown owner or 0:0, as both of docker's
//     builders make it.
//   - A directory's contents are copied, not the directory itself. A file
//     goes inside dest when dest ends with "/" (or is "/." or ".") or is a
//     directory, and is dest otherwise. Several sources need a dest that
//     ends with "/" (docker's error otherwise).
//   - Files and directories keep their mode bits and their access and
//     modification times; a directory that already exists beneath dest
//     takes the source's metadata, dest itself keeps its own. Owners
//     become 0:0 (or the sources' own, from a stage's root) unless
//     opts.Chown is set; opts.Chmod sets the mode of every file and
//     directory copied. Symlinks are copied as symlinks; names that are
//     hard links of one another within the copy stay hard links, as
//     BuildKit keeps them.
//   - ADD unpacks a source that is a tar archive into dest as a directory
//     (see unpack); any other file is copied as COPY copies it.
//
// A file never replaces a directory, nor a directory a file ("cannot copy
// to non-directory"). Errors name the in-container path at fault; the
// builder writes "COPY failed: " before them.
func (c *Context) CopyInto(root string, srcs []Source, dest string, opts CopyOptions) error {
	return oneLine(c.copyInto(root, srcs, dest, opts))
}

func (c *Context) copyInto(root string, srcs []Source, dest string, opts CopyOptions) error {
	instr := "COPY"
	if opts.Add {
		instr = "ADD"
	}
	if len(srcs) == 0 {
		return ErrNoSources
	}
	if !strings.HasPrefix(dest, "/") {
		return fmt.Errorf("%s destination %s is not an absolute path", instr, quote(dest))
	}
	dirForm := isDirForm(dest)
	if len(srcs) > 1 && !dirForm {
		// docker's words, capital and all, for people who search for them
		return fmt.Errorf("When using %s with more than one source file, the destination must be a directory and end with a /", instr)
	}
	t, err := openTarget(root)
	if err != nil {
		return err
	}
	cp := &copier{c: c, t: t, links: map[[2]uint64]*os.File{}, buf: make([]byte, unix.PathMax+1)}
	err = cp.setOptions(opts)
	for _, s := range srcs {
		if err != nil {
			break
		}
		err = cp.source(s, dest, dirForm, opts.Add)
	}
	return errors.Join(err, cp.close())
}

// isDirForm reports whether dest names a directory by its form, as docker
// reads it.
func isDirForm(dest string) bool {
	return strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, "/.") || dest == "."
}

// copier is one CopyInto.
type copier struct {
	c        *Context
	t        *target
	chown    *owner  // --chown, looked up
	chmod    *uint32 // --chmod
	newOwner owner   // of the directories made on the way to dest
	links    map[[2]uint64]*os.File
	buf      []byte
}

func (cp *copier) setOptions(opts CopyOptions) error {
	if opts.Chown != "" {
		spec, err := parseChown(opts.Chown)
		if err != nil {
			return err
		}
		o, err := spec.resolve(func(file string) ([]byte, error) { return readInRoot(cp.t.root, file) })
		if err != nil {
			return err
		}
		cp.chown, cp.newOwner = &o, o
	}
	if opts.Chmod != "" {
		m, err := parseChmod(opts.Chmod)
		if err != nil {
			return err
		}
		cp.chmod = &m
	}
	return nil
}

func (cp *copier) close() error {
	for _, f := range cp.links {
		f.Close()
	}
	return cp.t.close()
}

// source copies one source to dest.
func (cp *copier) source(s Source, dest string, dirForm, add bool) error {
	rel, err := cp.t.resolve(dest)
	if err != nil {
		return err
	}
	parent, name, st, err := cp.c.openSource(s)
	if err != nil {
		return err
	}
	defer parent.Close()
	if add && !s.Dir {
		done, err := cp.unpackIfArchive(parent, name, &st, s, rel)
		if done || err != nil {
			return err
		}
	}
	if s.Dir {
		return cp.dirSource(parent, name, s, rel)
	}
	dir, dirRel, dst, err := cp.fileTarget(rel, dirForm, s)
	if err != nil {
		return err
	}
	defer dir.Close()
	e := entry{name: name, rel: s.Rel, st: st}
	return cp.entryIn(int(parent.Fd()), &e, dir, dst, shown(path.Join(dirRel, dst)))
}

// fileTarget opens the directory a file source goes into (dirRel, in the
// root) and names the copy there: inside dest when dest has a directory's
// form or is a directory, dest itself otherwise.
func (cp *copier) fileTarget(rel string, dirForm bool, s Source) (dir *os.File, dirRel, name string, err error) {
	if !dirForm {
		dir, err = cp.t.openDir(rel)
		if dir != nil || err != nil {
			return dir, rel, s.base(), err
		}
		dir, err = cp.t.mkdirAll(path.Dir(rel), cp.newOwner)
		return dir, path.Dir(rel), path.Base(rel), err
	}
	dir, err = cp.t.mkdirAll(rel, cp.newOwner)
	return dir, rel, s.base(), err
}

// dirSource copies the contents of a directory source into dest, made when
// missing.
func (cp *copier) dirSource(parent *os.File, name string, s Source, rel string) error {
	into, err := cp.t.mkdirAll(rel, cp.newOwner)
	if err != nil {
		return err
	}
	defer into.Close()
	d, err := openDirAt(int(parent.Fd()), name, s.Rel)
	if err != nil {
		return err
	}
	defer d.Close()
	mi, err := cp.c.matchInfo(s.Rel)
	if err != nil {
		return err
	}
	es, err := cp.c.list(d, s.Rel, mi)
	if err != nil {
		return err
	}
	return cp.entries(d, es, into, shown(rel))
}

// entries copies the listed entries of the source directory d into into.
func (cp *copier) entries(d *os.File, es []entry, into *os.File, at string) error {
	for i := range es {
		e := &es[i]
		if err := cp.entryIn(int(d.Fd()), e, into, e.name, path.Join(at, e.name)); err != nil {
			return err
		}
	}
	return nil
}

// entryIn copies the entry e of the source directory srcfd to dst in the
// directory into; at is its in-container path.
func (cp *copier) entryIn(srcfd int, e *entry, into *os.File, dst, at string) error {
	dirfd := int(into.Fd())
	if e.isDir() {
		return cp.dir(srcfd, e, into, dst, at)
	}
	if err := cp.clearForFile(dirfd, dst, at); err != nil {
		return err
	}
	switch e.st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return cp.file(srcfd, e, dirfd, dst, at)
	case unix.S_IFLNK:
		target, err := readlinkat(srcfd, e.name, cp.buf, e.rel)
		if err != nil {
			return err
		}
		if err := symlinkat(target, dirfd, dst, at); err != nil {
			return err
		}
		return cp.meta(dirfd, dst, nil, &e.st, at)
	default: // fifo or device node
		if err := mknodat(dirfd, dst, e.st.Mode, e.st.Rdev, at); err != nil {
			return err
		}
		if err := cp.meta(dirfd, dst, nil, &e.st, at); err != nil {
			return err
		}
		// not opened, so that no device is: the node was just made here
		return fchmodat(dirfd, dst, cp.mode(&e.st), at)
	}
}

// clearForFile makes room for a file, symlink or node at name: what is
// there is removed, unless it is a directory.
func (cp *copier) clearForFile(dirfd int, name, at string) error {
	var st unix.Stat_t
	ok, err := exists(dirfd, name, &st, at)
	if err != nil || !ok {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("cannot replace directory %s with a file", quote(at))
	}
	return unlinkat(dirfd, name, 0, at)
}

// file copies a regular file, or links it to the copy of an earlier name
// of the same file.
func (cp *copier) file(srcfd int, e *entry, dirfd int, dst, at string) error {
	key := [2]uint64{e.st.Dev, e.st.Ino}
	if first := cp.links[key]; first != nil {
		return linkTo(first, dirfd, dst, at)
	}
	src, err := openReadAt(srcfd, e.name, e.rel)
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := openAt(dirfd, dst, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o600, at)
	if err != nil {
		return err
	}
	defer out.Close()
	// os.File's ReadFrom: copy_file_range(2) where both sides allow it
	if _, err := io.Copy(out, src); err != nil {
		return fmt.Errorf("copy to %s: %w", quote(at), err)
	}
	if err := cp.meta(dirfd, dst, out, &e.st, at); err != nil {
		return err
	}
	if e.st.Nlink > 1 && len(cp.links) < maxLinkFDs {
		keep, err := openAt(dirfd, dst, unix.O_PATH, 0, at)
		if err != nil {
			return err
		}
		cp.links[key] = keep
	}
	return nil
}

// dir copies a directory and what it holds into name, made when missing;
// its metadata is set last, when nothing more is made in it.
func (cp *copier) dir(srcfd int, e *entry, into *os.File, name, at string) error {
	dirfd := int(into.Fd())
	var st unix.Stat_t
	ok, err := exists(dirfd, name, &st, at)
	if err != nil {
		return err
	}
	if ok && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("cannot copy to non-directory: %s", human.Visible(at))
	}
	if !ok {
		if err := mkdirat(dirfd, name, 0o700, at); err != nil {
			return err
		}
	}
	out, err := openDirAt(dirfd, name, at)
	if err != nil {
		return err
	}
	defer out.Close()
	src, err := openDirAt(srcfd, e.name, e.rel)
	if err != nil {
		return err
	}
	defer src.Close()
	es, err := cp.c.list(src, e.rel, e.mi)
	if err != nil {
		return err
	}
	if err := cp.entries(src, es, out, at); err != nil {
		return err
	}
	return cp.meta(dirfd, name, out, &e.st, at)
}

// meta gives name in dirfd (open as f, or nil for a symlink or node) its
// owner, mode and times. The owner comes first: chown(2) clears the setuid
// and setgid bits that the mode then sets; the times come last, as
// nothing after them changes them.
func (cp *copier) meta(dirfd int, name string, f *os.File, st *unix.Stat_t, at string) error {
	o := owner{}
	switch {
	case cp.chown != nil:
		o = *cp.chown
	case cp.c.stage:
		o = owner{uid: int(st.Uid), gid: int(st.Gid)}
	}
	if err := lchownat(dirfd, name, o.uid, o.gid, at); err != nil {
		return err
	}
	if f != nil {
		if err := fchmod(f, cp.mode(st), at); err != nil {
			return err
		}
	}
	return lutimesat(dirfd, name, st.Atim, st.Mtim, at)
}

// mode is the mode a copy of st takes.
func (cp *copier) mode(st *unix.Stat_t) uint32 {
	if cp.chmod != nil {
		return *cp.chmod
	}
	return st.Mode & 0o7777
}

// shown turns a path relative to the root into its in-container path.
func shown(rel string) string {
	if rel == "." || rel == "" {
		return "/"
	}
	return "/" + rel
}
