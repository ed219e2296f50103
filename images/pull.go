package images

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/human"
)

// PullOptions says how to pull an image.
type PullOptions struct {
	RegistryOptions
	// Platform is the image to take from an index; the zero value is
	// HostPlatform. When set, an image of another platform is refused.
	Platform ocispec.Platform
	// Jobs is how many layers are fetched at once; 0 means 3, as docker.
	Jobs int
	// Progress, when set, is told of each layer as the pull goes, from
	// several goroutines at once.
	Progress func(LayerProgress)
}

// LayerState is where a layer of a pull is.
type LayerState int

// The states of a layer in a pull, in their order.
const (
	LayerWaiting  LayerState = iota // to fetch, not started
	LayerExists                     // in the store already: not fetched
	LayerFetching                   // being downloaded, checked and unpacked
	LayerResuming                   // the connection dropped: asking for the rest
	LayerDone                       // checked, unpacked and in the store
)

func (s LayerState) String() string {
	return [...]string{"waiting", "already exists", "downloading", "resuming", "pull complete"}[s]
}

// LayerProgress is the state of one layer blob of a pull.
type LayerProgress struct {
	Index  int // in the image's manifest, bottom first
	Digest digest.Digest
	Size   int64 // the blob's, from the manifest
	Done   int64 // bytes received
	State  LayerState
}

// Pulled is what a pull stored.
type Pulled struct {
	Image Image
	// Name is the name the image was given ("alpine:latest",
	// "127.0.0.1:5000/base:latest"), or "" for a pull by digest.
	Name string
	// Digest is the registry's digest of the image's manifest, and Index
	// that of the index it was chosen from ("" when there was none).
	Digest, Index digest.Digest
	// Fetched counts the layers downloaded; UpToDate says the store had
	// the image already: nothing was downloaded but its manifest (and its
	// config, when the store had the image under another manifest).
	Fetched  int
	UpToDate bool
}

// Pull fetches the image ref ("alpine", "127.0.0.1:5000/base:v1",
// "repo@sha256:…") from its registry into the store and names it as
// docker does (see storedName). Layers the store has are not fetched;
// the others are fetched several at once, each checked as it streams and
// unpacked as it arrives (fetch.go). What is stored is whole: a layer is
// placed once checked and unpacked, the image named once all its layers
// are. A pull stopped midway, even by SIGKILL, leaves no image and no
// partial blob, and the next pull of the image fetches only the layers
// that were missing. Errors are one line, starting with the reference.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (Pulled, error) {
	p, err := s.pull(ctx, ref, opts)
	if err != nil {
		return p, fmt.Errorf("pull %s: %w", human.Visible(ref), lineError{err})
	}
	return p, nil
}

func (s *Store) pull(ctx context.Context, ref string, opts PullOptions) (Pulled, error) {
	want, explicit := opts.Platform, opts.Platform.OS != ""
	if !explicit {
		want = HostPlatform()
	}
	nref, err := parseReference(ref, opts.RegistryOptions)
	if err != nil {
		return Pulled{}, err
	}
	name, err := storedName(nref)
	if err != nil {
		return Pulled{}, err
	}
	r, err := dial(ctx, nref, opts.RegistryOptions, transport.PullScope)
	if err != nil {
		return Pulled{}, err
	}
	ri, err := r.resolve(ctx, want)
	if err != nil {
		return Pulled{}, err
	}
	var names []string
	if name != "" {
		names = []string{name}
	}
	out := Pulled{Name: name, Digest: ri.desc.Digest, Index: ri.index}
	// This very manifest stored with all its image: nothing to fetch, not
	// even the config. A second pull costs a ping and a manifest.
	if img, ok := s.completeImage(ri.desc.Digest); ok {
		if err := checkPlatform(img.Config.Platform, want, explicit, ri); err != nil {
			return out, err
		}
		return s.pulledAgain(out, ri, names, opts.Progress)
	}
	p, err := r.parseImage(ctx, ri)
	if err != nil {
		return Pulled{}, err
	}
	if err := checkPlatform(p.config.Platform, want, explicit, ri); err != nil {
		return out, err
	}
	p.names = names
	unlock, err := s.lock()
	if err != nil {
		return out, err
	}
	defer unlock()
	plans, reads, err := s.planLoad([]parsedImage{p})
	if err != nil {
		return out, err
	}
	pln := plans[0]
	if pln.stored != "" {
		out.UpToDate = true
		s.reportStored(ri.manifest, opts.Progress)
		out.Image, err = s.nameStored(pln.stored, names)
		return out, err
	}
	report := s.reporter(ri.manifest, pln, reads, opts.Progress)
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = 3
	}
	if err := s.fetchLayers(ctx, r, reads, jobs, report); err != nil {
		return out, err
	}
	out.Fetched = len(reads)
	out.Image, err = s.ingestImage(pln, reads)
	return out, err
}

// parseImage fetches the config of the image ri and checks it against the
// manifest's layers, as an archive's image is checked (parse.go).
func (r *remoteRepo) parseImage(ctx context.Context, ri remoteImage) (parsedImage, error) {
	m := ri.manifest
	where := "manifest " + string(ri.desc.Digest)
	cfg, err := r.fetchSmall(ctx, m.Config, where+" config")
	if err != nil {
		return parsedImage{}, err
	}
	srcs := make([]layerSource, len(m.Layers))
	for i, l := range m.Layers {
		srcs[i] = layerSource{desc: l, where: fmt.Sprintf("layers[%d] %s", i, l.Digest)}
	}
	p, err := checkConfig(cfg, srcs, fmt.Sprintf("%s config %s", where, m.Config.Digest))
	if err != nil {
		return p, err
	}
	// An OCI manifest is kept byte for byte, so the image keeps the
	// registry's digest; docker's is replaced by an OCI one (ingestImage).
	if ri.desc.MediaType == ocispec.MediaTypeImageManifest {
		p.manifest = ri.raw
	}
	p.where, p.configWhere = where, where+" config"
	return p, nil
}

// checkPlatform refuses an image of another platform than want when want
// was asked for: a default platform takes what a single manifest has, as
// docker does (an index was resolved to it already).
func checkPlatform(have, want ocispec.Platform, explicit bool, ri remoteImage) error {
	if explicit && have.OS != "" && !matches(have, want) {
		return fmt.Errorf("image %s is for %s, not %s: %w", ri.desc.Digest, human.Visible(platformString(have)), platformString(want), ErrNotFound)
	}
	return nil
}

// completeImage returns the stored image whose manifest is md, when its
// blobs and layers are all stored.
func (s *Store) completeImage(md digest.Digest) (Image, bool) {
	if !s.HasBlob(md) {
		return Image{}, false
	}
	img, err := s.imageByManifest(md)
	return img, err == nil && s.complete(img)
}

// pulledAgain is a pull of an image the store has whole: it gets the
// names it lacks, under the lock.
func (s *Store) pulledAgain(out Pulled, ri remoteImage, names []string, progress func(LayerProgress)) (Pulled, error) {
	unlock, err := s.lock()
	if err != nil {
		return out, err
	}
	defer unlock()
	out.UpToDate = true
	s.reportStored(ri.manifest, progress)
	out.Image, err = s.nameStored(ri.desc.Digest, names)
	return out, err
}

// nameStored returns the stored image of the manifest md after giving it
// the names it lacks. The caller holds the lock.
func (s *Store) nameStored(md digest.Digest, names []string) (Image, error) {
	img, err := s.imageByManifest(md)
	if err != nil {
		return img, err
	}
	if len(names) == 0 || slices.Contains(img.Names, names[0]) {
		return img, nil // nothing to write
	}
	if err := s.setNames(md, names); err != nil {
		return Image{}, err
	}
	return s.imageByManifest(md)
}

// reportStored tells progress that every layer of m is in the store.
func (s *Store) reportStored(m ocispec.Manifest, progress func(LayerProgress)) {
	if progress == nil {
		return
	}
	for i, l := range m.Layers {
		progress(LayerProgress{Index: i, Digest: l.Digest, Size: l.Size, Done: l.Size, State: LayerExists})
	}
}

// reporter tells progress where each layer of m stands: those the plan
// takes from the store at once, the others as fetchLayers reads them
// (reads[j] is the first layer of m that plan.read maps to j).
func (s *Store) reporter(m ocispec.Manifest, pln imagePlan, reads []layerRead, progress func(LayerProgress)) func(int, int64, LayerState) {
	if progress == nil {
		return func(int, int64, LayerState) {}
	}
	first := make([]int, len(reads))
	for i := range first {
		first[i] = -1
	}
	for i, l := range m.Layers {
		j := pln.read[i]
		switch {
		case j < 0:
			progress(LayerProgress{Index: i, Digest: l.Digest, Size: l.Size, Done: l.Size, State: LayerExists})
		case first[j] < 0:
			first[j] = i
			progress(LayerProgress{Index: i, Digest: l.Digest, Size: l.Size, State: LayerWaiting})
		}
	}
	return func(j int, done int64, st LayerState) {
		l := m.Layers[first[j]]
		progress(LayerProgress{Index: first[j], Digest: l.Digest, Size: l.Size, Done: done, State: st})
	}
}
