package images

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// NewLayer is a layer to add to a new image: its history line and its
// content, written as an uncompressed tar.
type NewLayer struct {
	CreatedBy string
	Comment   string
	WriteTar  func(w io.Writer) error
}

// Create makes an image named name from layers (bottom first), each stored
// gzip-compressed, with the given runtime config.
func (s *Store) Create(name string, layers []NewLayer, cfg ocispec.ImageConfig) (Image, error) {
	n, err := ParseName(name)
	if err != nil {
		return Image{}, err
	}
	unlock, err := s.lock()
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	now := time.Now().UTC()
	img := newImage(now, cfg)
	var descs []ocispec.Descriptor
	for i, l := range layers {
		res, err := s.ingestGenerated(l.WriteTar, Gzip, false)
		if err != nil {
			return Image{}, fmt.Errorf("create %s: layer %d: %w", n, i+1, err)
		}
		descs = append(descs, res.desc)
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, res.diffID)
		img.History = append(img.History, ocispec.History{Created: &now, CreatedBy: l.CreatedBy, Comment: l.Comment})
	}
	return s.commitImage(img, descs, []string{n})
}

// commitImage stores the config and manifest of an image whose layers are
// stored, and names it. The caller holds the lock.
func (s *Store) commitImage(img ocispec.Image, layers []ocispec.Descriptor, names []string) (Image, error) {
	md, err := s.putImage(img, layers)
	if err != nil {
		return Image{}, err
	}
	if err := s.setNames(md, names); err != nil {
		return Image{}, err
	}
	return s.imageByManifest(md)
}

// putImage stores the config and manifest of an image whose layers are
// stored and returns the manifest's digest.
func (s *Store) putImage(img ocispec.Image, layers []ocispec.Descriptor) (digest.Digest, error) {
	cfgDigest, cfg, err := s.putJSON(img)
	if err != nil {
		return "", err
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfgDigest, Size: int64(len(cfg))},
		Layers:    layers,
	}
	md, _, err := s.putJSON(m)
	return md, err
}

// BaseName is the name of the default image made from the host.
const BaseName = "base:latest"

// CreateBase makes the default image "base" from the host's programs and
// their shared libraries, with no network.
func (s *Store) CreateBase() (Image, error) {
	bl, err := BaseLayers("/")
	if err != nil {
		return Image{}, fmt.Errorf("create base image: %w", err)
	}
	var layers []NewLayer
	for _, l := range bl {
		layers = append(layers, NewLayer{CreatedBy: l.CreatedBy, Comment: l.Comment, WriteTar: l.WriteTar})
	}
	return s.Create(BaseName, layers, ocispec.ImageConfig{
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd:        []string{"/bin/sh"},
		WorkingDir: "/",
	})
}

// EnsureBase returns the default image, making it first when missing.
func (s *Store) EnsureBase() (Image, error) {
	img, err := s.Get(BaseName)
	if errors.Is(err, ErrNotFound) {
		return s.CreateBase()
	}
	return img, err
}

// newImage is the config of an image made on this host at created, with
// no layers yet: this machine's platform and the runtime config cfg.
func newImage(created time.Time, cfg ocispec.ImageConfig) ocispec.Image {
	return ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Config:   cfg,
		RootFS:   ocispec.RootFS{Type: "layers"},
	}
}
