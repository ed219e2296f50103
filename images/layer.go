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

// LayerMeta describes an unpacked layer; it is kept beside the layer's
// directory as meta.json.
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
	Blob          digest.Digest       `json:"blob"`
	BlobMediaType string              `json:"blobMediaType"`
	Stats         overlay.UnpackStats `json:"stats"`
	Unpacked      time.Time           `json:"unpacked"`
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

// HasLayer reports whether the layer diffID is unpacked in the store.
func (s *Store) HasLayer(diffID digest.Digest) bool {
	if diffID.Validate() != nil {
		return false
	}
	_, err := os.Stat(s.path("layers", diffID.Encoded(), "meta.json"))
	return err == nil
}

// Layer returns what the store knows of the unpacked layer diffID. For a
// layer unpacked before ContentSize was recorded, the first call computes
// it and saves it back (see readLayerMeta).
func (s *Store) Layer(diffID digest.Digest) (LayerMeta, error) {
	if err := diffID.Validate(); err != nil {
		return LayerMeta{}, fmt.Errorf("layer %s: %w", human.Visible(string(diffID)), err)
	}
	return s.readLayerMeta(diffID)
}

// LayerDirs returns the unpacked directories of img's layers, bottom first,
// through their short links.
func (s *Store) LayerDirs(img Image) ([]string, error) {
	var dirs []string
	for _, d := range img.DiffIDs() {
		if !s.HasLayer(d) {
			return nil, fmt.Errorf("image %s: layer %s: %w", img.ShortID(), d, ErrNotFound)
		}
		dirs = append(dirs, s.LayerLink(d))
	}
	return dirs, nil
}

// layerResult is what ingesting one layer blob found.
type layerResult struct {
	desc   ocispec.Descriptor
	diffID digest.Digest
}

// ingestLayer stores the layer blob read from r and unpacks it, in one pass.
// want.Digest and wantDiffID are checked when set, want.Size when positive.
// The caller holds the lock. On error nothing is left in the store.
func (s *Store) ingestLayer(r io.Reader, want ocispec.Descriptor, wantDiffID digest.Digest) (layerResult, error) {
	name := string(want.Digest)
	if name == "" {
		name = string(wantDiffID)
	}
	if name == "" {
		name = "(new layer)"
	}
	fail := func(err error) (layerResult, error) {
		return layerResult{}, fmt.Errorf("layer %s: %w", name, err)
	}
	bw, err := s.newBlobWriter()
	if err != nil {
		return fail(err)
	}
	defer bw.discard()
	br := bufio.NewReaderSize(io.TeeReader(r, bw), 256<<10)
	dr, comp, closeDR, err := decompress(br)
	if err != nil {
		return fail(err)
	}
	defer closeDR()
	dh := sha256.New()
	counted := &countingReader{r: io.TeeReader(dr, dh)}

	unpackDir := ""
	var stats overlay.UnpackStats
	if wantDiffID != "" && s.HasLayer(wantDiffID) {
		// Already unpacked: only the blob is new; still check the diffID.
		if _, err := io.Copy(io.Discard, counted); err != nil {
			return fail(err)
		}
	} else {
		tmp, err := s.tempDir("layer-")
		if err != nil {
			return fail(err)
		}
		defer removeAll(tmp)
		unpackDir = filepath.Join(tmp, "diff")
		if err := os.Mkdir(unpackDir, 0o755); err != nil {
			return fail(err)
		}
		stats, err = overlay.Unpack(counted, unpackDir, overlay.UnpackOptions{MaxBytes: s.unpack.MaxBytes, MaxEntries: s.unpack.MaxEntries})
		if err != nil {
			return fail(err)
		}
	}
	// Read what follows the compressed stream, so the blob digest covers it all.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return fail(err)
	}
	diffID := digest.NewDigest(digest.SHA256, dh)
	if wantDiffID != "" && diffID != wantDiffID {
		return fail(fmt.Errorf("uncompressed content hashes to %s: %w", diffID, ErrDigestMismatch))
	}
	size := want.Size
	if size <= 0 {
		size = -1
	}
	blob, n, err := bw.commit(s, want.Digest, size)
	if err != nil {
		return fail(err)
	}
	if unpackDir != "" {
		meta := LayerMeta{DiffID: diffID, TarSize: counted.n, ContentSize: stats.Bytes, Blob: blob, BlobMediaType: comp.mediaType(), Stats: stats, Unpacked: time.Now().UTC()}
		if err := s.placeLayer(filepath.Dir(unpackDir), meta); err != nil {
			return fail(err)
		}
	}
	return layerResult{
		desc:   ocispec.Descriptor{MediaType: comp.mediaType(), Digest: blob, Size: n},
		diffID: diffID,
	}, nil
}

// placeLayer renames the finished layer directory tmp (holding diff/) into
// layers/, writes its meta.json and its short link.
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
		// Another load placed the same layer first: keep theirs.
	}
	if err := syncDir(s.path("layers")); err != nil {
		return err
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
