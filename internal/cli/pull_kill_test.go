package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/images"
	"minidocker/internal/testutil"
)

// stallingRegistry is go-containerregistry's in-process registry that,
// while stall is set, sends half of the blob stallOn and then holds the
// connection open, and counts the GETs of each path.
type stallingRegistry struct {
	host    string
	stallOn string
	stall   atomic.Bool
	stalled chan struct{} // closed once a GET of stallOn is held
	once    sync.Once
	mu      sync.Mutex
	gets    map[string]int
}

func startStallingRegistry(t *testing.T) *stallingRegistry {
	t.Helper()
	sr := &stallingRegistry{stalled: make(chan struct{}), gets: map[string]int{}}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			sr.mu.Lock()
			sr.gets[r.URL.Path]++
			sr.mu.Unlock()
		}
		if !sr.stall.Load() || sr.stallOn == "" || !strings.HasSuffix(r.URL.Path, sr.stallOn) {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		w.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()))
		w.Write(rec.Body.Bytes()[:rec.Body.Len()/2])
		w.(http.Flusher).Flush()
		sr.once.Do(func() { close(sr.stalled) })
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	sr.host = strings.TrimPrefix(srv.URL, "http://")
	return sr
}

// getsOf counts the GETs of the blob digest.
func (sr *stallingRegistry) getsOf(digest string) int {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	n := 0
	for p, c := range sr.gets {
		if strings.HasSuffix(p, "/blobs/"+digest) {
			n += c
		}
	}
	return n
}

// noisyLayer is a layer of n bytes that gzip cannot shrink much, so that
// its blob is still arriving while the others are done.
func noisyLayer(n int) images.NewLayer {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return layerTar("noise/", "", "noise/data", string(b))
}

// TestPullKilled kills a pull with SIGKILL while its top layer is half
// downloaded, the two below placed: the store lists no image and holds no
// blob that is not what its name says, and the next pull fetches only the
// top layer.
func TestPullKilled(t *testing.T) {
	testutil.RequireRoot(t)
	dockerConfigDir(t)
	src, err := images.Open(filepath.Join(t.TempDir(), "src"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := src.Create("three", []images.NewLayer{
		layerTar("a/", "", "a/one", "1"), layerTar("b/", "", "b/two", "2"), noisyLayer(4 << 20),
	}, ocispec.ImageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	sr := startStallingRegistry(t)
	ref := sr.host + "/kill:v1"
	if _, err := src.Push(context.Background(), "three", ref, images.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	top := string(img.Manifest.Layers[2].Digest)
	sr.stallOn = top
	sr.stall.Store(true)

	root := filepath.Join(t.TempDir(), "store")
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p, err := os.StartProcess(os.Args[0], []string{"minidocker", "--root", root, "pull", ref}, &os.ProcAttr{
		Env: append(os.Environ(), cliEnv+"=1"), Files: []*os.File{nil, out, out}})
	if err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			p.Kill()
			p.Wait()
		}
	}()
	waitFor(t, "the pull to hold the top layer half read, the others placed", func() bool {
		select {
		case <-sr.stalled:
		default:
			return false
		}
		for _, d := range img.DiffIDs()[:2] {
			if _, err := os.Stat(filepath.Join(root, "layers", d.Encoded(), "meta.json")); err != nil {
				return false
			}
		}
		return true
	})
	p.Signal(syscall.SIGKILL)
	p.Wait()
	killed = true
	sr.stall.Store(false)

	if got := mustCLI(t, root, "images"); strings.Count(got, "\n") != 1 {
		t.Errorf("images after a killed pull:\n%s", got)
	}
	checkBlobsWhole(t, root)
	if es, _ := os.ReadDir(filepath.Join(root, "tmp")); len(es) != 0 {
		t.Errorf("tmp after the store opened again: %v", es)
	}
	lower := []int{sr.getsOf(string(img.Manifest.Layers[0].Digest)), sr.getsOf(string(img.Manifest.Layers[1].Digest))}
	got := mustCLI(t, root, "pull", ref)
	if !strings.Contains(got, top[7:19]+": Pull complete") || !strings.Contains(got, "Already exists") || !strings.Contains(got, "(1 layers fetched)") {
		t.Errorf("pull after the killed one:\n%s", got)
	}
	if now := []int{sr.getsOf(string(img.Manifest.Layers[0].Digest)), sr.getsOf(string(img.Manifest.Layers[1].Digest))}; now[0] != lower[0] || now[1] != lower[1] {
		t.Errorf("lower layers fetched again: GETs %v, then %v", lower, now)
	}
	if id := inspectImage(t, root, ref).ID; id != string(img.ID) {
		t.Errorf("pulled %s, want %s", id, img.ID)
	}
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkBlobsWhole checks that every blob of the store at root hashes to its name.
func checkBlobsWhole(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, "oci", "blobs", "sha256")
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
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
