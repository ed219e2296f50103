package images

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/overlay"
)

// ImportOptions says what Import does with what a root filesystem tar
// holds that a layer may not.
type ImportOptions struct {
	// Strict refuses a tar holding device nodes, which are otherwise left
	// out and counted.
	Strict bool
}

// ImportStats counts what Import left out of the tar.
type ImportStats struct {
	// Devices counts the character and block device entries skipped.
	Devices int
}

// Import makes a one-layer image named name from the root filesystem tar at
// p (plain, gzip or zstd), as docker import does. The layer is stored
// gzip-compressed, as Create's are.
//
// A root filesystem made by debootstrap or docker export holds device nodes
// under /dev, which the unpacker refuses in any layer; a container gets its
// /dev from the engine. Import leaves them out, byte for byte keeping the
// rest of the tar, and counts them, or refuses them with opts.Strict. Fifos
// are kept.
func (s *Store) Import(p, name string, opts ImportOptions) (Image, ImportStats, error) {
	var stats ImportStats
	n, err := ParseName(name)
	if err != nil {
		return Image{}, stats, err
	}
	f, err := os.Open(p)
	if err != nil {
		return Image{}, stats, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	unlock, err := s.lock()
	if err != nil {
		return Image{}, stats, err
	}
	defer unlock()
	res, err := s.ingestGenerated(func(w io.Writer) error {
		dr, _, closeDR, err := decompress(bufio.NewReaderSize(f, 256<<10))
		if err != nil {
			return err
		}
		defer closeDR()
		stats.Devices, err = dropDevices(w, dr, opts.Strict)
		return err
	}, Gzip, false)
	if err != nil {
		return Image{}, stats, fmt.Errorf("import %s: %w", p, err)
	}
	now := time.Now().UTC()
	img := newImage(now, ocispec.ImageConfig{})
	img.RootFS.DiffIDs = []digest.Digest{res.diffID}
	img.History = []ocispec.History{{Created: &now, CreatedBy: "minidocker import " + p, Comment: "imported from a root filesystem tar"}}
	img2, err := s.commitImage(img, []ocispec.Descriptor{res.desc}, []string{n})
	return img2, stats, err
}

// dropDevices copies the tar read from r to w without its character and
// block device entries, and returns how many it left out; with strict, the
// first one is an error instead. Every other byte is copied as it is, the
// headers of each entry and whatever follows the end of the archive alike,
// so a tar without devices comes out the same.
//
// tar.Reader reads exactly the blocks it parses, so the bytes it read for
// one call of Next are the padding of the previous entry's content up to
// the next 512-byte block, then the headers of the entry (with PAX and GNU
// extension headers); the content is read after, by draining the entry.
func dropDevices(w io.Writer, r io.Reader, strict bool) (int, error) {
	rec := &tarRecorder{r: r, w: w}
	tr := tar.NewReader(rec)
	dropped, droppedLast := 0, false
	for {
		start := rec.n
		rec.hold, rec.buf = true, rec.buf[:0]
		hdr, err := tr.Next()
		pad := min(int(-start&511), len(rec.buf))
		if !droppedLast {
			rec.write(rec.buf[:pad])
		}
		rest := rec.buf[pad:]
		if err == io.EOF {
			rec.write(rest)
			rec.hold, rec.drop = false, false
			_, err = io.Copy(io.Discard, rec)
			return dropped, err
		}
		if err != nil {
			return dropped, fmt.Errorf("read tar header: %w", err)
		}
		device := hdr.Typeflag == tar.TypeChar || hdr.Typeflag == tar.TypeBlock
		if device && strict {
			return dropped, fmt.Errorf("entry %q: device node %d:%d refused (strict): %w", hdr.Name, hdr.Devmajor, hdr.Devminor, overlay.ErrUnsupported)
		}
		if device {
			dropped++
		} else {
			rec.write(rest)
		}
		rec.hold, rec.drop, droppedLast = false, device, device
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return dropped, fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		if rec.werr != nil {
			return dropped, rec.werr
		}
	}
}

// tarRecorder passes what is read from r on to w, holds it in buf while
// hold is set, or drops it while drop is set.
type tarRecorder struct {
	r          io.Reader
	w          io.Writer
	n          int64
	buf        []byte
	hold, drop bool
	werr       error
}

func (t *tarRecorder) Read(p []byte) (int, error) {
	if t.werr != nil {
		return 0, t.werr
	}
	n, err := t.r.Read(p)
	t.n += int64(n)
	switch {
	case t.hold:
		t.buf = append(t.buf, p[:n]...)
	case !t.drop:
		t.write(p[:n])
	}
	return n, err
}

func (t *tarRecorder) write(b []byte) {
	if t.werr == nil && len(b) > 0 {
		_, t.werr = t.w.Write(b)
	}
}
