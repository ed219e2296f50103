package images

import (
	"strings"
	"testing"
	"unicode"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzRegistryManifest feeds what a registry could answer for a manifest
// (its Content-Type and body) to the checks a pull makes before it
// fetches anything: nothing may panic, an accepted manifest has a config
// of an image and layers it can fetch, an index entry picked is a manifest
// with a valid digest, and every refusal reads as one visible line.
func FuzzRegistryManifest(f *testing.F) {
	f.Add(ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:a03625571cbf29fb86b136d8c21e72cb7b490023217d9637eadf5ba445ba3198","size":530},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:ba024fc843bc451a7695d269cc7c74cbc04900b93fa73c63862eb2cb37f8f0ac","size":181}]}`))
	f.Add("application/json", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:e6db97101796ac5782f3de7df23a81718d67416e6fc3872daef5175671076aeb","size":709,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:e6db97101796ac5782f3de7df23a81718d67416e6fc3872daef5175671076aeb","size":709,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}`))
	f.Add(dockerManifestList, []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","digest":"sha256:e6db97101796ac5782f3de7df23a81718d67416e6fc3872daef5175671076aeb","size":1}]}`))
	f.Add(dockerSchema1Signed, []byte(`{"schemaVersion":1,"fsLayers":[]}`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		mt, err := manifestMediaType(contentType, body)
		if err != nil {
			checkOneLine(t, err)
			return
		}
		desc := ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(body), Size: int64(len(body))}
		if isIndex(mt) {
			child, err := pickPlatform(desc, body, HostPlatform())
			if err != nil {
				checkOneLine(t, err)
			} else if child.Digest.Validate() != nil || isIndex(child.MediaType) {
				t.Errorf("picked %+v from %s", child, body)
			}
			return
		}
		m, err := checkManifest(desc, body)
		if err != nil {
			checkOneLine(t, err)
			return
		}
		if m.Config.Digest.Validate() != nil || m.Config.Size > maxJSON || m.Config.Size < 0 {
			t.Errorf("accepted config %+v", m.Config)
		}
		for _, l := range m.Layers {
			if l.Digest.Validate() != nil || l.Size < 0 {
				t.Errorf("accepted layer %+v", l)
			}
		}
	})
}

// checkOneLine fails t unless err, as Pull reports it, is one line
// without control characters.
func checkOneLine(t *testing.T, err error) {
	t.Helper()
	msg := lineError{err}.Error()
	if strings.ContainsFunc(msg, unicode.IsControl) {
		t.Errorf("error %q holds control characters", msg)
	}
}
