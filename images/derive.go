package images

import (
	"fmt"
	"io"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Derivation is an image made on top of another, or on nothing: what docker
// commit makes of a container, and what each step of a build makes.
type Derivation struct {
	// Parent is the image beneath; nil for an image from scratch.
	Parent *Image
	// Config is the new image's runtime configuration, whole.
	Config ocispec.ImageConfig
	// Layer writes the new layer as an uncompressed tar. Nil for a step
	// that changes only the configuration: its history entry is then an
	// empty layer, as docker's builder records ENV or CMD.
	Layer func(io.Writer) error
	// Compression is how the layer blob is stored.
	Compression Compression
	// Lazy stores the layer's blob and figures without unpacking it:
	// LayerDirs unpacks it on first use. For a commit, whose layer is
	// often saved or run much later, if ever; a build step's layer is
	// mounted by the next step at once and is better unpacked as it is
	// made, from the tar in hand.
	Lazy bool
	// CreatedBy, Comment and Author are the history entry's; Author is
	// also the image's.
	CreatedBy, Comment, Author string
	// Created is the image's and the history entry's time; zero is now.
	Created time.Time
}

// Derive stores the image d describes and names it with names. With no
// names it is stored but not listed: a build step's image, kept by the
// build cache (CacheImage) until a prune, as docker keeps intermediate
// images. The parent's layers are shared, never copied.
func (s *Store) Derive(d Derivation, names []string) (Image, error) {
	names, err := parseNames(names)
	if err != nil {
		return Image{}, err
	}
	unlock, err := s.lock()
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	created := d.Created.UTC()
	if d.Created.IsZero() {
		created = time.Now().UTC()
	}
	img := newImage(created, d.Config)
	img.Author = d.Author
	var descs []ocispec.Descriptor
	if d.Parent != nil {
		img.Platform = d.Parent.Config.Platform
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, d.Parent.DiffIDs()...)
		img.History = append(img.History, d.Parent.Config.History...)
		descs = append(descs, d.Parent.Manifest.Layers...)
	}
	h := ocispec.History{Created: &created, CreatedBy: d.CreatedBy, Comment: d.Comment, Author: d.Author, EmptyLayer: d.Layer == nil}
	if d.Layer != nil {
		res, err := s.ingestGenerated(d.Layer, d.Compression, d.Lazy)
		if err != nil {
			return Image{}, err
		}
		descs = append(descs, res.desc)
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, res.diffID)
	}
	img.History = append(img.History, h)
	if len(names) == 0 {
		return s.storeImage(img, descs)
	}
	return s.commitImage(img, descs, names)
}

// storeImage stores the config and manifest of an image whose layers are
// stored, without naming it or listing it. The caller holds the lock.
func (s *Store) storeImage(img ocispec.Image, layers []ocispec.Descriptor) (Image, error) {
	m, err := s.putImage(img, layers)
	if err != nil {
		return Image{}, err
	}
	return s.imageAt(m)
}

// imageAt reads the image whose manifest is md, listed or not.
func (s *Store) imageAt(md digest.Digest) (Image, error) {
	img := Image{ManifestDigest: md}
	if err := s.readJSONBlob(md, &img.Manifest); err != nil {
		return Image{}, fmt.Errorf("image manifest: %w", err)
	}
	if err := s.readJSONBlob(img.Manifest.Config.Digest, &img.Config); err != nil {
		return Image{}, fmt.Errorf("image config: %w", err)
	}
	img.ID = img.Manifest.Config.Digest
	return img, nil
}

// Publish makes img, stored by Derive, one of the listed images, under
// the given names or, with none, as an unnamed <none> image (docker build
// without -t). Names move from any image that had them.
func (s *Store) Publish(img Image, names ...string) (Image, error) {
	names, err := parseNames(names)
	if err != nil {
		return Image{}, err
	}
	unlock, err := s.lock()
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	if err := s.setNames(img.ManifestDigest, names); err != nil {
		return Image{}, err
	}
	return s.imageByManifest(img.ManifestDigest)
}

// parseNames returns names in their full form ("base" → "base:latest"),
// or the first that is not a name.
func parseNames(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		p, err := ParseName(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
