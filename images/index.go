package images

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/human"
)

// Image is one image of the store: a manifest, its config, and the names
// that point at it.
type Image struct {
	// ID is the digest of the image config, as docker shows it.
	ID             digest.Digest
	Names          []string
	ManifestDigest digest.Digest
	Manifest       ocispec.Manifest
	Config         ocispec.Image
}

// ShortID is the first twelve hex digits of the image ID.
func (img Image) ShortID() string {
	e := img.ID.Encoded()
	if len(e) > 12 {
		e = e[:12]
	}
	return e
}

// DiffIDs returns the digests of the uncompressed layers, bottom first.
func (img Image) DiffIDs() []digest.Digest { return img.Config.RootFS.DiffIDs }

// Size is the sum of the sizes of the image's layer blobs, as stored
// (compressed, mostly): what the image takes to ship, not its size as
// docker images shows it, which is Store.Size.
func (img Image) Size() int64 {
	var n int64
	for _, l := range img.Manifest.Layers {
		n += l.Size
	}
	return n
}

func (s *Store) indexPath() string { return s.path("oci", "index.json") }

// initLayout writes oci-layout and an empty index.json when missing.
func (s *Store) initLayout() error {
	if _, err := os.Stat(s.path("oci", ocispec.ImageLayoutFile)); errors.Is(err, fs.ErrNotExist) {
		b, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
		if err := writeFileAtomic(s.path("oci", ocispec.ImageLayoutFile), b, 0o644); err != nil {
			return fmt.Errorf("init store layout: %w", err)
		}
	}
	if _, err := os.Stat(s.indexPath()); errors.Is(err, fs.ErrNotExist) {
		if err := s.writeIndex(ocispec.Index{}); err != nil {
			return fmt.Errorf("init store layout: %w", err)
		}
	}
	return nil
}

func (s *Store) readIndex() (ocispec.Index, error) {
	var idx ocispec.Index
	b, err := os.ReadFile(s.indexPath())
	if err != nil {
		return idx, fmt.Errorf("read store index: %w", err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return idx, fmt.Errorf("read store index %s: %w", s.indexPath(), err)
	}
	return idx, nil
}

func (s *Store) writeIndex(idx ocispec.Index) error {
	idx.Versioned = specs.Versioned{SchemaVersion: 2}
	idx.MediaType = ocispec.MediaTypeImageIndex
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.indexPath(), b, 0o644); err != nil {
		return fmt.Errorf("write store index: %w", err)
	}
	return nil
}

// List returns every image of the store, newest first.
func (s *Store) List() ([]Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	byManifest := map[digest.Digest]*Image{}
	var order []digest.Digest
	for _, d := range idx.Manifests {
		img, ok := byManifest[d.Digest]
		if !ok {
			img = &Image{ManifestDigest: d.Digest}
			if err := s.readJSONBlob(d.Digest, &img.Manifest); err != nil {
				return nil, fmt.Errorf("image manifest: %w", err)
			}
			if err := s.readJSONBlob(img.Manifest.Config.Digest, &img.Config); err != nil {
				return nil, fmt.Errorf("image config: %w", err)
			}
			img.ID = img.Manifest.Config.Digest
			byManifest[d.Digest] = img
			order = append(order, d.Digest)
		}
		if n := d.Annotations[ocispec.AnnotationRefName]; n != "" {
			img.Names = append(img.Names, n)
		}
	}
	out := make([]Image, 0, len(order))
	for _, d := range order {
		slices.Sort(byManifest[d].Names)
		out = append(out, *byManifest[d])
	}
	sort.SliceStable(out, func(i, j int) bool {
		ci, cj := out[i].Config.Created, out[j].Config.Created
		if ci == nil || cj == nil {
			return ci != nil
		}
		return ci.After(*cj)
	})
	return out, nil
}

// Get finds an image by name ("base", "base:v1") or by ID or ID prefix.
// An ID may also be a build step's image, which the build cache keeps
// unlisted: docker run and inspect take the IDs a build prints.
func (s *Store) Get(ref string) (Image, error) {
	imgs, err := s.List()
	if err != nil {
		return Image{}, err
	}
	img, err := find(imgs, ref)
	if !errors.Is(err, ErrNotFound) {
		return img, err
	}
	if cached, cerr := s.cachedImages(); cerr == nil {
		if img, cerr := find(cached, ref); cerr == nil {
			return img, nil
		}
	}
	return img, err
}

func find(imgs []Image, ref string) (Image, error) {
	if name, err := ParseName(ref); err == nil {
		for _, img := range imgs {
			if slices.Contains(img.Names, name) {
				return img, nil
			}
		}
	}
	hex := strings.TrimPrefix(ref, "sha256:")
	if len(hex) > 0 && len(hex) <= 64 && strings.Trim(hex, "0123456789abcdef") == "" {
		var found []Image
		for _, img := range imgs {
			if strings.HasPrefix(img.ID.Encoded(), hex) && !slices.ContainsFunc(found, func(f Image) bool { return f.ID == img.ID }) {
				found = append(found, img)
			}
		}
		switch len(found) {
		case 1:
			return found[0], nil
		case 0:
		default:
			return Image{}, fmt.Errorf("image %s: matches %d images: %w", human.Visible(ref), len(found), ErrAmbiguous)
		}
	}
	return Image{}, fmt.Errorf("image %s: %w", human.Visible(ref), ErrNotFound)
}

// Tag gives the image ref the additional name newName, moving the name if
// another image had it.
func (s *Store) Tag(ref, newName string) (string, error) {
	name, err := ParseName(newName)
	if err != nil {
		return "", err
	}
	unlock, err := s.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	img, err := s.Get(ref)
	if err != nil {
		return "", err
	}
	return name, s.setNames(img.ManifestDigest, []string{name})
}

// setNames points each of names at the manifest m (adding an unnamed entry
// when names is empty), taking the names away from other images. An image
// left with no name keeps an unnamed entry, as docker keeps a <none> image,
// unless it has m's config: then it is m's image, and an unnamed entry for
// another manifest of it is dropped. The caller holds the lock.
func (s *Store) setNames(m digest.Digest, names []string) error {
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	mb, err := os.ReadFile(s.blobPath(m))
	if err != nil {
		return fmt.Errorf("manifest %s: %w", m, ErrNotFound)
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: m, Size: int64(len(mb))}
	var kept []ocispec.Descriptor
	named := map[digest.Digest]bool{}
	for _, d := range idx.Manifests {
		n := d.Annotations[ocispec.AnnotationRefName]
		if slices.Contains(names, n) || (n == "" && d.Digest == m) {
			continue
		}
		if n == "" && s.sameConfig(d.Digest, m) {
			continue // m's image under another manifest, left <none> by an older load
		}
		kept = append(kept, d)
		named[d.Digest] = true
	}
	// An image that lost its last name stays, unnamed, unless it is the
	// image m itself under another manifest (the same config: a store
	// written before loads resolved images by config).
	for _, d := range idx.Manifests {
		if slices.Contains(names, d.Annotations[ocispec.AnnotationRefName]) && d.Digest != m && !named[d.Digest] {
			if s.sameConfig(d.Digest, m) {
				continue
			}
			u := d
			u.Annotations = nil
			kept = append(kept, u)
			named[d.Digest] = true
		}
	}
	for _, n := range names {
		nd := desc
		nd.Annotations = map[string]string{ocispec.AnnotationRefName: n}
		kept = append(kept, nd)
	}
	if len(names) == 0 && !named[m] {
		kept = append(kept, desc)
	}
	idx.Manifests = kept
	return s.writeIndex(idx)
}

// sameConfig reports whether the manifests a and b are stored and name
// the same config.
func (s *Store) sameConfig(a, b digest.Digest) bool {
	var ma, mb ocispec.Manifest
	return s.readJSONBlob(a, &ma) == nil && s.readJSONBlob(b, &mb) == nil && ma.Config.Digest == mb.Config.Digest
}

// Remove drops the name ref, or every name of the image when ref is an ID.
// The image goes when its last name does, unless a container holds it: then
// Remove refuses without force. Blobs and layers stay until GC.
func (s *Store) Remove(ref string, force bool) (untagged []string, deleted digest.Digest, err error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, "", err
	}
	defer unlock()
	img, err := s.Get(ref)
	if err != nil {
		return nil, "", err
	}
	drop := img.Names
	if name, err := ParseName(ref); err == nil && slices.Contains(img.Names, name) {
		drop = []string{name}
	} else if len(img.Names) > 1 && !force {
		return nil, "", fmt.Errorf("image %s: has names %s; remove them one by one or force", img.ShortID(), strings.Join(img.Names, ", "))
	}
	last := len(drop) == len(img.Names)
	if last && !force {
		users, err := s.holdersOf(img.ID)
		if err != nil {
			return nil, "", err
		}
		if len(users) > 0 {
			return nil, "", fmt.Errorf("image %s: used by container %s: %w", human.Visible(ref), users[0], ErrInUse)
		}
	}
	idx, err := s.readIndex()
	if err != nil {
		return nil, "", err
	}
	var kept []ocispec.Descriptor
	for _, d := range idx.Manifests {
		if d.Digest == img.ManifestDigest && (last || slices.Contains(drop, d.Annotations[ocispec.AnnotationRefName])) {
			continue
		}
		kept = append(kept, d)
	}
	idx.Manifests = kept
	if err := s.writeIndex(idx); err != nil {
		return nil, "", err
	}
	if last {
		deleted = img.ID
	}
	return drop, deleted, nil
}
