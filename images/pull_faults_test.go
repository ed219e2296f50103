package images

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The faults a registry can serve, each made by wrapping the in-process
// registry's handler, and what a pull does about each: one line naming
// the reference, nothing half made, or a pull that recovers.

// rewrite answers the requests that match with what edit makes of the
// registry's answer (its headers and body).
func rewrite(match func(*http.Request) bool, edit func(h http.Header, body []byte) []byte) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := edit(rec.Header(), rec.Body.Bytes())
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			w.Write(body)
		})
	}
}

// getOf matches the GETs of path's suffix.
func getOf(suffix string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, suffix) }
}

// dropAfterHalf answers the GETs of suffix with the first half of what the
// registry sends, then drops the connection, the first times answers
// (all of them when times is negative).
func dropAfterHalf(suffix string, times int, ranges *atomic.Int32) func(http.Handler) http.Handler {
	var n atomic.Int32
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !getOf(suffix)(r) {
				next.ServeHTTP(w, r)
				return
			}
			if r.Header.Get("Range") != "" {
				ranges.Add(1)
			}
			if times >= 0 && int(n.Add(1)) > times {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			b := rec.Body.Bytes()
			w.Write(b[:len(b)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the server closes the connection mid-body
		})
	}
}

// TestPullFaults: each fault fails the pull in one line that names the
// reference and what was wrong, and leaves no image, no blob that is not
// what its name says, and no temp file.
func TestPullFaults(t *testing.T) {
	src := newStore(t)
	img := sample(t, src, "sample")
	layer1 := string(img.Manifest.Layers[1].Digest)
	var ranges atomic.Int32
	for _, tc := range []struct {
		name  string
		wrap  func(http.Handler) http.Handler
		edit  func(*ocispec.Manifest)
		want  error
		inMsg string
	}{
		{"blob digest wrong", rewrite(getOf(layer1), func(_ http.Header, b []byte) []byte {
			b[len(b)/2] ^= 0xff
			return b
		}), nil, ErrDigestMismatch, "layers[1] " + layer1},
		{"blob longer than its size", rewrite(getOf(layer1), func(_ http.Header, b []byte) []byte {
			return append(b, "more"...)
		}), nil, ErrSizeMismatch, "the registry sends"},
		{"manifest served as a config", rewrite(getOf("/manifests/v1"), func(h http.Header, b []byte) []byte {
			h.Set("Content-Type", ocispec.MediaTypeImageConfig)
			return b
		}), nil, ErrBadManifest, "served as " + ocispec.MediaTypeImageConfig},
		{"an artifact", nil, func(m *ocispec.Manifest) {
			m.Config.MediaType = "application/vnd.cncf.helm.config.v1+json"
		}, ErrBadManifest, `config media type "application/vnd.cncf.helm.config.v1+json" is not a container image's`},
		{"a foreign layer", nil, func(m *ocispec.Manifest) {
			m.Layers[2].MediaType = dockerForeignLayer
		}, ErrBadManifest, "layers[2]: a foreign layer"},
		{"connection always dropped", dropAfterHalf(layer1, -1, &ranges), nil, nil, "connection lost 6 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := startRegistry(t, tc.wrap)
			mt := ocispec.MediaTypeImageManifest
			reg.putImage(t, src, img, "faults", "v1", mt, tc.edit, nil)
			s := newStore(t)
			ref := reg.host + "/faults:v1"
			_, err := s.Pull(context.Background(), ref, PullOptions{})
			if err == nil {
				t.Fatal("pull succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			if (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(msg, tc.inMsg) ||
				!strings.HasPrefix(msg, "pull "+ref+": ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line starting with the reference, with %q (%v)", msg, tc.inMsg, tc.want)
			}
			checkNothingHalfMade(t, s)
		})
	}
}

// TestPullSchema1 refuses docker's schema 1, saying what it is.
func TestPullSchema1(t *testing.T) {
	reg := startRegistry(t, nil)
	reg.putManifest(t, "old", "v1", dockerSchema1Signed, []byte(`{"schemaVersion":1,"name":"old","tag":"v1","fsLayers":[]}`))
	_, err := newStore(t).Pull(context.Background(), reg.host+"/old:v1", PullOptions{})
	if !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), "schema 1") {
		t.Errorf("pull of schema 1: %v", err)
	}
}

// TestPullResumesDroppedConnection: a connection dropped mid-blob is taken
// up where it broke, with a Range request, and the pull succeeds.
func TestPullResumesDroppedConnection(t *testing.T) {
	src := newStore(t)
	img := sample(t, src, "sample")
	var ranges atomic.Int32
	reg := startRegistry(t, dropAfterHalf(string(img.Manifest.Layers[0].Digest), 2, &ranges))
	reg.putImage(t, src, img, "drop", "v1", ocispec.MediaTypeImageManifest, nil, nil)
	log := newProgressLog()
	p := pullAll(t, newStore(t), reg.host+"/drop:v1", PullOptions{Progress: log.record})
	if p.Image.ID != img.ID {
		t.Errorf("pulled %s, want %s", p.Image.ID, img.ID)
	}
	if ranges.Load() != 2 {
		t.Errorf("%d range requests, want 2", ranges.Load())
	}
	if !strings.Contains(fmt.Sprint(log.seen[0]), LayerResuming.String()) {
		t.Errorf("layer 0 states %v: never resuming", log.seen[0])
	}
}

// TestPullStoppedThenResumed: a pull cancelled while one layer is half
// downloaded keeps the layers it finished and nothing else; the next pull
// fetches only the rest.
func TestPullStoppedThenResumed(t *testing.T) {
	src := newStore(t)
	img := sample(t, src, "sample")
	top := string(img.Manifest.Layers[2].Digest)
	ctx, cancel := context.WithCancel(context.Background())
	stall := true
	reg := startRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !stall || !getOf(top)(r) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			w.Header().Set("Content-Length", strconv.Itoa(rec.Body.Len()))
			w.Write(rec.Body.Bytes()[:rec.Body.Len()/2])
			w.(http.Flusher).Flush()
			cancel() // the pull stops with this layer half read
			<-r.Context().Done()
		})
	})
	reg.putImage(t, src, img, "stop", "v1", ocispec.MediaTypeImageManifest, nil, nil)
	s := newStore(t)
	ref := reg.host + "/stop:v1"
	_, err := s.Pull(ctx, ref, PullOptions{Jobs: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped pull: %v", err)
	}
	checkNothingHalfMade(t, s)
	for i, d := range img.DiffIDs() {
		if got := s.HasLayer(d); got != (i < 2) {
			t.Errorf("layer %d stored: %v", i, got)
		}
	}
	stall = false
	before := reg.blobGets("stop")
	p := pullAll(t, s, ref, PullOptions{})
	if p.Fetched != 1 || p.Image.ID != img.ID || reg.blobGets("stop")-before != 2 {
		t.Errorf("resumed pull fetched %d layers (%d blobs with the config), ID %s", p.Fetched, reg.blobGets("stop")-before, p.Image.ID)
	}
}

// bearerAuth puts a token service in front of the registry, as docker
// hub's: a request without the token gets a 401 naming the realm, where
// the client trades user:pass for the token.
func bearerAuth(user, pass string, challenges, tokens *atomic.Int32) func(http.Handler) http.Handler {
	const token = "t0k3n"
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
					http.Error(w, `{"details":"bad credentials"}`, http.StatusUnauthorized)
					return
				}
				tokens.Add(1)
				json.NewEncoder(w).Encode(map[string]string{"token": token})
				return
			}
			if r.Header.Get("Authorization") != "Bearer "+token {
				challenges.Add(1)
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test"`, r.Host))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// dockerConfig writes a docker config.json with user:pass for host and
// points DOCKER_CONFIG at it, as docker login would leave it.
func dockerLogin(t *testing.T, host, user, pass string) {
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

// TestPullPushBearerAuth: a 401, then a token for the credentials of
// ~/.docker/config.json, for push and pull; wrong credentials fail in one
// line naming the reference.
func TestPullPushBearerAuth(t *testing.T) {
	var challenges, tokens atomic.Int32
	reg := startRegistry(t, bearerAuth("alice", "s3cret", &challenges, &tokens))
	src := newStore(t)
	img := sample(t, src, "sample")
	ref := reg.host + "/private/sample:v1"
	dockerLogin(t, reg.host, "alice", "s3cret")
	if _, err := src.Push(context.Background(), "sample", ref, PushOptions{}); err != nil {
		t.Fatal(err)
	}
	p := pullAll(t, newStore(t), ref, PullOptions{})
	if p.Image.ID != img.ID {
		t.Errorf("pulled %s, want %s", p.Image.ID, img.ID)
	}
	if challenges.Load() == 0 || tokens.Load() < 2 {
		t.Errorf("%d challenges, %d tokens: the bearer flow did not run", challenges.Load(), tokens.Load())
	}

	dockerLogin(t, reg.host, "alice", "wrong")
	s := newStore(t)
	_, err := s.Pull(context.Background(), ref, PullOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "pull "+ref+": ") || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "\n") {
		t.Errorf("pull with wrong credentials: %v", err)
	}
	checkNothingHalfMade(t, s)
}

// TestPullTLS: a registry on HTTPS with a certificate nobody signed is
// refused, unless TLS verification is off (--tls-verify=false).
func TestPullTLS(t *testing.T) {
	plain := startRegistry(t, nil)
	src := newStore(t)
	img := sample(t, src, "sample")
	plain.putImage(t, src, img, "tls", "v1", ocispec.MediaTypeImageManifest, nil, nil)
	srv := httptest.NewUnstartedServer(plain.srv.Config.Handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "https://") + "/tls:v1"
	s := newStore(t)
	if _, err := s.Pull(context.Background(), ref, PullOptions{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("pull from an unknown certificate: %v", err)
	}
	p := pullAll(t, s, ref, PullOptions{RegistryOptions: RegistryOptions{Insecure: true}})
	if p.Image.ID != img.ID {
		t.Errorf("pulled %s, want %s", p.Image.ID, img.ID)
	}
}
