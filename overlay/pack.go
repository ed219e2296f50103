package overlay

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// How Pack reverses Unpack, writing a container's upper directory as an OCI
// layer tar. The rules, entry by entry (pack_walk.go reads them):
//
//   - A character device 0:0, or a zero-size file with the xattr
//     trusted.overlay.whiteout, becomes an empty regular file .wh.NAME, at the
//     place NAME has in its directory. It is recognised before hard links are
//     tracked: the kernel links every whiteout of an upper directory to one
//     shared inode (overlayfs since Linux 5.8), and they are not hard links
//     of each other in the layer's meaning.
//   - A directory with trusted.overlay.opaque=y becomes its own entry
//     followed by DIR/.wh..wh..opq.
//   - No trusted.* xattr leaves; the user.*, security.* and
//     system.posix_acl_* ones, the names Unpack accepts, go out as PAX
//     records. A redirect (trusted.overlay.redirect, a renamed lower
//     directory) or a metacopy file (data left in a lower layer) cannot be
//     written as a layer and is refused; the engine mounts with
//     redirect_dir=nofollow and metacopy=off (mountplan.go), so that the
//     kernel never makes either.
//   - A file with several names is written once, at its first name in tar
//     order; the later names are hard links to it.
//   - Sockets are skipped (a tar cannot hold one, and docker skips them too);
//     device nodes and fifos are written as such.
//   - The mount points the engine made, as PackOptions.MountPoints says, are
//     left out.
//
// The output is the same for the same upper directory, byte for byte, and so
// is its digest: entries in tar order (a directory, then its entries by byte
// order of their names, depth first: the order of Walk and Diff), owners by
// number only, times in whole seconds without access or change times, and
// the PAX format only for the entries that need it (long names, large
// numbers, xattrs).

// PackOptions says what of an upper directory Pack leaves out and how it
// stamps times.
type PackOptions struct {
	// Lower are the directories of the layers beneath the upper directory,
	// bottom first: the container's image layers. They are read only to
	// tell whether a path is the image's (see MountPoints).
	Lower []string
	// MountPoints are absolute in-container paths the engine mounted over:
	// volume targets, /proc, /sys, /dev, /etc/hostname, /etc/resolv.conf,
	// /etc/hosts. An upper directory at such a path, or one holding such a
	// path beneath it, is left out when the lower layers lack its path and
	// it holds nothing but what is left out (the engine made it to mount
	// on); an upper file at such a path (the empty file the engine bound
	// over) is left out always.
	MountPoints []string
	// ModTime, when set, clamps every entry's modification time to at most
	// *ModTime (SOURCE_DATE_EPOCH, as buildkit's rewrite-timestamp does),
	// and stamps the whiteout and opaque entries. Without it those take the
	// time of the whiteout device and of the opaque directory.
	ModTime *time.Time
}

// PackStats counts what Pack wrote. Entries counts tar entries; Files
// counts regular files, Bytes their content, Hardlinks the later names of
// files with several; Whiteouts and Opaques count the .wh.NAME and
// .wh..wh..opq entries; Specials the device nodes and fifos. Sockets counts
// the sockets skipped, and Excluded the engine's mount points left out.
type PackStats struct {
	Entries, Files, Dirs, Symlinks, Hardlinks, Whiteouts, Opaques, Specials, Bytes int64
	Sockets, Excluded                                                              int64
}

// PackKind is what a tar entry written by Pack stands for.
type PackKind uint8

// The kinds of entry Pack writes.
const (
	PackFile     PackKind = iota // a regular file
	PackDir                      // a directory
	PackSymlink                  // a symbolic link
	PackHardlink                 // a later name of a file written before
	PackChar                     // a character device other than 0:0
	PackBlock                    // a block device
	PackFifo                     // a named pipe
	PackWhiteout                 // .wh.NAME: a whiteout in the upper directory
	PackOpaque                   // DIR/.wh..wh..opq: an opaque directory
)

var packKindNames = [...]string{"file", "dir", "symlink", "hardlink", "char", "block", "fifo", "whiteout", "opaque"}

// String returns the kind's name, such as "whiteout".
func (k PackKind) String() string {
	if int(k) < len(packKindNames) {
		return packKindNames[k]
	}
	return "unknown"
}

// The overlayfs forms a PackEntry names for its whiteouts and opaque markers.
const (
	formWhiteoutDevice = "c 0:0"
	formWhiteoutXattr  = xattrWhiteout
	formOpaque         = opaqueXattr + "=y"
)

// PackEntry is one tar entry Pack writes, as PackList lists it. A whiteout
// or opaque marker is given in both forms: Path and Overlay say what the
// upper directory holds, TarName what the layer holds.
type PackEntry struct {
	// Path is the in-container path the entry is about: "/etc/x" for a
	// file, and for a whiteout the path it deletes, for an opaque marker
	// its directory.
	Path string
	// TarName is the entry's name in the tar: "etc/x", "etc/" for a
	// directory, "etc/.wh.x" for a whiteout, "d/.wh..wh..opq".
	TarName string
	Kind    PackKind
	// Overlay is, for a whiteout or opaque marker, its form in the upper
	// directory: "c 0:0" (a character device 0:0), "trusted.overlay.whiteout"
	// (an xattr whiteout) or "trusted.overlay.opaque=y"; "" for the rest.
	Overlay string
	Size    int64 // bytes of content of a regular file
	// Linkname is a symlink's target, or for a hard link the TarName of
	// the file's first name.
	Linkname string
	Mode     fs.FileMode // as the tar entry gives it: type, permissions, setuid, setgid, sticky
	UID, GID int
}

// packed is one entry on its way out: the tar header and what the listing
// needs beyond it.
type packed struct {
	kind PackKind
	rel  string // the in-container path, without the leading "/"
	form string // the overlayfs form of a whiteout or opaque marker
	hdr  *tar.Header
	fd   int // a regular file's content, open; -1 for none
}

// Pack writes the upper directory upper as an uncompressed OCI layer tar to
// w (the caller compresses), by the rules above, and returns what it wrote.
// It needs root: trusted.* xattrs, which mark opaque directories, are
// invisible to other users, and Pack would write a wrong layer without them.
//
// Pack reads under upper only and never follows a symlink: a directory is
// opened one component at a time with O_NOFOLLOW from its parent's
// descriptor, a file likewise. The upper directory must not change while it
// is read (the engine freezes the container); an entry that vanishes is
// skipped, a file that shrinks is an error. Errors name the entry by its
// in-container path, quoted.
func Pack(upper string, w io.Writer, opts PackOptions) (PackStats, error) {
	bw := bufio.NewWriterSize(w, packWriteBuf)
	tw := tar.NewWriter(bw)
	p := newPacker(upper, opts)
	buf := make([]byte, packReadBuf)
	p.emit = func(e *packed) error {
		if err := tw.WriteHeader(e.hdr); err != nil {
			return fmt.Errorf("write header: %w", err)
		}
		if e.fd < 0 || e.hdr.Size == 0 {
			return nil
		}
		n, err := copyFD(tw, e.fd, e.hdr.Size, buf)
		p.stats.Bytes += n
		return err
	}
	if err := p.run(); err != nil {
		return p.stats, err
	}
	if err := tw.Close(); err != nil {
		return p.stats, fmt.Errorf("pack %s: %w", upper, err)
	}
	if err := bw.Flush(); err != nil {
		return p.stats, fmt.Errorf("pack %s: %w", upper, err)
	}
	return p.stats, nil
}

// PackList returns the entries Pack would write for upper with opts, in the
// same order, without reading any file's content: what `commit --dry-run`
// shows.
func PackList(upper string, opts PackOptions) ([]PackEntry, error) {
	var out []PackEntry
	p := newPacker(upper, opts)
	p.emit = func(e *packed) error {
		out = append(out, PackEntry{
			Path:     "/" + e.rel,
			TarName:  e.hdr.Name,
			Kind:     e.kind,
			Overlay:  e.form,
			Size:     e.hdr.Size,
			Linkname: e.hdr.Linkname,
			Mode:     e.hdr.FileInfo().Mode(),
			UID:      e.hdr.Uid,
			GID:      e.hdr.Gid,
		})
		return nil
	}
	if err := p.run(); err != nil {
		return nil, err
	}
	return out, nil
}

// The buffers of Pack: one for reading file content, shared by every file,
// and one between the tar writer and w, so that a header, its content and
// its padding reach w in few writes.
const (
	packReadBuf  = 128 << 10
	packWriteBuf = 64 << 10
)

// copyFD copies size bytes of the regular file open as fd to w through buf,
// and returns how many it copied. Reading the descriptor directly, rather
// than io.Copy from an *os.File, spares a buffer per file: File.WriteTo
// allocates one for a writer that is not a socket.
func copyFD(w io.Writer, fd int, size int64, buf []byte) (int64, error) {
	var off int64
	for off < size {
		n, err := readFD(fd, buf[:min(int64(len(buf)), size-off)])
		if err != nil {
			return off, err
		}
		if n == 0 {
			return off, fmt.Errorf("file shrank while read: %d of %d bytes", off, size)
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return off, err
		}
		off += int64(n)
	}
	return off, nil
}
