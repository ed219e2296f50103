package overlay

import (
	"archive/tar"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// hashSeed seeds the content hashes of a process; they compare only within it.
var hashSeed = maphash.MakeSeed()

// ReadTar reads an uncompressed layer tar from r without unpacking it. A
// .wh.NAME entry becomes a whiteout node NAME, and .wh..wh..opq marks its
// directory opaque; other .wh..wh.* names are ignored. As when the layer is
// applied, a later entry of a path replaces an earlier one (a directory over
// a directory keeps its children), a whiteout of a path the layer itself
// holds leaves a file in place and makes a directory opaque, and a directory
// entry after a whiteout of its own path is opaque. Parents a tar leaves out
// are made as directories 0755 owned by root. A hardlink takes the metadata
// and content hash of its target when the target is in the layer. Regular
// files record a hash of their content.
//
// A name that escapes the layer is refused with ErrUnsafePath; a broken tar
// with ErrMalformed. Control characters in names are kept: print names with
// human.Visible.
func ReadTar(r io.Reader) (*Tree, error) {
	tr := tar.NewReader(r)
	b := newTreeBuilder()
	var h maphash.Hash
	h.SetSeed(hashSeed)
	// One copy buffer for every file: io.Copy would allocate 32 KiB per file.
	buf := make([]byte, 64<<10)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read layer tar: %w: %w", ErrMalformed, err)
		}
		if err := b.tarEntry(hdr, tr, &h, buf); err != nil {
			return nil, fmt.Errorf("read layer tar: entry %q: %w", human.Visible(hdr.Name), err)
		}
	}
	return b.tree(), nil
}

// tarEntry adds one tar entry to the tree being built.
func (b *treeBuilder) tarEntry(hdr *tar.Header, r io.Reader, h *maphash.Hash, buf []byte) error {
	p, err := tarPath(hdr.Name)
	if err != nil {
		return err
	}
	parent, base := splitPath(p)
	switch kind, name := classifyWhiteout(base); kind {
	case whiteoutDir:
		i := b.dir(parent)
		b.nodes[i].r.flags |= flagOpaque
		return nil
	case whiteoutSkip:
		return nil
	case whiteoutWrong:
		return fmt.Errorf("%w: whiteout of no name", ErrUnsafePath)
	case whiteoutFile:
		target := joinRel(parent, name)
		if i, ok := b.index[target]; ok {
			if b.nodes[i].r.mode.IsDir() {
				b.nodes[i].r.flags |= flagOpaque
			}
			return nil
		}
		b.put(target, rec{mode: fs.ModeDevice | fs.ModeCharDevice, mtime: hdr.ModTime.UnixNano(), flags: flagWhiteout}, extra{})
		return nil
	}
	r0 := rec{
		size:  0,
		mtime: hdr.ModTime.UnixNano(),
		mode:  modeFromUnix(uint32(hdr.Mode) & 0o7777),
		uid:   uint32(hdr.Uid),
		gid:   uint32(hdr.Gid),
	}
	var x extra
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		r0.size = hdr.Size
		h.Reset()
		if _, err := io.CopyBuffer(h, r, buf); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		r0.hash = h.Sum64()
	case tar.TypeDir:
		r0.mode |= fs.ModeDir
		if i, ok := b.index[p]; ok && b.nodes[i].r.flags&flagWhiteout != 0 {
			r0.flags |= flagOpaque
		}
	case tar.TypeSymlink:
		r0.mode |= fs.ModeSymlink
		r0.size = int64(len(hdr.Linkname))
		x.link = hdr.Linkname
	case tar.TypeLink:
		target, err := tarPath(hdr.Linkname)
		if err != nil || target == "" {
			return fmt.Errorf("%w: hardlink to %q", ErrUnsafePath, human.Visible(hdr.Linkname))
		}
		if i, ok := b.index[target]; ok && !b.nodes[i].r.mode.IsDir() {
			t := b.nodes[i].r
			r0.mode, r0.uid, r0.gid, r0.size, r0.mtime, r0.hash = t.mode, t.uid, t.gid, t.size, t.mtime, t.hash
			x = b.nodes[i].x
		}
		x.hardlink = "/" + target
	case tar.TypeChar:
		r0.mode |= fs.ModeDevice | fs.ModeCharDevice
		x.rdev = unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	case tar.TypeBlock:
		r0.mode |= fs.ModeDevice
		x.rdev = unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	case tar.TypeFifo:
		r0.mode |= fs.ModeNamedPipe
	default:
		return nil // pax and GNU meta entries are consumed by archive/tar; others carry no file
	}
	if p == "" && !r0.mode.IsDir() {
		return fmt.Errorf("%w: layer root is not a directory", ErrUnsafePath)
	}
	b.put(p, r0, x)
	return nil
}

// tarPath cleans a tar entry name into "a/b" ("" for the root), refusing a
// name that leaves the layer.
func tarPath(name string) (string, error) {
	n := strings.TrimLeft(name, "/")
	for strings.HasPrefix(n, "./") {
		n = strings.TrimLeft(n[2:], "/")
	}
	if n == "" || n == "." || n == "./" {
		return "", nil
	}
	c := path.Clean(n)
	if c == ".." || strings.HasPrefix(c, "../") || strings.Contains(n, "\x00") {
		return "", fmt.Errorf("%w: path escapes layer", ErrUnsafePath)
	}
	for part := range strings.SplitSeq(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: path escapes layer", ErrUnsafePath)
		}
	}
	if c == "." {
		return "", nil
	}
	return c, nil
}
