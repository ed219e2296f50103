package images

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/klauspost/compress/gzip"
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
	img := ocispec.Image{
		Created:  &now,
		Platform: ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Config:   cfg,
		RootFS:   ocispec.RootFS{Type: "layers"},
	}
	var descs []ocispec.Descriptor
	for i, l := range layers {
		res, err := s.ingestGenerated(l.WriteTar)
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
	cfgDigest, cfg, err := s.putJSON(img)
	if err != nil {
		return Image{}, err
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfgDigest, Size: int64(len(cfg))},
		Layers:    layers,
	}
	md, _, err := s.putJSON(m)
	if err != nil {
		return Image{}, err
	}
	if err := s.setNames(md, names); err != nil {
		return Image{}, err
	}
	return s.imageByManifest(md)
}

// ingestGenerated compresses the tar that write produces and ingests it as
// a layer. When write fails, its error is the one returned.
func (s *Store) ingestGenerated(write func(io.Writer) error) (layerResult, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		err := write(zw)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		pw.CloseWithError(err)
		done <- err
	}()
	res, err := s.ingestLayer(pr, ocispec.Descriptor{Size: -1}, "", "")
	pr.CloseWithError(io.ErrClosedPipe) // stop the writer if ingest failed early
	if werr := <-done; werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		return layerResult{}, werr
	}
	return res, err
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
