package images

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker's media types, which docker-archive and some OCI layouts carry.
const (
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerLayer        = "application/vnd.docker.image.rootfs.diff.tar"
	dockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// Load imports every image of the archive at p: a docker-archive (docker
// save, classic or OCI-shaped), or an OCI image layout as a directory or a
// tar, compressed or not. Every descriptor is checked, by size and digest,
// and every diffID (see parse.go); on error the store is left as it was. An image
// whose config the store already has is the stored image: its layers are
// not read again and the archive's names move to it (see ingestImage).
func (s *Store) Load(p string) ([]Image, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	a, cleanup, err := openArchive(p, s.path("tmp"))
	if err != nil {
		return nil, err
	}
	defer cleanup()
	imgs, err := s.loadArchive(a)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", p, err)
	}
	return imgs, nil
}

// LoadReader imports the image archive tar read from r, as Load does.
func (s *Store) LoadReader(r io.Reader) ([]Image, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	f, err := s.spool(r)
	if err != nil {
		return nil, err
	}
	a, cleanup, err := openTarFile(f, s.path("tmp"))
	if err != nil {
		return nil, err
	}
	defer cleanup()
	imgs, err := s.loadArchive(a)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return imgs, nil
}

func (s *Store) loadArchive(a archive) ([]Image, error) {
	parsed, err := parseArchive(a)
	if err != nil {
		return nil, err
	}
	plans, reads, err := s.planLoad(parsed)
	if err != nil {
		return nil, err
	}
	// Every layer to read is read, checked and unpacked in the temp area
	// before any enters the store: a bad descriptor anywhere in the archive
	// leaves the store as it was.
	pending, err := s.readLayers(a, reads)
	if err != nil {
		return nil, err
	}
	for i, pl := range pending {
		desc, err := pl.commit(s)
		if err != nil {
			for _, rest := range pending[i+1:] {
				rest.discard()
			}
			return nil, err
		}
		reads[i].desc = desc
	}
	var out []Image
	for _, pln := range plans {
		img, err := s.ingestImage(pln, reads)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// imagePlan is what loading one image of an archive takes: the stored
// image whose config it has, or each layer's descriptor in the store,
// already there or to come from reads[read[i]].
type imagePlan struct {
	p      parsedImage
	stored digest.Digest // the manifest of the same image in the store, or ""
	descs  []ocispec.Descriptor
	read   []int // per layer, the index in reads or -1
}

// layerRead is a layer of the archive to read into the store.
type layerRead struct {
	src    layerSource
	diffID digest.Digest
	desc   ocispec.Descriptor // set once stored
}

// planLoad decides what each image needs: nothing but its names when the
// store has an image with its config (see ingestImage), else each layer the
// store does not already hold, each once.
func (s *Store) planLoad(parsed []parsedImage) ([]imagePlan, []layerRead, error) {
	var plans []imagePlan
	var reads []layerRead
	byDiffID := map[digest.Digest]int{}
	for _, p := range parsed {
		pln := imagePlan{p: p}
		md, ok, err := s.manifestOfConfig(digest.FromBytes(p.cfg))
		if err != nil {
			return nil, nil, err
		}
		if ok {
			pln.stored = md
			plans = append(plans, pln)
			continue
		}
		pln.descs = make([]ocispec.Descriptor, len(p.srcs))
		pln.read = make([]int, len(p.srcs))
		for i, src := range p.srcs {
			diffID := p.config.RootFS.DiffIDs[i]
			pln.read[i] = -1
			if j, ok := byDiffID[diffID]; ok {
				pln.read[i] = j
			} else if d, ok := s.storedLayer(src.desc, diffID); ok {
				pln.descs[i] = d
			} else {
				byDiffID[diffID] = len(reads)
				pln.read[i] = len(reads)
				reads = append(reads, layerRead{src: src, diffID: diffID})
			}
		}
		plans = append(plans, pln)
	}
	return plans, reads, nil
}

// ingestImage stores the config of one image whose layers are stored, then
// its manifest (the archive's when OCI, else a new one), and names it.
//
// An image is its config, as in docker: when the store already has an
// image with this config (the same ID), the archive's names move to that
// image and nothing else is stored, whatever manifest the archive has. A
// docker-archive has no manifest and an OCI one may have another (other
// blobs, other compression, other JSON), and a second manifest of the same
// config would list the image twice: named, and <none> when the names moved.
func (s *Store) ingestImage(pln imagePlan, reads []layerRead) (Image, error) {
	p := pln.p
	if pln.stored != "" {
		if err := s.setNames(pln.stored, p.names); err != nil {
			return Image{}, err
		}
		return s.imageByManifest(pln.stored)
	}
	for i, j := range pln.read {
		if j >= 0 {
			pln.descs[i] = reads[j].desc
		}
	}
	cfg, manifest := p.cfg, p.manifest
	cfgDigest, err := s.putBlob(cfg)
	if err != nil {
		return Image{}, err
	}
	if manifest == nil {
		m := ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfgDigest, Size: int64(len(cfg))},
			Layers:    pln.descs,
		}
		if manifest, err = json.Marshal(m); err != nil {
			return Image{}, err
		}
	}
	md, err := s.putBlob(manifest)
	if err != nil {
		return Image{}, err
	}
	if err := s.setNames(md, p.names); err != nil {
		return Image{}, err
	}
	return s.imageByManifest(md)
}

// manifestOfConfig returns the manifest of the stored image whose config is
// cfg and whose blobs and layers are all in the store, a named one first.
func (s *Store) manifestOfConfig(cfg digest.Digest) (digest.Digest, bool, error) {
	imgs, err := s.List()
	if err != nil {
		return "", false, err
	}
	var found digest.Digest
	for _, img := range imgs {
		if img.ID != cfg || !s.complete(img) {
			continue
		}
		if len(img.Names) > 0 {
			return img.ManifestDigest, true, nil
		}
		if found == "" {
			found = img.ManifestDigest
		}
	}
	return found, found != "", nil
}

// complete reports whether every blob and layer of img is in the store.
func (s *Store) complete(img Image) bool {
	for _, l := range img.Manifest.Layers {
		if !s.HasBlob(l.Digest) {
			return false
		}
	}
	for _, d := range img.DiffIDs() {
		if !s.HasLayer(d) {
			return false
		}
	}
	return true
}

// imageByManifest returns the stored image whose manifest is md.
func (s *Store) imageByManifest(md digest.Digest) (Image, error) {
	imgs, err := s.List()
	if err != nil {
		return Image{}, err
	}
	for _, img := range imgs {
		if img.ManifestDigest == md {
			return img, nil
		}
	}
	return Image{}, fmt.Errorf("manifest %s: %w", md, ErrNotFound)
}

// readLayers reads, checks and unpacks the layers into the temp area,
// several at once. On error nothing of them is left.
func (s *Store) readLayers(a archive, reads []layerRead) ([]*pendingLayer, error) {
	pending := make([]*pendingLayer, len(reads))
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for i, rd := range reads {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			rc, size, err := a.open(rd.src.member)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", rd.src.where, err)
				return
			}
			defer rc.Close()
			want := rd.src.desc
			if want.Size >= 0 && want.Size != size {
				errs[i] = fmt.Errorf("%s: expected size %d, found %d: %w", rd.src.where, want.Size, size, ErrSizeMismatch)
				return
			}
			want.Size = size
			pending[i], errs[i] = s.readLayer(rc, want, rd.diffID, rd.src.where)
		}()
	}
	wg.Wait()
	// The first failing layer, bottom up: one error, one line, whatever
	// failed alongside it.
	for _, err := range errs {
		if err != nil {
			for _, pl := range pending {
				if pl != nil {
					pl.discard()
				}
			}
			return nil, err
		}
	}
	return pending, nil
}

// storedLayer reports whether the store holds the layer (see HasLayer) and its blob
// stored, returning the blob's descriptor. When the archive does not say
// which blob it has (classic docker save), any stored blob of the same
// diffID will do: its content is the same layer.
func (s *Store) storedLayer(want ocispec.Descriptor, diffID digest.Digest) (ocispec.Descriptor, bool) {
	meta, err := s.Layer(diffID)
	if err != nil {
		return ocispec.Descriptor{}, false
	}
	if want.Digest != "" {
		if want.Digest != meta.Blob || !s.HasBlob(want.Digest) {
			return ocispec.Descriptor{}, false
		}
	}
	info, err := os.Stat(s.blobPath(meta.Blob))
	if err != nil {
		return ocispec.Descriptor{}, false
	}
	return ocispec.Descriptor{MediaType: meta.BlobMediaType, Digest: meta.Blob, Size: info.Size()}, true
}
