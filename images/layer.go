package images

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/overlay"

	"minidocker/internal/human"
)

// LayerMeta describes a stored layer; it is kept beside the layer's
// directory as meta.json, and alone for a layer stored lazily (lazy.go).
type LayerMeta struct {
	DiffID digest.Digest `json:"diffID"`
	// TarSize is the length of the uncompressed layer tar (LayerInfo.ArchiveSize).
	TarSize int64 `json:"tarSize"`
	// ContentSize is the sum of the sizes of the layer's regular files, as
	// the unpack counted them (LayerInfo.ContentSize): the layer's size as
	// docker and dive show it. A meta.json from before this field gets it
	// when Layer first reads it.
	ContentSize int64 `json:"contentSize"`
	// Blob is the digest of the (possibly compressed) blob it came from.
	Blob          digest.Digest `json:"blob"`
	BlobMediaType string        `json:"blobMediaType"`
	// Stats counts the layer's entries as the unpack counted them, or as
	// it will for a layer stored lazily.
	Stats overlay.UnpackStats `json:"stats"`
	// Unpacked is when the layer's directory was made; zero for a layer
	// stored lazily and not unpacked yet (whether it is, is told by the
	// directory, not by this field).
	Unpacked time.Time `json:"unpacked"`
}

// shortLen is the length of a layer's short link name in l/: the engine puts
// many layer paths in one mount option, so they must stay short.
const shortLen = 12

// LayerDir returns the directory holding the unpacked layer diffID, ready to
// be a lower directory of an overlay mount.
func (s *Store) LayerDir(diffID digest.Digest) string {
	return s.path("layers", diffID.Encoded(), "diff")
}

// LayerLink returns a short path that links to LayerDir(diffID).
func (s *Store) LayerLink(diffID digest.Digest) string {
	return s.path("l", diffID.Encoded()[:shortLen])
}

// HasLayer reports whether the store holds the layer diffID: unpacked, or
// stored lazily with its blob, to be unpacked by LayerDirs on first use.
func (s *Store) HasLayer(diffID digest.Digest) bool {
	if diffID.Validate() != nil {
		return false
	}
	_, err := os.Stat(s.path("layers", diffID.Encoded(), "meta.json"))
	return err == nil
}

// Layer returns what the store knows of the stored layer diffID. For a
// layer unpacked before ContentSize was recorded, the first call computes
// it and saves it back (see readLayerMeta).
func (s *Store) Layer(diffID digest.Digest) (LayerMeta, error) {
	if err := diffID.Validate(); err != nil {
		return LayerMeta{}, fmt.Errorf("layer %s: %w", human.Visible(string(diffID)), err)
	}
	return s.readLayerMeta(diffID)
}

// LayerDirs returns the unpacked directories of img's layers, bottom first,
// through their short links. A layer stored lazily is unpacked first, from
// its blob, under the store's lock (see unpackLazy); its diffID is checked
// on the way.
func (s *Store) LayerDirs(img Image) ([]string, error) {
	var dirs []string
	var lazy []int
	for i, d := range img.DiffIDs() {
		if !s.HasLayer(d) {
			return nil, fmt.Errorf("image %s: layer %s: %w", img.ShortID(), d, ErrNotFound)
		}
		if !s.unpacked(d) {
			lazy = append(lazy, i)
		}
		dirs = append(dirs, s.LayerLink(d))
	}
	if len(lazy) > 0 {
		if err := s.unpackLazy(img, lazy); err != nil {
			return nil, err
		}
	}
	return dirs, nil
}

// layerResult is what ingesting one layer blob found.
type layerResult struct {
	desc   ocispec.Descriptor
	diffID digest.Digest
}

// ingestLayer stores the layer blob read from r and unpacks it, in one pass,
// as readLayer and commit do; name labels its errors.
func (s *Store) ingestLayer(r io.Reader, want ocispec.Descriptor, wantDiffID digest.Digest, name string) (layerResult, error) {
	pl, err := s.readLayer(r, want, wantDiffID, name)
	if err != nil {
		return layerResult{}, err
	}
	desc, err := pl.commit(s)
	return layerResult{desc: desc, diffID: pl.meta.DiffID}, err
}

// pendingLayer is a layer blob read whole, checked, and unpacked in the
// store's temp area: commit moves it into the store, discard drops it.
type pendingLayer struct {
	name string
	bw   *blobWriter
	tmp  string // the temp directory holding diff/; "" when the layer was unpacked already
	lazy bool   // tmp has no diff/: the layer is stored lazily
	meta LayerMeta
	desc ocispec.Descriptor
}

// maxDrain bounds how much of a decompressed stream is read past a tar
// error, to find whether the compression is what is broken.
const maxDrain = 1 << 30

// readLayer reads the layer blob from r into the temp area, stored and
// unpacked in one pass. want.Digest and wantDiffID are checked when set,
// want.Size when not negative: the blob's digest first, then the diffID.
// The caller holds the lock. On error nothing is left; errors start with
// name, the layer's descriptor, when it is not empty.
func (s *Store) readLayer(r io.Reader, want ocispec.Descriptor, wantDiffID digest.Digest, name string) (_ *pendingLayer, err error) {
	bw, err := s.newBlobWriter()
	if err != nil {
		return nil, err
	}
	pl := &pendingLayer{name: name, bw: bw}
	defer func() {
		if err != nil {
			pl.discard()
			if name != "" {
				err = fmt.Errorf("%s: %w", name, err)
			}
		}
	}()
	br := bufio.NewReaderSize(io.TeeReader(r, bw), 256<<10)
	dr, comp, closeDR, err := decompress(br)
	if err != nil {
		return nil, err
	}
	defer closeDR()
	dh := sha256.New()
	counted := &countingReader{r: io.TeeReader(dr, dh)}

	var stats overlay.UnpackStats
	if wantDiffID != "" && s.HasLayer(wantDiffID) {
		// Already stored (unpacked, or lazily: LayerDirs unpacks it): only
		// the blob is new; still check the diffID.
		_, err = io.Copy(io.Discard, counted)
	} else {
		if pl.tmp, err = s.tempDir("layer-"); err != nil {
			return nil, err
		}
		unpackDir := filepath.Join(pl.tmp, "diff")
		if err := os.Mkdir(unpackDir, 0o755); err != nil {
			return nil, err
		}
		stats, err = overlay.Unpack(counted, unpackDir, s.unpackOptions())
	}
	if err != nil {
		return nil, unpackCause(err, dr, br, bw, want)
	}
	// Read what follows the compressed stream, so the blob digest covers it all.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, err
	}
	if err := bw.check(want.Digest, want.Size); err != nil {
		return nil, err
	}
	diffID := digest.NewDigest(digest.SHA256, dh)
	if wantDiffID != "" && diffID != wantDiffID {
		return nil, fmt.Errorf("uncompressed content: expected diffID %s, found %s: %w", wantDiffID, diffID, ErrDigestMismatch)
	}
	pl.meta = LayerMeta{DiffID: diffID, TarSize: counted.n, ContentSize: stats.Bytes, Blob: bw.digest(), BlobMediaType: comp.mediaType(), Stats: stats}
	pl.desc = ocispec.Descriptor{MediaType: comp.mediaType(), Digest: bw.digest(), Size: bw.n}
	return pl, nil
}

// unpackCause returns the cause of the unpack error err. A blob that is not
// the one its descriptor names is the cause of whatever its reading met; a
// compressed stream that is corrupt often decompresses to garbage (a bad
// tar header, a strange name) a while before its checksum fails, so the
// stream is read past the error, up to maxDrain, to find whether the
// decompressor fails further on.
func unpackCause(err error, dr io.Reader, br io.Reader, bw *blobWriter, want ocispec.Descriptor) error {
	var se *streamError
	fromArchive := want.Digest != "" || want.Size >= 0 // not a layer this process generates
	if !errors.As(err, &se) && fromArchive {
		if _, derr := io.CopyN(io.Discard, dr, maxDrain); derr != nil && derr != io.EOF {
			errors.As(derr, &se)
		}
	}
	if want.Digest != "" {
		if _, rerr := io.Copy(io.Discard, br); rerr == nil {
			if cerr := bw.check(want.Digest, want.Size); cerr != nil {
				return cerr
			}
		}
	}
	if se != nil {
		return se
	}
	return err
}

// commit moves the layer into the store and returns its blob's descriptor.
// On error nothing of it is left in the temp area.
func (pl *pendingLayer) commit(s *Store) (ocispec.Descriptor, error) {
	defer pl.discard()
	_, err := pl.bw.place(s)
	if err == nil && pl.tmp != "" {
		if !pl.lazy {
			pl.meta.Unpacked = time.Now().UTC()
		}
		err = s.placeLayer(pl.tmp, pl.meta)
	}
	if err != nil && pl.name != "" {
		err = fmt.Errorf("%s: %w", pl.name, err)
	}
	return pl.desc, err
}

// discard drops what is left of the layer in the temp area.
func (pl *pendingLayer) discard() {
	pl.bw.discard()
	if pl.tmp != "" {
		removeAll(pl.tmp)
	}
}

// placeLayer renames the finished layer directory tmp (holding diff/, or
// not for a layer stored lazily) into layers/, writes its meta.json and,
// once the layer is unpacked, its short link.
func (s *Store) placeLayer(tmp string, meta LayerMeta) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(tmp, "meta.json"), b, 0o600); err != nil {
		return err
	}
	dst := s.path("layers", meta.DiffID.Encoded())
	if err := os.Rename(tmp, dst); err != nil {
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, errNotEmpty) {
			return fmt.Errorf("place layer: %w", err)
		}
		// Another load placed the same layer first: keep theirs, given
		// our directory if theirs was stored lazily.
		if err := s.fillLayer(tmp, meta.DiffID); err != nil {
			return err
		}
	}
	if err := syncDir(s.path("layers")); err != nil {
		return err
	}
	if !s.unpacked(meta.DiffID) {
		return nil
	}
	return s.linkLayer(meta.DiffID)
}

// linkLayer makes l/<short> point at the layer's diff directory.
func (s *Store) linkLayer(diffID digest.Digest) error {
	link := s.LayerLink(diffID)
	target := filepath.Join("..", "layers", diffID.Encoded(), "diff")
	if cur, err := os.Readlink(link); err == nil {
		if cur == target {
			return nil
		}
		return fmt.Errorf("layer %s: short link %s already points to %s", diffID, link, cur)
	}
	tmp := link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("link layer %s: %w", diffID, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("link layer %s: %w", diffID, err)
	}
	return syncDir(filepath.Dir(link))
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
