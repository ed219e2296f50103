package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/human"
)

// PushOptions says how to push an image.
type PushOptions struct {
	RegistryOptions
	// Progress, when set, is told how many of the bytes to upload have
	// gone, from another goroutine.
	Progress func(done, total int64)
}

// Pushed is what a push sent.
type Pushed struct {
	// Ref is the reference pushed to, in full ("127.0.0.1:5000/base:latest").
	Ref string
	// Digest is the manifest's digest, the same in the store and in the registry.
	Digest digest.Digest
	// Size is the manifest's length, as docker prints it.
	Size int64
}

// Push sends the stored image ref to the registry reference dest, or to
// ref itself when dest is "": the store's blobs and manifest byte for
// byte, whatever their media types (the store's own are OCI's; an image
// loaded or pulled may carry docker's layer types in its OCI manifest), so
// the image keeps its ID and its manifest digest. Blobs the repository has
// are not sent again (remote asks first). Errors are one line, starting
// with the reference.
func (s *Store) Push(ctx context.Context, ref, dest string, opts PushOptions) (Pushed, error) {
	if dest == "" {
		dest = ref
	}
	p, err := s.push(ctx, ref, dest, opts)
	if err != nil {
		return p, fmt.Errorf("push %s: %w", human.Visible(dest), lineError{err})
	}
	return p, nil
}

func (s *Store) push(ctx context.Context, ref, dest string, opts PushOptions) (Pushed, error) {
	img, err := s.Get(ref)
	if err != nil {
		return Pushed{}, err
	}
	nref, err := parseReference(dest, opts.RegistryOptions)
	if err != nil {
		return Pushed{}, err
	}
	raw, err := os.ReadFile(s.blobPath(img.ManifestDigest))
	if err != nil {
		return Pushed{}, fmt.Errorf("manifest %s: %w", img.ManifestDigest, notFound(err))
	}
	for _, l := range img.Manifest.Layers {
		if !s.HasBlob(l.Digest) {
			return Pushed{}, fmt.Errorf("image %s: layer blob %s: %w", img.ShortID(), l.Digest, ErrNotFound)
		}
	}
	r, err := dial(ctx, nref, opts.RegistryOptions, transport.PushScope)
	if err != nil {
		return Pushed{}, err
	}
	vimg, err := partial.CompressedToImage(storeImage{s: s, img: img, raw: raw})
	if err != nil {
		return Pushed{}, err
	}
	var more []remote.Option
	if opts.Progress != nil {
		updates := make(chan v1.Update, 16)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for u := range updates {
				opts.Progress(u.Complete, u.Total)
			}
		}()
		defer func() { <-done }() // remote closes updates when it returns
		more = append(more, remote.WithProgress(updates))
	}
	if err := remote.Write(nref, vimg, r.options(ctx, more...)...); err != nil {
		return Pushed{}, err
	}
	return Pushed{Ref: nref.Name(), Digest: img.ManifestDigest, Size: int64(len(raw))}, nil
}

// storeImage is a stored image as go-containerregistry reads one: its
// manifest and config as stored, its layers read from their blobs.
type storeImage struct {
	s   *Store
	img Image
	raw []byte
}

func (si storeImage) RawManifest() ([]byte, error) { return si.raw, nil }

func (si storeImage) RawConfigFile() ([]byte, error) {
	f, err := si.s.OpenBlob(si.img.ID)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err == nil && digest.FromBytes(b) != si.img.ID {
		err = fmt.Errorf("config %s: stored content hashes to %s: %w", si.img.ID, digest.FromBytes(b), ErrDigestMismatch)
	}
	return b, err
}

// MediaType is the manifest's: the one it declares, else OCI's (the store
// keeps a manifest without a media type only when an OCI index named it so).
func (si storeImage) MediaType() (types.MediaType, error) {
	if mt := si.img.Manifest.MediaType; mt != "" {
		return types.MediaType(mt), nil
	}
	return types.OCIManifestSchema1, nil
}

func (si storeImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range si.img.Manifest.Layers {
		if string(l.Digest) == h.String() {
			return storeLayer{s: si.s, desc: l}, nil
		}
	}
	return nil, fmt.Errorf("image %s: no layer %s: %w", si.img.ShortID(), h, ErrNotFound)
}

// storeLayer is a stored layer blob, as go-containerregistry reads one.
type storeLayer struct {
	s    *Store
	desc ocispec.Descriptor
}

func (l storeLayer) Digest() (v1.Hash, error) { return v1.NewHash(string(l.desc.Digest)) }
func (l storeLayer) Size() (int64, error)     { return l.desc.Size, nil }
func (l storeLayer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.desc.MediaType), nil
}

// Compressed opens the blob, checked as it is read: a stored blob that
// changed on disk fails the push here, naming it, rather than at the
// registry.
func (l storeLayer) Compressed() (io.ReadCloser, error) {
	f, err := l.s.OpenBlob(l.desc.Digest)
	if err != nil {
		return nil, err
	}
	return &verifiedBlob{f: f, v: l.desc.Digest.Verifier(), d: l.desc.Digest}, nil
}

// verifiedBlob reads a stored blob and fails at its end unless it hashes to d.
type verifiedBlob struct {
	f *os.File
	v digest.Verifier
	d digest.Digest
}

func (b *verifiedBlob) Read(p []byte) (int, error) {
	n, err := b.f.Read(p)
	b.v.Write(p[:n])
	if errors.Is(err, io.EOF) && !b.v.Verified() {
		return n, fmt.Errorf("blob %s: stored content does not hash to it: %w", b.d, ErrDigestMismatch)
	}
	return n, err
}

func (b *verifiedBlob) Close() error { return b.f.Close() }
