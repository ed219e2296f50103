package images

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	digest "github.com/opencontainers/go-digest"

	"minidocker/internal/human"
)

// A hold is what keeps an image's layers alive for a holder, such as a
// container, even after the image itself is removed.
type hold struct {
	Image  digest.Digest   `json:"image"`
	Layers []digest.Digest `json:"layers"`
}

// validHolder: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}, a file name of its own.
func validHolder(h string) bool {
	if h == "" || len(h) > 128 || !alnum(h[0]) {
		return false
	}
	for i := 1; i < len(h); i++ {
		if !alnum(h[i]) && !strings.ContainsRune("_.-", rune(h[i])) {
			return false
		}
	}
	return true
}

func (s *Store) holdPath(holder string) (string, error) {
	if !validHolder(holder) {
		return "", fmt.Errorf("holder \"%s\": %w", human.Visible(holder), ErrInvalidName)
	}
	return s.path("holds", holder+".json"), nil
}

// Hold keeps img's layers in the store for holder until Release(holder).
func (s *Store) Hold(holder string, img Image) error { return s.hold(holder, img, true) }

// HoldVolatile is Hold for a holder that does not outlive a crash, such
// as a container run with --rm: the hold is written atomically but not
// fsync'd, which spares a start two disk flushes. After a crash such a
// holder is tidied away, so a lost hold loses nothing.
func (s *Store) HoldVolatile(holder string, img Image) error { return s.hold(holder, img, false) }

func (s *Store) hold(holder string, img Image, durable bool) error {
	p, err := s.holdPath(holder)
	if err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	b, _ := json.Marshal(hold{Image: img.ID, Layers: img.DiffIDs()})
	write := writeFileAtomic
	if !durable {
		write = writeFileAtomicNoSync
	}
	if err := write(p, b, 0o600); err != nil {
		return fmt.Errorf("hold image %s for %s: %w", img.ShortID(), holder, err)
	}
	return nil
}

// Release drops holder's hold; releasing what is not held is not an error.
func (s *Store) Release(holder string) error {
	p, err := s.holdPath(holder)
	if err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release %s: %w", holder, err)
	}
	return nil
}

// Holders names every holder that holds an image, sorted.
func (s *Store) Holders() ([]string, error) {
	entries, err := os.ReadDir(s.path("holds"))
	if err != nil {
		return nil, fmt.Errorf("read holds: %w", err)
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	return names, nil
}

// Held returns the image holder holds and that image's layers, bottom
// first, as they were when the hold was taken: they stay in the store even
// when the image itself is removed. A holder without a hold is ErrNotFound.
func (s *Store) Held(holder string) (digest.Digest, []digest.Digest, error) {
	p, err := s.holdPath(holder)
	if err != nil {
		return "", nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("hold of %s: %w", holder, ErrNotFound)
	}
	if err != nil {
		return "", nil, fmt.Errorf("read hold %s: %w", holder, err)
	}
	var h hold
	if err := json.Unmarshal(b, &h); err != nil {
		return "", nil, fmt.Errorf("read hold %s: %w", holder, err)
	}
	return h.Image, h.Layers, nil
}

// holds returns every hold by holder name.
func (s *Store) holds() (map[string]hold, error) {
	entries, err := os.ReadDir(s.path("holds"))
	if err != nil {
		return nil, fmt.Errorf("read holds: %w", err)
	}
	out := map[string]hold{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		b, err := os.ReadFile(s.path("holds", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read hold %s: %w", name, err)
		}
		var h hold
		if err := json.Unmarshal(b, &h); err != nil {
			return nil, fmt.Errorf("read hold %s: %w", name, err)
		}
		out[name] = h
	}
	return out, nil
}

// holdersOf names the holders of image id, sorted.
func (s *Store) holdersOf(id digest.Digest) ([]string, error) {
	hs, err := s.holds()
	if err != nil {
		return nil, err
	}
	var names []string
	for n, h := range hs {
		if h.Image == id {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// GCReport says what a garbage collection removed.
type GCReport struct {
	Blobs  []digest.Digest
	Layers []digest.Digest
	// Bytes is the disk space freed.
	Bytes int64
}

// GC deletes the blobs and layers that no image and no hold references,
// and the short links that pointed at them. The blob of a layer stored
// lazily is kept with the layer.
func (s *Store) GC() (GCReport, error) {
	var rep GCReport
	unlock, err := s.lock()
	if err != nil {
		return rep, err
	}
	defer unlock()
	imgs, err := s.List()
	if err != nil {
		return rep, err
	}
	cached, err := s.cachedImages()
	if err != nil {
		return rep, err
	}
	imgs = append(imgs, cached...)
	hs, err := s.holds()
	if err != nil {
		return rep, err
	}
	blobs := map[string]bool{}
	layers := map[string]bool{}
	for _, img := range imgs {
		blobs[img.ManifestDigest.Encoded()] = true
		blobs[img.ID.Encoded()] = true
		for _, l := range img.Manifest.Layers {
			blobs[l.Digest.Encoded()] = true
		}
		for _, d := range img.DiffIDs() {
			layers[d.Encoded()] = true
		}
	}
	for _, h := range hs {
		for _, d := range h.Layers {
			layers[d.Encoded()] = true
		}
	}
	s.keepLazyBlobs(layers, blobs)
	var errs []error
	sweep := func(dir string, keep map[string]bool, found *[]digest.Digest) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, e := range entries {
			if keep[e.Name()] {
				continue
			}
			p := filepath.Join(dir, e.Name())
			n := diskBytes(p)
			if err := removeAll(p); err != nil {
				errs = append(errs, err)
				continue
			}
			rep.Bytes += n
			*found = append(*found, digest.NewDigestFromEncoded(digest.SHA256, e.Name()))
		}
	}
	sweep(s.path("oci", "blobs", "sha256"), blobs, &rep.Blobs)
	sweep(s.path("layers"), layers, &rep.Layers)
	links, err := os.ReadDir(s.path("l"))
	if err != nil {
		errs = append(errs, err)
	}
	for _, e := range links {
		p := s.path("l", e.Name())
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, os.Remove(p))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("gc: %w", err)
	}
	return rep, nil
}

// keepLazyBlobs adds to blobs the blob of each kept layer stored lazily:
// it is all there is of the layer's content, even when only a hold keeps
// the layer, or the image that keeps it names another blob of it.
func (s *Store) keepLazyBlobs(layers, blobs map[string]bool) {
	for hex := range layers {
		d := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if s.unpacked(d) {
			continue
		}
		if m, err := s.Layer(d); err == nil && m.Blob.Validate() == nil {
			blobs[m.Blob.Encoded()] = true
		}
	}
}

// diskBytes is the space the tree at p takes on disk.
func diskBytes(p string) int64 {
	var n int64
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// LayerUsage is one stored layer in a disk usage report.
type LayerUsage struct {
	DiffID digest.Digest
	// Size is the layer's content size (LayerInfo.ContentSize).
	Size int64
	// Images counts the images' uses of the layer: one for each image
	// listing it (two for an image listing it twice). Holders counts the
	// holds, such as containers, that keep it.
	Images, Holders int
}

// DiskUsage reports how the store's layers are shared. Every size but
// Blobs is a content size (LayerInfo.ContentSize), the size images,
// history and the TUI show, so that the figures add up with theirs.
type DiskUsage struct {
	Images []Image
	// Layers are the stored layers an image or a hold uses, each once.
	Layers []LayerUsage
	// Logical is the sum of the images' sizes (Store.Size, the SIZE column
	// of images): each image counts every layer it lists.
	Logical int64
	// Unique is the size of the distinct layers the images use, each
	// counted once. Logical − Unique is what sharing saves (Saved).
	Unique int64
	// Shared is the size of the distinct layers the images use more than
	// once (Images > 1), each counted once. A layer used by two images is
	// in Shared once and in Saved once; Shared is 0 exactly when Saved is.
	// Holds do not make a layer shared.
	Shared int64
	// Held is the size of the layers only holds keep: their images were
	// removed while containers still use them. Unique + Held is the size
	// of all the layers in Layers.
	Held int64
	// Blobs is the space of the stored blobs (compressed layers, configs,
	// manifests), as their file sizes.
	Blobs int64
}

// Saved is what sharing layers between images saves: Logical − Unique.
func (u DiskUsage) Saved() int64 { return u.Logical - u.Unique }

// Savings is Saved as a fraction of Logical.
func (u DiskUsage) Savings() float64 {
	if u.Logical == 0 {
		return 0
	}
	return float64(u.Saved()) / float64(u.Logical)
}

// DiskUsage measures the store.
func (s *Store) DiskUsage() (DiskUsage, error) {
	var u DiskUsage
	imgs, err := s.List()
	if err != nil {
		return u, err
	}
	hs, err := s.holds()
	if err != nil {
		return u, err
	}
	u.Images = imgs
	users := map[digest.Digest]*LayerUsage{}
	var order []digest.Digest
	use := func(d digest.Digest) *LayerUsage {
		lu, ok := users[d]
		if !ok {
			lu = &LayerUsage{DiffID: d}
			if m, err := s.Layer(d); err == nil {
				lu.Size = m.ContentSize
			}
			users[d] = lu
			order = append(order, d)
		}
		return lu
	}
	for _, img := range imgs {
		for _, d := range img.DiffIDs() {
			lu := use(d)
			lu.Images++
			u.Logical += lu.Size
		}
	}
	for _, h := range hs {
		for _, d := range uniq(h.Layers) {
			use(d).Holders++
		}
	}
	for _, d := range order {
		lu := users[d]
		u.Layers = append(u.Layers, *lu)
		switch {
		case lu.Images == 0:
			u.Held += lu.Size
		case lu.Images > 1:
			u.Shared += lu.Size
			fallthrough
		default:
			u.Unique += lu.Size
		}
	}
	entries, _ := os.ReadDir(s.path("oci", "blobs", "sha256"))
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			u.Blobs += info.Size()
		}
	}
	return u, nil
}

func uniq(ds []digest.Digest) []digest.Digest {
	seen := map[digest.Digest]bool{}
	var out []digest.Digest
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
