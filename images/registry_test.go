package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// testRegistry is go-containerregistry's in-process registry on a loopback
// port, its handler wrapped by the test to make faults, with a count of
// the requests it served by method and path.
type testRegistry struct {
	host string
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

// startRegistry serves a fresh registry, through wrap when not nil.
func startRegistry(t *testing.T, wrap func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	// No test may read the credentials of the user running it; those that
	// need some write their own.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	tr := &testRegistry{hits: map[string]int{}}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		tr.hits[r.Method+" "+r.URL.Path]++
		tr.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(tr.srv.Close)
	tr.host = strings.TrimPrefix(tr.srv.URL, "http://")
	return tr
}

// count is how often method and path were asked for.
func (tr *testRegistry) count(method, path string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.hits[method+" "+path]
}

// blobGets counts the GETs of blobs of repo, each digest once or more.
func (tr *testRegistry) blobGets(repo string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for k, v := range tr.hits {
		if strings.HasPrefix(k, "GET /v2/"+repo+"/blobs/") {
			n += v
		}
	}
	return n
}

// putBlob uploads b to repo in one request.
func (tr *testRegistry) putBlob(t *testing.T, repo string, b []byte) ocispec.Descriptor {
	t.Helper()
	d := digest.FromBytes(b)
	resp, err := http.Post(fmt.Sprintf("%s/v2/%s/blobs/uploads/?digest=%s", tr.srv.URL, repo, d), "application/octet-stream", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload blob %s: %s", d, resp.Status)
	}
	return ocispec.Descriptor{Digest: d, Size: int64(len(b))}
}

// putManifest stores b as repo's manifest ref, served as mediaType.
func (tr *testRegistry) putManifest(t *testing.T, repo, ref, mediaType string, b []byte) ocispec.Descriptor {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/v2/%s/manifests/%s", tr.srv.URL, repo, ref), bytes.NewReader(b))
	req.Header.Set("Content-Type", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("put manifest %s:%s: %s", repo, ref, resp.Status)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
}

// putImage uploads the stored image img's blobs to repo and a manifest
// for them under ref: img's own, or one edit makes of it (with mediaType),
// with a config that editConfig changes when not nil.
func (tr *testRegistry) putImage(t *testing.T, s *Store, img Image, repo, ref, mediaType string, edit func(*ocispec.Manifest), editConfig func(*ocispec.Image)) ocispec.Descriptor {
	t.Helper()
	for _, l := range img.Manifest.Layers {
		b, err := os.ReadFile(s.blobPath(l.Digest))
		if err != nil {
			t.Fatal(err)
		}
		tr.putBlob(t, repo, b)
	}
	cfg, _ := os.ReadFile(s.blobPath(img.ID))
	if editConfig != nil {
		c := img.Config
		editConfig(&c)
		cfg, _ = json.Marshal(c)
	}
	cd := tr.putBlob(t, repo, cfg)
	m := img.Manifest
	m.Config.Digest, m.Config.Size = cd.Digest, cd.Size
	if edit != nil {
		edit(&m)
	}
	mb, _ := json.Marshal(m)
	if edit == nil && editConfig == nil {
		mb, _ = os.ReadFile(s.blobPath(img.ManifestDigest))
	}
	return tr.putManifest(t, repo, ref, mediaType, mb)
}

// asDocker makes a manifest docker's schema 2, as docker push writes it.
func asDocker(m *ocispec.Manifest) {
	m.MediaType = dockerManifest
	m.Config.MediaType = dockerConfig
	for i := range m.Layers {
		m.Layers[i].MediaType = dockerLayerGzip
	}
}

// indexOf is an OCI index of the manifests, each for its platform.
func indexOf(manifests []ocispec.Descriptor, platforms []ocispec.Platform) []byte {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for i, m := range manifests {
		m.MediaType = ocispec.MediaTypeImageManifest
		m.Platform = &platforms[i]
		idx.Manifests = append(idx.Manifests, m)
	}
	b, _ := json.Marshal(idx)
	return b
}

// checkNothingHalfMade checks that a store after a failed pull lists no
// image, holds no blob whose content is not its name, and that its temp
// area is empty.
func checkNothingHalfMade(t *testing.T, s *Store) {
	t.Helper()
	if imgs, err := s.List(); err != nil || len(imgs) != 0 {
		t.Errorf("images after a failed pull: %v, %v", imgs, err)
	}
	checkBlobsWhole(t, s)
	checkTmpEmpty(t, s)
}

// checkBlobsWhole checks that every blob of the store hashes to its name.
func checkBlobsWhole(t *testing.T, s *Store) {
	t.Helper()
	dir := s.path("oci", "blobs", "sha256")
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		if got := hex.EncodeToString(h.Sum(nil)); got != e.Name() {
			t.Errorf("blob %s holds content hashing to %s", e.Name(), got)
		}
	}
}

// pullAll pulls ref into s and fails the test on error.
func pullAll(t *testing.T, s *Store, ref string, opts PullOptions) Pulled {
	t.Helper()
	p, err := s.Pull(context.Background(), ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// progressLog records a pull's progress, the last state of each layer.
type progressLog struct {
	mu   sync.Mutex
	last map[int]LayerProgress
	seen map[int][]LayerState
}

func newProgressLog() *progressLog {
	return &progressLog{last: map[int]LayerProgress{}, seen: map[int][]LayerState{}}
}

func (p *progressLog) record(lp LayerProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last[lp.Index] = lp
	if s := p.seen[lp.Index]; len(s) == 0 || s[len(s)-1] != lp.State {
		p.seen[lp.Index] = append(s, lp.State)
	}
}
