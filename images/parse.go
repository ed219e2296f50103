package images

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/human"
)

// How an archive is checked before anything of it is stored.
//
// An archive describes its images in manifest.json (docker save), in
// index.json (an OCI layout), or in both (docker 25 and later write both).
// Every description it carries is read and every descriptor checked: for
// index.json, each manifests[i] (and each manifests[j] of a nested index)
// by the size and the digest of the blob it names; for each manifest, its
// config and layers by size here and the layers by digest as they are read
// (load.go); for manifest.json, the config by the digest its name holds and
// each layer by presence here and, when its name is a digest, by digest as
// it is read. When both descriptions are present they must name the same
// images with the same layers (reconcile), or the archive is refused: the
// loader and a later reader of the same archive must not see two images.
//
// Errors name the descriptor as the archive spells it ("index.json
// manifests[0] sha256:…", "manifest sha256:… layers[2] sha256:…",
// "manifest.json Layers[1] blobs/sha256/…") and say what was expected and
// what was found, with ErrSizeMismatch, ErrDigestMismatch or
// ErrInconsistentArchive to test for.

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
	// where names the description in errors: "manifest sha256:…" or
	// "manifest.json"; configWhere its config.
	where, configWhere string
}

// layerSource is a layer blob inside an archive, with what is known of it:
// desc.Digest is empty and desc.Size negative when the archive does not say.
type layerSource struct {
	member string
	desc   ocispec.Descriptor
	// where names the layer's descriptor in errors.
	where string
}

// parseArchive reads and checks the images an archive holds, without their
// layers' content.
func parseArchive(a archive) ([]parsedImage, error) {
	hasDocker, hasOCI := a.has("manifest.json"), a.has("index.json")
	switch {
	case hasDocker && hasOCI:
		docker, err := parseDocker(a)
		if err != nil {
			return nil, err
		}
		oci, err := parseOCI(a)
		if err != nil {
			return nil, err
		}
		return reconcile(docker, oci)
	case hasDocker:
		return parseDocker(a)
	case hasOCI:
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
	for i, e := range entries {
		where := "manifest.json"
		if len(entries) > 1 {
			where = fmt.Sprintf("manifest.json[%d]", i)
		}
		p, err := parseDockerEntry(a, e, where)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseDockerEntry(a archive, e dockerArchiveEntry, where string) (parsedImage, error) {
	var names []string
	for _, t := range e.RepoTags {
		n, err := ParseName(t)
		if err != nil {
			return parsedImage{}, fmt.Errorf("%s RepoTags: %w", where, err)
		}
		names = append(names, n)
	}
	cfgWhere := fmt.Sprintf("%s Config %s", where, human.Visible(e.Config))
	cfg, err := readSmall(a, e.Config)
	if err != nil {
		return parsedImage{}, fmt.Errorf("%s: %w", cfgWhere, err)
	}
	// The config's name is its digest: <hex>.json, or blobs/sha256/<hex>.
	if want := strings.TrimSuffix(path.Base(e.Config), ".json"); len(want) == 64 {
		if got := digest.FromBytes(cfg); want != got.Encoded() {
			return parsedImage{}, fmt.Errorf("%s: expected digest sha256:%s, found %s: %w", cfgWhere, human.Visible(want), got, ErrDigestMismatch)
		}
	}
	var srcs []layerSource
	for i, l := range e.Layers {
		src := layerSource{member: l, desc: ocispec.Descriptor{Size: -1}, where: fmt.Sprintf("%s Layers[%d] %s", where, i, human.Visible(l))}
		// OCI-shaped archives (docker 25+) name layers by blob digest.
		if hex, ok := strings.CutPrefix(cleanMember(l), "blobs/sha256/"); ok {
			src.desc.Digest = digest.NewDigestFromEncoded(digest.SHA256, hex)
			if err := src.desc.Digest.Validate(); err != nil {
				return parsedImage{}, fmt.Errorf("%s: %w: %w", src.where, ErrBadArchive, err)
			}
		}
		if !a.has(l) {
			return parsedImage{}, fmt.Errorf("%s: not in the archive: %w", src.where, ErrNotFound)
		}
		srcs = append(srcs, src)
	}
	p, err := checkConfig(cfg, srcs, cfgWhere)
	if err != nil {
		return p, err
	}
	p.names, p.where, p.configWhere = names, where, cfgWhere
	return p, nil
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
	for i, d := range idx.Manifests {
		var names []string
		for _, key := range []string{"io.containerd.image.name", ocispec.AnnotationRefName} {
			if n := d.Annotations[key]; n != "" {
				pn, err := ParseName(n)
				if err != nil {
					return nil, fmt.Errorf("index.json manifests[%d]: %w", i, err)
				}
				names = append(names, pn)
				break
			}
		}
		md, mb, err := resolvePlatform(a, d, fmt.Sprintf("index.json manifests[%d]", i), 0)
		if err != nil {
			return nil, err
		}
		p, err := parseManifest(a, md, mb)
		if err != nil {
			return nil, err
		}
		p.names = names
		out = append(out, p)
	}
	return out, nil
}

// parseManifest checks the OCI manifest mb, named by md, and its config.
func parseManifest(a archive, md ocispec.Descriptor, mb []byte) (parsedImage, error) {
	where := "manifest " + string(md.Digest)
	var m ocispec.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return parsedImage{}, fmt.Errorf("%s: %w: %w", where, ErrBadArchive, err)
	}
	cfgWhere := where + " config"
	cfg, err := readBlob(a, m.Config, cfgWhere)
	if err != nil {
		return parsedImage{}, err
	}
	var srcs []layerSource
	for i, l := range m.Layers {
		src := layerSource{member: blobMember(l.Digest), desc: l, where: fmt.Sprintf("%s layers[%d] %s", where, i, human.Visible(string(l.Digest)))}
		switch l.MediaType {
		case ocispec.MediaTypeImageLayer, ocispec.MediaTypeImageLayerGzip, ocispec.MediaTypeImageLayerZstd, dockerLayer, dockerLayerGzip:
		default:
			return parsedImage{}, fmt.Errorf("%s: media type %s: %w", src.where, human.Visible(l.MediaType), ErrBadArchive)
		}
		if err := l.Digest.Validate(); err != nil {
			return parsedImage{}, fmt.Errorf("%s: %w: %w", src.where, ErrBadArchive, err)
		}
		if err := checkSize(a, src); err != nil {
			return parsedImage{}, err
		}
		srcs = append(srcs, src)
	}
	p, err := checkConfig(cfg, srcs, fmt.Sprintf("%s %s", cfgWhere, m.Config.Digest))
	if err != nil {
		return p, err
	}
	if md.MediaType == ocispec.MediaTypeImageManifest || m.MediaType == ocispec.MediaTypeImageManifest {
		p.manifest = mb
	}
	p.where, p.configWhere = where, cfgWhere+" "+string(m.Config.Digest)
	return p, nil
}

// checkSize checks that the layer src is in the archive, as long as its
// descriptor says when it says.
func checkSize(a archive, src layerSource) error {
	rc, size, err := a.open(src.member)
	if err != nil {
		return fmt.Errorf("%s: %w", src.where, err)
	}
	rc.Close()
	if src.desc.Size >= 0 && size != src.desc.Size {
		return fmt.Errorf("%s: expected size %d, found %d: %w", src.where, src.desc.Size, size, ErrSizeMismatch)
	}
	return nil
}

func blobMember(d digest.Digest) string {
	return path.Join("blobs", d.Algorithm().String(), d.Encoded())
}

// readBlob reads the small blob d of an OCI layout (a manifest, a config, an
// index), checking its size, then its digest. where names the descriptor.
func readBlob(a archive, d ocispec.Descriptor, where string) ([]byte, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("%s: digest %s: %w: %w", where, human.Visible(string(d.Digest)), ErrBadArchive, err)
	}
	where += " " + string(d.Digest)
	rc, size, err := a.open(blobMember(d.Digest))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	defer rc.Close()
	if size != d.Size {
		return nil, fmt.Errorf("%s: expected size %d, found %d: %w", where, d.Size, size, ErrSizeMismatch)
	}
	if size > maxJSON {
		return nil, fmt.Errorf("%s: larger than %d bytes: %w", where, maxJSON, ErrBadArchive)
	}
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if got := d.Digest.Algorithm().FromBytes(b); got != d.Digest {
		return nil, fmt.Errorf("%s: expected digest %s, found %s: %w", where, d.Digest, got, ErrDigestMismatch)
	}
	return b, nil
}

// resolvePlatform follows image indexes down to the manifest for this
// machine and returns its descriptor and content, checked. where names d.
func resolvePlatform(a archive, d ocispec.Descriptor, where string, depth int) (ocispec.Descriptor, []byte, error) {
	b, err := readBlob(a, d, where)
	if err != nil {
		return d, nil, err
	}
	if d.MediaType != ocispec.MediaTypeImageIndex && d.MediaType != dockerManifestList {
		return d, b, nil
	}
	where = "index " + string(d.Digest)
	if depth > 4 {
		return d, nil, fmt.Errorf("%s: nested too deep: %w", where, ErrBadArchive)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return d, nil, fmt.Errorf("%s: %w: %w", where, ErrBadArchive, err)
	}
	for i, m := range idx.Manifests {
		if m.Platform != nil && (m.Platform.OS != "linux" || m.Platform.Architecture != runtime.GOARCH) {
			continue
		}
		if m.Digest.Validate() != nil || !a.has(blobMember(m.Digest)) {
			continue // a multi-arch index whose other platforms were not copied
		}
		return resolvePlatform(a, m, fmt.Sprintf("%s manifests[%d]", where, i), depth+1)
	}
	return d, nil, fmt.Errorf("%s: no image for linux/%s: %w", where, runtime.GOARCH, ErrNotFound)
}

// checkConfig decodes an image config and checks it against the layers.
// where names the config.
func checkConfig(cfg []byte, srcs []layerSource, where string) (parsedImage, error) {
	p := parsedImage{cfg: cfg, srcs: srcs}
	c := &p.config
	if err := json.Unmarshal(cfg, c); err != nil {
		return p, fmt.Errorf("%s: %w: %w", where, ErrBadArchive, err)
	}
	if c.RootFS.Type != "layers" {
		return p, fmt.Errorf("%s: rootfs type %s: %w", where, human.Visible(c.RootFS.Type), ErrBadArchive)
	}
	if len(c.RootFS.DiffIDs) != len(srcs) {
		return p, fmt.Errorf("%s lists %d diffIDs for %d layers: %w", where, len(c.RootFS.DiffIDs), len(srcs), ErrBadArchive)
	}
	for i, d := range c.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return p, fmt.Errorf("%s: diff_ids[%d] %s: %w: %w", where, i, human.Visible(string(d)), ErrBadArchive, err)
		}
	}
	return p, nil
}

// reconcile checks that manifest.json and index.json, both read from one
// archive, describe the same images made of the same layers in the same
// order, and returns the OCI description (it has sizes and media types)
// with docker's names, which docker load would give.
func reconcile(docker, oci []parsedImage) ([]parsedImage, error) {
	if len(docker) != len(oci) {
		return nil, fmt.Errorf("manifest.json lists %d images, index.json %d: %w", len(docker), len(oci), ErrInconsistentArchive)
	}
	byConfig := map[digest.Digest]int{}
	for i, p := range oci {
		byConfig[digest.FromBytes(p.cfg)] = i
	}
	out := append([]parsedImage(nil), oci...)
	matched := make([]bool, len(oci))
	for _, d := range docker {
		cd := digest.FromBytes(d.cfg)
		i, ok := byConfig[cd]
		if !ok {
			return nil, fmt.Errorf("%s: no image of index.json has config %s: %w", d.configWhere, cd, ErrInconsistentArchive)
		}
		o := oci[i]
		if len(d.srcs) != len(o.srcs) {
			return nil, fmt.Errorf("%s lists %d layers, %s %d: %w", d.where, len(d.srcs), o.where, len(o.srcs), ErrInconsistentArchive)
		}
		for j := range d.srcs {
			if cleanMember(d.srcs[j].member) != cleanMember(o.srcs[j].member) {
				return nil, fmt.Errorf("%s is not %s: %w", d.srcs[j].where, o.srcs[j].where, ErrInconsistentArchive)
			}
		}
		if len(d.names) > 0 && !matched[i] {
			out[i].names = nil
		}
		out[i].names = appendNew(out[i].names, d.names...)
		matched[i] = true
	}
	for i, ok := range matched {
		if !ok {
			return nil, fmt.Errorf("%s (index.json) is not in manifest.json: %w", oci[i].where, ErrInconsistentArchive)
		}
	}
	return out, nil
}

// appendNew appends the names not already in list.
func appendNew(list []string, names ...string) []string {
	for _, n := range names {
		if !contains(list, n) {
			list = append(list, n)
		}
	}
	return list
}
