package overlay

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// How Unpack stays inside its target: raw *at system calls, not os.Root or
// filepath-securejoin for each entry.
//
// Unpack opens the target once and makes every entry with openat, mkdirat,
// symlinkat, linkat and mknodat relative to an open descriptor of the entry's
// parent directory, passing one path component only, with O_EXCL|O_NOFOLLOW
// (or AT_SYMLINK_NOFOLLOW), so that a final component is never followed and
// never reused in place. A parent's descriptor comes from the table of
// directories this unpack made itself with mkdirat in a directory that was
// empty, so no component on the way can be a symlink: a symlink from the
// layer is recorded as one, and an entry beneath it is refused before any
// system call. A descriptor that was closed to bound their number is opened
// again from the nearest open ancestor with O_DIRECTORY|O_NOFOLLOW, one
// component at a time.
//
// That is the guarantee os.Root gives, nothing reached through a symlink and
// nothing outside the target, with one system call per operation. os.Root
// walks every component of every path on every operation instead: applying
// the 18,000 files of BenchmarkUnpack's layer through an os.Root took 1.0 s
// on tmpfs against 0.33 s here. filepath-securejoin walks as well, and its
// string form leaves a window between resolving and opening. os.Root is used
// for the one rare operation where the walk does not matter: removing the
// directory tree that a later entry of the same path replaces.
//
// The tar is read and parsed in a second goroutine (see reader), so that
// decompression and parsing overlap with the system calls, as the separate
// gzip process does for tar -xzf.

// UnpackOptions bounds what one layer may write. Zero fields take defaults.
type UnpackOptions struct {
	MaxBytes   int64 // total bytes of regular-file content (default 64 GiB)
	MaxEntries int64 // tar entries (default 10,000,000)
}

// UnpackStats counts what a layer held. Entries counts every tar entry;
// Files counts regular files and Bytes their content; Whiteouts and Opaques
// count the .wh.NAME and .wh..wh..opq entries.
type UnpackStats struct{ Entries, Files, Dirs, Symlinks, Hardlinks, Whiteouts, Opaques, Bytes int64 }

// The limits a zero UnpackOptions field stands for.
const (
	defaultMaxBytes   = 64 << 30
	defaultMaxEntries = 10_000_000
)

// withDefaults is o with its zero fields set to the defaults.
func (o UnpackOptions) withDefaults() UnpackOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = defaultMaxBytes
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = defaultMaxEntries
	}
	return o
}

// Unpack applies the uncompressed OCI layer tar read from r into dir, an
// existing empty directory, in the overlayfs form: a whiteout .wh.NAME
// becomes a character device 0:0 named NAME and an opaque marker becomes the
// xattr trusted.overlay.opaque=y on its directory (this needs root, as do
// ownership and trusted xattrs; without root, ownership is not applied).
//
// Entries keep their owner, mode (with setuid, setgid and sticky), times and
// xattrs. A later entry of the same path replaces the earlier one, except that
// a directory over a directory only takes the new metadata. A whiteout of a
// path that this layer already made leaves that file in place (whiteouts hide
// lower layers only) and makes a directory opaque. An entry for the root of
// the layer is counted and otherwise ignored: the root belongs to the caller.
//
// Unpack reads r in a goroutine of its own, up to about 1 MiB ahead of the
// writing, so that a decompressor beneath r works while files are written;
// r is not read after Unpack returns. After the end of the archive Unpack
// reads r to its end, so that a decompressor beneath reports a bad checksum.
//
// Unpack never creates, changes or follows anything outside dir; on error,
// whatever it wrote inside dir is the caller's to remove. Error messages name
// the entry, quoted.
func Unpack(r io.Reader, dir string, opts UnpackOptions) (stats UnpackStats, err error) {
	u, err := newUnpacker(dir, opts.withDefaults())
	if err != nil {
		return UnpackStats{}, err
	}
	u.rd = startReading(r)
	defer func() {
		u.rd.close()
		err = errors.Join(err, u.close())
		stats = u.stats
	}()
	for {
		p, err := u.rd.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return stats, err
		}
		u.more = !p.end
		if err := u.trim(); err != nil {
			return stats, err
		}
		err = u.entry(p.hdr)
		if err == nil {
			err = u.skipContent()
		}
		if err != nil {
			return stats, entryError(p.hdr, err)
		}
	}
	return stats, u.setDirTimes()
}

// unpacker holds the state of one Unpack.
type unpacker struct {
	opts   UnpackOptions
	stats  UnpackStats
	target string
	chown  bool // apply owners: running as root
	uid    int  // the effective ids, owner of what this process makes
	gid    int
	nodes  map[string]nodeKind // cleaned path → what was made there
	dirs   map[string]*dirInfo // the directories among nodes, and "."
	open   map[string]*dirInfo // the directories whose fd is open
	clock  uint64              // use counter for evicting fds
	rd     *reader             // the tar, parsed
	more   bool                // content of the current entry is still to come
	root   *os.Root            // opened when a directory tree is removed
	tmp    []string            // scratch for trim
	sorted []string            // scratch for setDirTimes
}

func newUnpacker(dir string, opts UnpackOptions) (*unpacker, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open target: %w", err)
	}
	names, err := f.Readdirnames(1)
	f.Close()
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read target: %w", err)
	}
	if len(names) > 0 {
		return nil, fmt.Errorf("target %q is not empty", dir)
	}
	fd, err := openat(unix.AT_FDCWD, dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open target: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat target: %w", err)
	}
	root := &dirInfo{fd: fd, gid: int(st.Gid), setgid: st.Mode&unix.S_ISGID != 0}
	return &unpacker{
		opts:   opts,
		target: dir,
		chown:  os.Geteuid() == 0,
		uid:    os.Geteuid(),
		gid:    os.Getegid(),
		nodes:  map[string]nodeKind{},
		dirs:   map[string]*dirInfo{".": root},
		open:   map[string]*dirInfo{".": root},
	}, nil
}

// close closes every descriptor the unpack holds.
func (u *unpacker) close() error {
	var errs []error
	for p, d := range u.open {
		if err := unix.Close(d.fd); err != nil {
			errs = append(errs, fmt.Errorf("close directory %q: %w", p, err))
		}
		d.fd = -1
	}
	clear(u.open)
	if u.root != nil {
		errs = append(errs, u.root.Close())
	}
	return errors.Join(errs...)
}

// entry applies one tar entry: checkEntry first, which counts it, then
// what its name means and its type ask.
func (u *unpacker) entry(hdr *tar.Header) error {
	e, err := checkEntry(hdr, &u.stats, u.opts)
	if err != nil {
		return err
	}
	switch e.kind {
	case nameSkip, nameRoot:
		return nil
	case nameWhiteout:
		return u.whiteout(e.path)
	case nameOpaque:
		return u.opaque(e.path)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.mkdir(e.path, hdr)
	case tar.TypeReg, tar.TypeGNUSparse:
		return u.file(e.path, hdr)
	case tar.TypeSymlink:
		return u.symlink(e.path, hdr)
	case tar.TypeLink:
		return u.hardlink(e.path, e.link, hdr)
	}
	return u.fifo(e.path, hdr) // the one type left that checkEntry lets through
}
