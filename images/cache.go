package images

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// The build cache maps a step's cache key to the image the step made:
// buildcache/<key hex> holds that image's manifest digest. The images it
// names are stored unlisted (Derive with no names) and kept by GC until
// PruneBuildCache, as docker keeps its builder's intermediate images.

func (s *Store) cachePath(key digest.Digest) string {
	return s.path("buildcache", key.Encoded())
}

// CachedImage returns the image cached under key. A missing entry, or one
// whose image is no longer whole in the store, is reported as not found.
func (s *Store) CachedImage(key digest.Digest) (Image, bool, error) {
	if err := key.Validate(); err != nil {
		return Image{}, false, fmt.Errorf("build cache key %q: %w", key, err)
	}
	b, err := os.ReadFile(s.cachePath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return Image{}, false, nil
	}
	if err != nil {
		return Image{}, false, fmt.Errorf("build cache: %w", err)
	}
	md, err := digest.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		return Image{}, false, nil
	}
	img, err := s.imageAt(md)
	if err != nil {
		return Image{}, false, nil
	}
	for _, d := range img.DiffIDs() {
		if !s.HasLayer(d) {
			return Image{}, false, nil
		}
	}
	return img, true, nil
}

// CacheImage records img as what the step of key made.
func (s *Store) CacheImage(key digest.Digest, img Image) error {
	if err := key.Validate(); err != nil {
		return fmt.Errorf("build cache key %q: %w", key, err)
	}
	if err := os.MkdirAll(s.path("buildcache"), 0o700); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	if err := writeFileAtomic(s.cachePath(key), []byte(img.ManifestDigest.String()+"\n"), 0o600); err != nil {
		return fmt.Errorf("build cache: %w", err)
	}
	return nil
}

// cachedImages are the images the build cache names, for GC.
func (s *Store) cachedImages() ([]Image, error) {
	entries, err := os.ReadDir(s.path("buildcache"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("build cache: %w", err)
	}
	var out []Image
	for _, e := range entries {
		key := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if img, ok, err := s.CachedImage(key); err == nil && ok {
			out = append(out, img)
		}
	}
	return out, nil
}

// PruneBuildCache forgets every cached step; the next GC removes what
// only the cache kept. It returns how many entries it dropped.
func (s *Store) PruneBuildCache() (int, error) {
	unlock, err := s.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	entries, err := os.ReadDir(s.path("buildcache"))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("build cache: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range entries {
		if err := os.Remove(s.path("buildcache", e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
