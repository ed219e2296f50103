package images

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// LayerInfo is what every printer of an image's layers shows of one layer:
// "images", "history", "layers", "analyze", "system df" and the TUI take
// their numbers from here, so that one image reads the same everywhere.
type LayerInfo struct {
	DiffID digest.Digest
	// ContentSize is the layer's size as docker history, docker images and
	// dive show it: the sum of the sizes of the regular files the layer's
	// tar holds. A hardlink counts once (its tar entry has no content), a
	// whiteout, a directory or a symlink counts 0.
	ContentSize int64
	// ArchiveSize is the length of the uncompressed layer tar, headers and
	// padding included (LayerMeta.TarSize).
	ArchiveSize int64
	// BlobSize is the size of the blob the layer is stored or shipped as,
	// compressed or not; 0 when there is no blob.
	BlobSize int64
	// CreatedBy is the history line that made the layer (see LayerHistory);
	// it is text from the image, to be made visible before printing.
	CreatedBy string
}

// LayerHistory returns the CreatedBy line of each of the first n layers of
// an image with config cfg: the history entries that are not marked
// EmptyLayer are paired with the layers, bottom first, as docker history
// pairs them. A layer without a history entry gets "".
func LayerHistory(cfg ocispec.Image, n int) []string {
	out := make([]string, max(n, 0))
	for i, l := range HistoryLayers(cfg) {
		if l >= 0 && l < n {
			out[l] = cfg.History[i].CreatedBy
		}
	}
	return out
}

// HistoryLayers pairs each entry of cfg.History with the layer it made:
// out[i] is the index in cfg.RootFS.DiffIDs of the layer of entry i, or -1
// when the entry is marked EmptyLayer or there is no layer left for it.
// LayerHistory is this pairing seen from the layers.
func HistoryLayers(cfg ocispec.Image) []int {
	out := make([]int, len(cfg.History))
	layer := 0
	for i, h := range cfg.History {
		out[i] = -1
		if h.EmptyLayer {
			continue
		}
		if layer < len(cfg.RootFS.DiffIDs) {
			out[i] = layer
		}
		layer++
	}
	return out
}

// LayerInfo returns the layers of img, bottom first, with their sizes and
// history lines. When the store does not hold a layer, the error wraps
// ErrNotFound; the slice then still holds every layer, with ContentSize and
// ArchiveSize 0 for the missing ones, so that a listing can go on.
func (s *Store) LayerInfo(img Image) ([]LayerInfo, error) {
	ids := img.DiffIDs()
	by := LayerHistory(img.Config, len(ids))
	out := make([]LayerInfo, len(ids))
	var first error
	for i, d := range ids {
		li := LayerInfo{DiffID: d, CreatedBy: by[i]}
		if i < len(img.Manifest.Layers) {
			li.BlobSize = img.Manifest.Layers[i].Size
		}
		m, err := s.Layer(d)
		switch {
		case err == nil:
			li.ContentSize, li.ArchiveSize = m.ContentSize, m.TarSize
		case first == nil:
			first = fmt.Errorf("image %s: %w", img.ShortID(), err)
		}
		out[i] = li
	}
	return out, first
}

// Size is img's size as docker images shows it: the sum of its layers'
// content sizes (LayerInfo.ContentSize). A layer listed twice counts twice,
// as in docker. The error is that of LayerInfo; the size of the layers that
// were found is returned with it.
func (s *Store) Size(img Image) (int64, error) {
	infos, err := s.LayerInfo(img)
	var n int64
	for _, li := range infos {
		n += li.ContentSize
	}
	return n, err
}

// readLayerMeta reads the meta.json of the layer diffID. A meta written
// before ContentSize was recorded gets it here, from the unpack's own count
// (Stats.Bytes) or, when that is missing too, from the layer's directory;
// it is then saved back so that this happens once. Saving is best effort:
// on a read-only store, or one this process may not write, the computed
// size is returned all the same and computed again next time.
func (s *Store) readLayerMeta(diffID digest.Digest) (LayerMeta, error) {
	p := s.path("layers", diffID.Encoded(), "meta.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return LayerMeta{}, fmt.Errorf("layer %s: %w", diffID, ErrNotFound)
	}
	if err != nil {
		return LayerMeta{}, fmt.Errorf("read layer %s: %w", diffID, err)
	}
	// The outer ContentSize shadows LayerMeta's: nil tells an old meta.
	var raw struct {
		LayerMeta
		ContentSize *int64 `json:"contentSize"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return LayerMeta{}, fmt.Errorf("read layer %s: %s: %w", diffID, p, err)
	}
	m := raw.LayerMeta
	if raw.ContentSize != nil {
		m.ContentSize = *raw.ContentSize
		return m, nil
	}
	if m.Stats.Entries > 0 {
		m.ContentSize = m.Stats.Bytes
	} else if m.ContentSize, err = contentSizeOfDir(s.LayerDir(diffID)); err != nil {
		return LayerMeta{}, fmt.Errorf("measure layer %s: %w", diffID, err)
	}
	if nb, err := json.Marshal(m); err == nil {
		// Atomic, not durable: a lost save is only a recount.
		_ = writeFileAtomicNoSync(p, nb, 0o600)
	}
	return m, nil
}

// contentSizeOfDir is the content size of an unpacked layer: the sizes of
// its regular files, a file with several names counted once. Whiteouts are
// character devices or empty files and count 0.
func contentSizeOfDir(dir string) (int64, error) {
	var n int64
	seen := map[uint64]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		n += info.Size()
		return nil
	})
	return n, err
}
