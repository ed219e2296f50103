package overlay

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// holeChunk is the size of an all-zero chunk of content that file leaves
// as a hole instead of writing it.
const holeChunk = 32 << 10

var zeroChunk [holeChunk]byte

// The entry makers below act on entries that checkEntry has checked and
// counted, all but the content bytes that file counts as it writes them.

func (u *unpacker) mkdir(p string, hdr *tar.Header) error {
	pfd, base, had, err := u.prepare(p, true)
	if err != nil {
		return err
	}
	if had != kindDir {
		if err := mkdirat(pfd, base, 0o700); err != nil {
			return err
		}
		u.addNode(p, kindDir, had == kindNone)
	}
	fd, err := u.dirFD(p)
	if err != nil {
		return err
	}
	d := u.dirs[p]
	// A directory kept from an earlier entry has that entry's owner.
	pp, _ := split(p)
	chown := u.chown && (had == kindDir || u.needChown(u.dirs[pp], hdr))
	if err := u.setMeta(fd, base, hdr, chown); err != nil {
		return err
	}
	d.setgid = hdr.Mode&unix.S_ISGID != 0
	if u.chown {
		d.gid = hdr.Gid
	}
	if had == kindWhiteout {
		if err := setOpaque(fd); err != nil {
			return err
		}
	}
	// Times last, once every child is written: see setDirTimes.
	d.hasTimes, d.times = true, times(hdr)
	return nil
}

func (u *unpacker) file(p string, hdr *tar.Header) (err error) {
	pfd, base, had, err := u.prepare(p, false)
	if err != nil {
		return err
	}
	fd, err := openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	u.addNode(p, kindFile, had == kindNone)
	defer func() {
		if cerr := unix.Close(fd); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close %q: %w", base, cerr))
		}
	}()
	n, err := u.copyContent(fd, base, hdr.Size)
	u.stats.Bytes += n
	if err != nil {
		return err
	}
	pp, _ := split(p)
	if err := u.setMeta(fd, base, hdr, u.needChown(u.dirs[pp], hdr)); err != nil {
		return err
	}
	ts := times(hdr)
	return futimens(fd, base, &ts)
}

// copyContent writes the current entry's content, size bytes, to fd,
// leaving all-zero chunks of holeChunk bytes (at multiples of holeChunk in
// the file) as holes, and returns how many bytes it wrote or skipped.
func (u *unpacker) copyContent(fd int, name string, size int64) (int64, error) {
	var off, end int64 // bytes seen; end of the last write
	for u.more {
		p, err := u.rd.next()
		if err != nil {
			return off, err
		}
		u.more = !p.end
		for data := p.data; len(data) > 0; {
			c := data[:min(len(data), holeChunk-int(off%holeChunk))]
			if !bytes.Equal(c, zeroChunk[:len(c)]) {
				if err := pwrite(fd, name, c, off); err != nil {
					return off, err
				}
				end = off + int64(len(c))
			}
			off += int64(len(c))
			data = data[len(c):]
		}
	}
	if off != size {
		return off, kindErrorf(ErrMalformed, "content is %d bytes, header says %d", off, size)
	}
	if end < size {
		if err := ftruncate(fd, name, size); err != nil {
			return off, err
		}
	}
	return off, nil
}

// skipContent passes over what is left of the current entry's content.
func (u *unpacker) skipContent() error {
	for u.more {
		p, err := u.rd.next()
		if err != nil {
			return err
		}
		u.more = !p.end
	}
	return nil
}

func (u *unpacker) symlink(p string, hdr *tar.Header) error {
	pfd, base, had, err := u.prepare(p, false)
	if err != nil {
		return err
	}
	if err := symlinkat(hdr.Linkname, pfd, base); err != nil {
		return err
	}
	u.addNode(p, kindSymlink, had == kindNone)
	pp, _ := split(p)
	return u.setMetaAt(pfd, base, hdr, u.needChown(u.dirs[pp], hdr), false)
}

func (u *unpacker) fifo(p string, hdr *tar.Header) error {
	pfd, base, had, err := u.prepare(p, false)
	if err != nil {
		return err
	}
	if err := mknodat(pfd, base, unix.S_IFIFO|0o600, 0); err != nil {
		return err
	}
	u.addNode(p, kindFifo, had == kindNone)
	pp, _ := split(p)
	return u.setMetaAt(pfd, base, hdr, u.needChown(u.dirs[pp], hdr), true)
}

// hardlink links p to target, the cleaned name of hdr.Linkname, which must
// be an earlier non-directory entry of this layer. The link shares the
// target's inode, so the header's own metadata is not applied.
func (u *unpacker) hardlink(p, target string, hdr *tar.Header) error {
	pfd, base, had, err := u.prepare(p, false)
	if err != nil {
		return err
	}
	// Looked up after prepare, which may have removed the target with p.
	switch u.nodes[target] {
	case kindFile, kindSymlink, kindFifo:
	case kindDir:
		return kindErrorf(ErrUnsafePath, "hardlink to directory %q", target)
	default:
		return kindErrorf(ErrUnsafePath, "hardlink to %q, not an earlier file of this layer", hdr.Linkname)
	}
	tdir, tbase := split(target)
	tfd, err := u.dirFD(tdir)
	if err != nil {
		return err
	}
	if err := linkat(tfd, tbase, pfd, base); err != nil {
		return err
	}
	u.addNode(p, u.nodes[target], had == kindNone)
	return nil
}

// whiteout makes the overlayfs whiteout for p.
func (u *unpacker) whiteout(p string) error {
	pp, base := split(p)
	pfd, err := u.dirAt(pp)
	if err != nil {
		return err
	}
	switch u.nodes[p] {
	case kindNone:
		if err := mkWhiteout(pfd, base); err != nil {
			return err
		}
		u.addNode(p, kindWhiteout, true)
	case kindDir:
		// This layer made p: the whiteout hides the lower p's contents.
		fd, err := u.dirFD(p)
		if err != nil {
			return err
		}
		return setOpaque(fd)
	}
	// Any other entry of this layer stays: whiteouts hide lower layers only.
	return nil
}

// opaque marks dir opaque, making it when the tar has not listed it yet.
func (u *unpacker) opaque(dir string) error {
	fd, err := u.dirAt(dir)
	if err != nil {
		return err
	}
	return setOpaque(fd)
}
