package images

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/human"
)

// Archive is an image archive opened in place, to read without loading it
// into a store: what "minidocker analyze FILE" looks at.
type Archive struct {
	a       archive
	cleanup func()
	// Images are the images the archive holds.
	Images []ArchiveImage
}

// ArchiveImage is one image of an Archive.
type ArchiveImage struct {
	Names  []string
	Config ocispec.Image
	a      archive
	srcs   []layerSource
}

// OpenArchive opens a docker-archive or OCI archive (file or directory)
// and reads its manifests and configs. A compressed archive is first
// decompressed into an unlinked file in os.TempDir().
func OpenArchive(p string) (*Archive, error) {
	a, cleanup, err := openArchive(p, os.TempDir())
	if err != nil {
		return nil, err
	}
	parsed, err := parseArchive(a)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("archive %s: %w", human.Visible(p), err)
	}
	out := &Archive{a: a, cleanup: cleanup}
	for _, pi := range parsed {
		out.Images = append(out.Images, ArchiveImage{Names: pi.names, Config: pi.config, a: a, srcs: pi.srcs})
	}
	return out, nil
}

// Close releases the archive.
func (ar *Archive) Close() error {
	ar.cleanup()
	return nil
}

// DiffIDs returns the image's layer digests, bottom first.
func (ai ArchiveImage) DiffIDs() []digest.Digest { return ai.Config.RootFS.DiffIDs }

// OpenLayer returns the uncompressed tar of layer i (bottom first). Reading
// it to EOF checks, as Load does, the blob's digest when the archive names
// it, then the diffID: a mismatch is returned as the final read error
// instead of io.EOF. A corrupt compressed stream is an error naming its
// compression ("gzip: invalid checksum").
func (ai ArchiveImage) OpenLayer(i int) (io.ReadCloser, error) {
	if i < 0 || i >= len(ai.srcs) {
		return nil, fmt.Errorf("layer %d: image has %d layers: %w", i+1, len(ai.srcs), ErrNotFound)
	}
	src := ai.srcs[i]
	rc, size, err := ai.a.open(src.member)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.where, err)
	}
	want := src.desc
	if want.Size >= 0 && want.Size != size {
		rc.Close()
		return nil, fmt.Errorf("%s: expected size %d, found %d: %w", src.where, want.Size, size, ErrSizeMismatch)
	}
	v := &verifiedLayer{rc: rc, where: src.where, wantBlob: want.Digest, diffHash: sha256.New(), wantDiff: ai.DiffIDs()[i]}
	var raw io.Reader = rc
	if want.Digest != "" {
		v.blobHash = want.Digest.Algorithm().Hash()
		raw = io.TeeReader(rc, v.blobHash)
	}
	v.br = bufio.NewReaderSize(raw, 256<<10)
	dr, _, closeDR, err := decompress(v.br)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("%s: %w", src.where, err)
	}
	v.closeDR = closeDR
	v.ahead = newReadAhead(io.TeeReader(dr, v.diffHash), 8, 256<<10)
	return v, nil
}

// verifiedLayer checks the blob's digest and the diffID as its reader
// reaches the end; the decompressing and hashing run ahead on a goroutine
// of their own.
type verifiedLayer struct {
	ahead    *readAhead
	rc       io.Closer
	br       *bufio.Reader // the raw blob, hashed into blobHash as it is read
	closeDR  func()
	where    string
	wantBlob digest.Digest
	blobHash hash.Hash
	diffHash hash.Hash
	wantDiff digest.Digest
}

func (v *verifiedLayer) Read(p []byte) (int, error) {
	n, err := v.ahead.Read(p)
	if err == nil {
		return n, nil
	}
	// The read-ahead goroutine has finished. A blob that is not the one its
	// descriptor names comes first, whatever its decompression met.
	if v.blobHash != nil {
		_, rerr := io.Copy(io.Discard, v.br)
		if rerr == nil {
			if got := digest.NewDigest(v.wantBlob.Algorithm(), v.blobHash); got != v.wantBlob {
				return n, fmt.Errorf("%s: expected digest %s, found %s: %w", v.where, v.wantBlob, got, ErrDigestMismatch)
			}
		} else if err == io.EOF {
			err = rerr
		}
	}
	if err != io.EOF {
		return n, fmt.Errorf("%s: %w", v.where, err)
	}
	if got := digest.NewDigest(digest.SHA256, v.diffHash); got != v.wantDiff {
		return n, fmt.Errorf("%s: uncompressed content: expected diffID %s, found %s: %w", v.where, v.wantDiff, got, ErrDigestMismatch)
	}
	return n, io.EOF
}

func (v *verifiedLayer) Close() error {
	v.ahead.Close()
	v.closeDR()
	return v.rc.Close()
}

// LayerInfo returns what can be told of the image's layers without
// decompressing them: DiffID, CreatedBy, BlobSize (the layer's size in the
// archive) and, for a layer stored uncompressed (docker save writes them
// so), ArchiveSize and ContentSize, read from the tar's headers alone. For
// a compressed layer ArchiveSize and ContentSize are 0: they need the whole
// layer decompressed, which MeasureLayer does. Nothing is checked against
// the diffIDs here.
func (ai ArchiveImage) LayerInfo() ([]LayerInfo, error) {
	by := LayerHistory(ai.Config, len(ai.srcs))
	out := make([]LayerInfo, len(ai.srcs))
	for i, src := range ai.srcs {
		li := LayerInfo{DiffID: ai.DiffIDs()[i], CreatedBy: by[i]}
		if err := ai.peekLayer(src.member, &li); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		out[i] = li
	}
	return out, nil
}

// peekLayer fills li's sizes from the archive member, reading only the
// tar headers of an uncompressed one.
func (ai ArchiveImage) peekLayer(member string, li *LayerInfo) error {
	rc, size, err := ai.a.open(member)
	if err != nil {
		return err
	}
	defer rc.Close()
	li.BlobSize = size
	seeker, ok := rc.(io.ReadSeeker)
	if !ok || sniff(bufio.NewReaderSize(rc, 16)) != Uncompressed {
		return nil
	}
	if _, err := seeker.Seek(0, io.SeekStart); err != nil {
		return err
	}
	n, err := tarContentSize(seeker)
	if err != nil {
		return err
	}
	li.ArchiveSize, li.ContentSize = size, n
	return nil
}

// MeasureLayer reads layer i (bottom first) whole, decompressing it and
// checking its diffID, and returns its LayerInfo with every size.
func (ai ArchiveImage) MeasureLayer(i int) (LayerInfo, error) {
	if i < 0 || i >= len(ai.srcs) {
		return LayerInfo{}, fmt.Errorf("layer %d: image has %d layers: %w", i+1, len(ai.srcs), ErrNotFound)
	}
	li := LayerInfo{DiffID: ai.DiffIDs()[i], CreatedBy: LayerHistory(ai.Config, len(ai.srcs))[i]}
	rc, size, err := ai.a.open(ai.srcs[i].member)
	if err != nil {
		return li, fmt.Errorf("layer %d: %w", i+1, err)
	}
	rc.Close()
	li.BlobSize = size
	lr, err := ai.OpenLayer(i)
	if err != nil {
		return li, err
	}
	defer lr.Close()
	counted := &countingReader{r: lr}
	if li.ContentSize, err = tarContentSize(counted); err != nil {
		return li, fmt.Errorf("layer %d: %w", i+1, err)
	}
	// Read to the end: the padding after the tar's end counts, and the
	// diffID is checked at EOF.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return li, fmt.Errorf("layer %d: %w", i+1, err)
	}
	li.ArchiveSize = counted.n
	return li, nil
}

// tarContentSize reads the layer tar r up to its end marker and returns the
// sum of the sizes of its regular files (LayerInfo.ContentSize). When r can
// seek, file contents are passed over without being read.
func tarContentSize(r io.Reader) (int64, error) {
	tr := tar.NewReader(r)
	var n int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read layer tar: %w", err)
		}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeGNUSparse {
			n += hdr.Size
		}
	}
}
