package images

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/human"
)

// How a reference becomes one image manifest: the registry's answer for
// the tag or digest is an image manifest (OCI or docker's schema 2), or an
// index (OCI's, or docker's manifest list) whose entry for the platform is
// fetched by digest. Whatever else it answers (docker's schema 1, an
// artifact, a Helm chart) is refused with ErrBadManifest, naming the
// manifest and its media type.

// Media types of docker's registry API that an OCI layout does not use.
const (
	dockerManifest      = "application/vnd.docker.distribution.manifest.v2+json"
	dockerConfig        = "application/vnd.docker.container.image.v1+json"
	dockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	dockerForeignLayer  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	ociNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
)

// HostPlatform is the platform images are pulled for unless told: this
// machine's.
func HostPlatform() ocispec.Platform {
	return ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

// ParsePlatform parses "OS/ARCH" or "OS/ARCH/VARIANT" ("linux/arm64",
// "linux/arm/v7"), as docker's --platform takes it.
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	ok := len(parts) == 2 || len(parts) == 3
	for _, p := range parts {
		ok = ok && p != "" && strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == ""
	}
	if !ok {
		return ocispec.Platform{}, fmt.Errorf("platform \"%s\": want OS/ARCH or OS/ARCH/VARIANT, such as linux/arm64: %w", human.Visible(s), ErrInvalidName)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// platformString spells p as ParsePlatform reads it.
func platformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// matches reports whether have is the platform want; a want without a
// variant takes any.
func matches(have, want ocispec.Platform) bool {
	return have.OS == want.OS && have.Architecture == want.Architecture && (want.Variant == "" || have.Variant == want.Variant)
}

// remoteImage is the image manifest a reference resolves to, checked.
type remoteImage struct {
	desc     ocispec.Descriptor // the manifest's digest, size and media type
	raw      []byte
	manifest ocispec.Manifest
	index    digest.Digest // the index it was chosen from, or ""
}

// resolve fetches the manifest of r's reference and, when it is an index,
// the manifest of its image for the platform want.
func (r *remoteRepo) resolve(ctx context.Context, want ocispec.Platform) (remoteImage, error) {
	desc, raw, err := r.getManifest(ctx, r.ref)
	if err != nil {
		return remoteImage{}, err
	}
	var index digest.Digest
	if isIndex(desc.MediaType) {
		child, err := pickPlatform(desc, raw, want)
		if err != nil {
			return remoteImage{}, err
		}
		index = desc.Digest
		cdesc, craw, err := r.getManifest(ctx, r.ref.Context().Digest(child.Digest.String()))
		if err != nil {
			return remoteImage{}, err
		}
		if cdesc.Size != child.Size {
			return remoteImage{}, fmt.Errorf("index %s: manifest %s: expected size %d, found %d: %w", index, child.Digest, child.Size, cdesc.Size, ErrSizeMismatch)
		}
		desc, raw = cdesc, craw
	}
	m, err := checkManifest(desc, raw)
	if err != nil {
		return remoteImage{}, err
	}
	return remoteImage{desc: desc, raw: raw, manifest: m, index: index}, nil
}

// getManifest fetches the manifest of ref (by tag, or by digest, which
// remote checks the content against) and tells its media type.
func (r *remoteRepo) getManifest(ctx context.Context, ref name.Reference) (ocispec.Descriptor, []byte, error) {
	d, err := remote.Get(ref, r.options(ctx)...)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	desc := ocispec.Descriptor{Digest: digest.Digest(d.Digest.String()), Size: d.Size}
	desc.MediaType, err = manifestMediaType(string(d.MediaType), d.Manifest)
	if err != nil {
		return desc, nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	return desc, d.Manifest, nil
}

// manifestMediaType is a manifest's media type: its Content-Type, or the
// mediaType its body declares when the registry sent a generic type. The
// two must agree when both are there (OCI's image spec says so, and a
// registry that lies about one is not to be believed on the other).
func manifestMediaType(contentType string, body []byte) (string, error) {
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	json.Unmarshal(body, &probe) // a body that is not JSON is refused by its type below
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt == "application/json" || mt == "text/plain" || mt == "application/octet-stream" {
		mt = probe.MediaType
	}
	if probe.MediaType != "" && probe.MediaType != mt {
		return "", fmt.Errorf("served as %s, declares %s: %w", human.Visible(mt), human.Visible(probe.MediaType), ErrBadManifest)
	}
	return mt, nil
}

func isIndex(mt string) bool { return mt == ocispec.MediaTypeImageIndex || mt == dockerManifestList }

// pickPlatform returns the entry of the index idx (content raw) for the
// platform want; an entry without a platform is taken for any.
func pickPlatform(idx ocispec.Descriptor, raw []byte, want ocispec.Platform) (ocispec.Descriptor, error) {
	var index ocispec.Index
	if err := json.Unmarshal(raw, &index); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("index %s: %w: %w", idx.Digest, ErrBadManifest, err)
	}
	var has []string
	for _, m := range index.Manifests {
		if m.Platform == nil || matches(*m.Platform, want) {
			if isIndex(m.MediaType) {
				return m, fmt.Errorf("index %s: entry %s is an index itself: %w", idx.Digest, m.Digest, ErrBadManifest)
			}
			if err := m.Digest.Validate(); err != nil {
				return m, fmt.Errorf("index %s: entry %s: %w: %w", idx.Digest, human.Visible(string(m.Digest)), ErrBadManifest, err)
			}
			return m, nil
		}
		if m.Platform.OS != "unknown" { // buildkit's attestations
			has = append(has, human.Visible(platformString(*m.Platform)))
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("index %s: no image for %s (it has %s): %w", idx.Digest, human.Visible(platformString(want)), strings.Join(has, ", "), ErrNotFound)
}

// checkManifest decodes the image manifest raw, described by desc, and
// checks that it is an image we can store.
func checkManifest(desc ocispec.Descriptor, raw []byte) (ocispec.Manifest, error) {
	where := "manifest " + string(desc.Digest)
	var m ocispec.Manifest
	switch desc.MediaType {
	case ocispec.MediaTypeImageManifest, dockerManifest:
	case dockerSchema1, dockerSchema1Signed:
		return m, fmt.Errorf("%s: docker's schema 1, which registries stopped serving in 2020; push the image again: %w", where, ErrBadManifest)
	default:
		return m, fmt.Errorf("%s: media type \"%s\" is not an image manifest: %w", where, human.Visible(desc.MediaType), ErrBadManifest)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("%s: %w: %w", where, ErrBadManifest, err)
	}
	if m.SchemaVersion != 2 {
		return m, fmt.Errorf("%s: schema version %d: %w", where, m.SchemaVersion, ErrBadManifest)
	}
	switch m.Config.MediaType {
	case ocispec.MediaTypeImageConfig, dockerConfig:
	default:
		return m, fmt.Errorf("%s: config media type \"%s\" is not a container image's: %w", where, human.Visible(m.Config.MediaType), ErrBadManifest)
	}
	if err := m.Config.Digest.Validate(); err != nil || m.Config.Size < 0 || m.Config.Size > maxJSON {
		return m, fmt.Errorf("%s: config %s of %d bytes: %w", where, human.Visible(string(m.Config.Digest)), m.Config.Size, ErrBadManifest)
	}
	for i, l := range m.Layers {
		lw := fmt.Sprintf("%s layers[%d]", where, i)
		switch l.MediaType {
		case ocispec.MediaTypeImageLayer, ocispec.MediaTypeImageLayerGzip, ocispec.MediaTypeImageLayerZstd, dockerLayer, dockerLayerGzip:
		case dockerForeignLayer, ociNondistributable:
			return m, fmt.Errorf("%s: a foreign layer (Windows base images have them): %w", lw, ErrBadManifest)
		default:
			return m, fmt.Errorf("%s: media type \"%s\": %w", lw, human.Visible(l.MediaType), ErrBadManifest)
		}
		if err := l.Digest.Validate(); err != nil || l.Size < 0 {
			return m, fmt.Errorf("%s: digest %s, size %d: %w", lw, human.Visible(string(l.Digest)), l.Size, ErrBadManifest)
		}
	}
	return m, nil
}
