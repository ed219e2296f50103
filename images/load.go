package images

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/human"
)

// Docker's media types, which docker-archive and some OCI layouts carry.
const (
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerLayer        = "application/vnd.docker.image.rootfs.diff.tar"
	dockerLayerGzip    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// Load imports every image of the archive at p: a docker-archive (docker
// save, classic or OCI-shaped), or an OCI image layout as a directory or a
// tar, compressed or not. Every digest, size and diffID is checked; on error
// the store is left as it was, but for layers that were complete. An image
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
	var out []Image
	for _, p := range parsed {
		img, err := s.ingestImage(a, p)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// parsedImage is an image of an archive whose manifest and config were read
// and checked, and whose layers are still in the archive.
type parsedImage struct {
	names  []string
	cfg    []byte
	config ocispec.Image
	srcs   []layerSource
	// manifest is the archive's own OCI manifest, kept byte for byte; nil
	// when a new one must be written.
	manifest []byte
}

// parseArchive reads the images an archive holds, without their layers.
func parseArchive(a archive) ([]parsedImage, error) {
	switch {
	case a.has("manifest.json"):
		return parseDocker(a)
	case a.has("index.json"):
		return parseOCI(a)
	}
	return nil, fmt.Errorf("neither manifest.json (docker save) nor index.json (OCI layout) found: %w", ErrBadArchive)
}

// dockerArchiveEntry is one element of a docker-archive's manifest.json.
type dockerArchiveEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

func parseDocker(a archive) ([]parsedImage, error) {
	b, err := readSmall(a, "manifest.json")
	if err != nil {
		return nil, err
	}
	var entries []dockerArchiveEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("manifest.json: %w: %w", ErrBadArchive, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("manifest.json: lists no image: %w", ErrBadArchive)
	}
	var out []parsedImage
	for _, e := range entries {
		var names []string
		for _, t := range e.RepoTags {
			n, err := ParseName(t)
			if err != nil {
				return nil, fmt.Errorf("manifest.json: %w", err)
			}
			names = append(names, n)
		}
		cfg, err := readSmall(a, e.Config)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		cfgDigest := digest.FromBytes(cfg)
		// The config's name is its digest: <hex>.json, or blobs/sha256/<hex>.
		if want := strings.TrimSuffix(path.Base(e.Config), ".json"); len(want) == 64 && want != cfgDigest.Encoded() {
			return nil, fmt.Errorf("config %s: content hashes to %s: %w", human.Visible(e.Config), cfgDigest, ErrDigestMismatch)
		}
		var srcs []layerSource
		for _, l := range e.Layers {
			src := layerSource{member: l}
			// OCI-shaped archives (docker 25+) name layers by blob digest.
			if hex, ok := strings.CutPrefix(cleanMember(l), "blobs/sha256/"); ok {
				src.desc.Digest = digest.NewDigestFromEncoded(digest.SHA256, hex)
				if err := src.desc.Digest.Validate(); err != nil {
					return nil, fmt.Errorf("layer %s: %w: %w", human.Visible(l), ErrBadArchive, err)
				}
			}
			srcs = append(srcs, src)
		}
		p, err := checkConfig(cfg, srcs)
		if err != nil {
			return nil, err
		}
		p.names = names
		out = append(out, p)
	}
	return out, nil
}

func parseOCI(a archive) ([]parsedImage, error) {
	if b, err := readSmall(a, ocispec.ImageLayoutFile); err == nil {
		var l ocispec.ImageLayout
		if json.Unmarshal(b, &l) != nil || l.Version != ocispec.ImageLayoutVersion {
			return nil, fmt.Errorf("oci-layout: unsupported version: %w", ErrBadArchive)
		}
	}
	b, err := readSmall(a, "index.json")
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("index.json: %w: %w", ErrBadArchive, err)
	}
	if len(idx.Manifests) == 0 {
		return nil, fmt.Errorf("index.json: lists no image: %w", ErrBadArchive)
	}
	var out []parsedImage
	for _, d := range idx.Manifests {
		var names []string
		for _, key := range []string{"io.containerd.image.name", ocispec.AnnotationRefName} {
			if n := d.Annotations[key]; n != "" {
				pn, err := ParseName(n)
				if err != nil {
					return nil, fmt.Errorf("index.json: %w", err)
				}
				names = append(names, pn)
				break
			}
		}
		md, err := resolvePlatform(a, d, 0)
		if err != nil {
			return nil, err
		}
		mb, err := readBlob(a, md)
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(mb, &m); err != nil {
			return nil, fmt.Errorf("manifest %s: %w: %w", md.Digest, ErrBadArchive, err)
		}
		cfg, err := readBlob(a, m.Config)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		var srcs []layerSource
		for _, l := range m.Layers {
			switch l.MediaType {
			case ocispec.MediaTypeImageLayer, ocispec.MediaTypeImageLayerGzip, ocispec.MediaTypeImageLayerZstd, dockerLayer, dockerLayerGzip:
			default:
				return nil, fmt.Errorf("layer %s: media type %s: %w", human.Visible(string(l.Digest)), human.Visible(l.MediaType), ErrBadArchive)
			}
			if err := l.Digest.Validate(); err != nil {
				return nil, fmt.Errorf("layer %s: %w: %w", human.Visible(string(l.Digest)), ErrBadArchive, err)
			}
			srcs = append(srcs, layerSource{member: blobMember(l.Digest), desc: l})
		}
		var keep []byte
		if md.MediaType == ocispec.MediaTypeImageManifest || m.MediaType == ocispec.MediaTypeImageManifest {
			keep = mb
		}
		p, err := checkConfig(cfg, srcs)
		if err != nil {
			return nil, err
		}
		p.names, p.manifest = names, keep
		out = append(out, p)
	}
	return out, nil
}

func blobMember(d digest.Digest) string {
	return path.Join("blobs", d.Algorithm().String(), d.Encoded())
}

// readBlob reads a small blob of an OCI layout, checking digest and size.
func readBlob(a archive, d ocispec.Descriptor) ([]byte, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("digest %s: %w: %w", human.Visible(string(d.Digest)), ErrBadArchive, err)
	}
	b, err := readSmall(a, blobMember(d.Digest))
	if err != nil {
		return nil, err
	}
	if got := digest.FromBytes(b); got != d.Digest {
		return nil, fmt.Errorf("blob %s: content hashes to %s: %w", d.Digest, got, ErrDigestMismatch)
	}
	if d.Size != int64(len(b)) {
		return nil, fmt.Errorf("blob %s: %d bytes, descriptor says %d: %w", d.Digest, len(b), d.Size, ErrSizeMismatch)
	}
	return b, nil
}

// resolvePlatform follows image indexes down to the manifest for this machine.
func resolvePlatform(a archive, d ocispec.Descriptor, depth int) (ocispec.Descriptor, error) {
	if d.MediaType != ocispec.MediaTypeImageIndex && d.MediaType != dockerManifestList {
		return d, nil
	}
	if depth > 4 {
		return d, fmt.Errorf("index %s: nested too deep: %w", human.Visible(string(d.Digest)), ErrBadArchive)
	}
	b, err := readBlob(a, d)
	if err != nil {
		return d, fmt.Errorf("index: %w", err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return d, fmt.Errorf("index %s: %w: %w", d.Digest, ErrBadArchive, err)
	}
	var match []ocispec.Descriptor
	for _, m := range idx.Manifests {
		if m.Platform == nil || (m.Platform.OS == "linux" && m.Platform.Architecture == runtime.GOARCH) {
			if !a.has(blobMember(m.Digest)) {
				continue // a multi-arch index whose other platforms were not copied
			}
			match = append(match, m)
		}
	}
	if len(match) == 0 {
		return d, fmt.Errorf("index %s: no image for linux/%s: %w", d.Digest, runtime.GOARCH, ErrNotFound)
	}
	return resolvePlatform(a, match[0], depth+1)
}

// layerSource is a layer blob inside an archive, with what is known of it.
type layerSource struct {
	member string
	desc   ocispec.Descriptor
}

// checkConfig decodes an image config and checks it against the layers.
func checkConfig(cfg []byte, srcs []layerSource) (parsedImage, error) {
	p := parsedImage{cfg: cfg, srcs: srcs}
	c := &p.config
	if err := json.Unmarshal(cfg, c); err != nil {
		return p, fmt.Errorf("config: %w: %w", ErrBadArchive, err)
	}
	if c.RootFS.Type != "layers" {
		return p, fmt.Errorf("config: rootfs type %s: %w", human.Visible(c.RootFS.Type), ErrBadArchive)
	}
	if len(c.RootFS.DiffIDs) != len(srcs) {
		return p, fmt.Errorf("config lists %d diffIDs for %d layers: %w", len(c.RootFS.DiffIDs), len(srcs), ErrBadArchive)
	}
	for _, d := range c.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return p, fmt.Errorf("config: diffID %s: %w: %w", human.Visible(string(d)), ErrBadArchive, err)
		}
	}
	return p, nil
}

// ingestImage stores the config and the layers of one image, then its
// manifest (the archive's when OCI, else a new one), and names it.
//
// An image is its config, as in docker: when the store already has an
// image with this config (the same ID), the archive's names move to that
// image and nothing else is stored, whatever manifest the archive has. A
// docker-archive has no manifest and an OCI one may have another (other
// blobs, other compression, other JSON), and a second manifest of the same
// config would list the image twice: named, and <none> when the names moved.
func (s *Store) ingestImage(a archive, p parsedImage) (Image, error) {
	cfg, manifest := p.cfg, p.manifest
	if md, ok, err := s.manifestOfConfig(digest.FromBytes(cfg)); err != nil || ok {
		if err != nil {
			return Image{}, err
		}
		if err := s.setNames(md, p.names); err != nil {
			return Image{}, err
		}
		return s.imageByManifest(md)
	}
	descs, err := s.ingestLayers(a, p.srcs, p.config.RootFS.DiffIDs)
	if err != nil {
		return Image{}, err
	}
	cfgDigest, err := s.putBlob(cfg)
	if err != nil {
		return Image{}, err
	}
	if manifest == nil {
		m := ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: cfgDigest, Size: int64(len(cfg))},
			Layers:    descs,
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

// ingestLayers stores and unpacks the layers, several at once, and returns
// their descriptors. A layer already in the store is not read again.
func (s *Store) ingestLayers(a archive, srcs []layerSource, diffIDs []digest.Digest) ([]ocispec.Descriptor, error) {
	descs := make([]ocispec.Descriptor, len(srcs))
	first := map[digest.Digest]int{}
	var todo []int
	for i := range srcs {
		if _, dup := first[diffIDs[i]]; dup {
			continue
		}
		first[diffIDs[i]] = i
		if d, ok := s.storedLayer(srcs[i].desc, diffIDs[i]); ok {
			descs[i] = d
			continue
		}
		todo = append(todo, i)
	}
	errs := make([]error, len(srcs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for _, i := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			rc, size, err := a.open(srcs[i].member)
			if err != nil {
				errs[i] = fmt.Errorf("layer %d: %w", i+1, err)
				return
			}
			defer rc.Close()
			want := srcs[i].desc
			if want.Size > 0 && want.Size != size {
				errs[i] = fmt.Errorf("layer %s: %d bytes, descriptor says %d: %w", want.Digest, size, want.Size, ErrSizeMismatch)
				return
			}
			want.Size = size
			res, err := s.ingestLayer(rc, want, diffIDs[i])
			if err != nil {
				errs[i] = err
				return
			}
			descs[i] = res.desc
		}()
	}
	wg.Wait()
	// The first failing layer, bottom up: one error, one line, whatever
	// failed alongside it.
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for i := range srcs {
		if j := first[diffIDs[i]]; j != i {
			descs[i] = descs[j]
		}
	}
	return descs, nil
}

// storedLayer reports whether the layer is already unpacked and its blob
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
