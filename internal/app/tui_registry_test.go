package app

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"minidocker/internal/testutil"
	"minidocker/ui"
)

// newRegistryApp is an application over a store of its own holding base,
// and an in-process registry's host:port.
func newRegistryApp(t *testing.T) (*App, string) {
	t.Helper()
	testutil.RequireRoot(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no one's credentials
	a := New(filepath.Join(t.TempDir(), "store"))
	s, err := a.Images()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBase(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return a, strings.TrimPrefix(srv.URL, "http://")
}

// TestUIRegistryRoundTrip pushes base through the UI's registry role and
// pulls it into another store: the same image, its layers told as they
// arrive, the digest the push gave.
func TestUIRegistryRoundTrip(t *testing.T) {
	a, host := newRegistryApp(t)
	s, _ := a.Images()
	base, err := s.Get("base")
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/ui/base:v1"
	var mu sync.Mutex
	var sent, total int64
	pushed, err := uiRegistry{a}.Push(context.Background(), ui.PushSpec{Image: string(base.ID), Dest: ref, Insecure: true}, func(d, n int64) {
		mu.Lock()
		sent, total = d, n
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Ref != ref || !strings.HasPrefix(pushed.Digest, "sha256:") || total == 0 || sent != total {
		t.Errorf("pushed %+v, progress %d/%d", pushed, sent, total)
	}

	b := New(filepath.Join(t.TempDir(), "store"))
	seen := map[int]ui.PullState{}
	pulled, err := uiRegistry{b}.Pull(context.Background(), ui.PullSpec{Ref: ref, Insecure: true}, func(l ui.PullLayer) {
		mu.Lock()
		seen[l.Index] = l.State
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Image.ID != string(base.ID) || pulled.Name != ref || pulled.Digest != pushed.Digest || pulled.UpToDate {
		t.Errorf("pulled %s as %q (digest %s, up to date %v), want %s as %q (digest %s)", pulled.Image.ID, pulled.Name, pulled.Digest, pulled.UpToDate, base.ID, ref, pushed.Digest)
	}
	if len(seen) != len(base.DiffIDs()) {
		t.Errorf("progress of %d layers, the image has %d", len(seen), len(base.DiffIDs()))
	}
	for i, st := range seen {
		if st != ui.PullDone {
			t.Errorf("layer %d ended %v", i, st)
		}
	}
	if pulled.Image.Size == 0 || len(pulled.Image.Layers) != len(base.DiffIDs()) {
		t.Errorf("the pulled image as the UI lists it: %+v", pulled.Image)
	}
}

// TestUIPullCancelled checks a pull whose context ended stores nothing and
// says so, naming the reference.
func TestUIPullCancelled(t *testing.T) {
	a, host := newRegistryApp(t)
	s, _ := a.Images()
	base, _ := s.Get("base")
	ref := host + "/ui/base:v1"
	if _, err := (uiRegistry{a}).Push(context.Background(), ui.PushSpec{Image: string(base.ID), Dest: ref, Insecure: true}, nil); err != nil {
		t.Fatal(err)
	}
	b := New(filepath.Join(t.TempDir(), "store"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := uiRegistry{b}.Pull(ctx, ui.PullSpec{Ref: ref, Insecure: true}, nil)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), ref) {
		t.Errorf("cancelled pull: %v, want context.Canceled naming %s", err, ref)
	}
	bs, _ := b.Images()
	if list, _ := bs.List(); len(list) != 0 {
		t.Errorf("a cancelled pull stored %d images", len(list))
	}
}

// TestUIOpen checks what ui REF opens: a stored image by its ID, a pull of
// a reference naming a registry host or of any with --pull, and an error
// naming any other reference.
func TestUIOpen(t *testing.T) {
	a, _ := newRegistryApp(t)
	s, _ := a.Images()
	base, _ := s.Get("base")
	id, pull, err := a.UIOpen("base", PullFallback{})
	if err != nil || id != string(base.ID) || pull != nil {
		t.Errorf("base: %q, %v, %v", id, pull, err)
	}
	_, pull, err = a.UIOpen("127.0.0.1:5000/x:v1", PullFallback{PullOptions: PullOptions{Insecure: true}})
	if err != nil || pull == nil || *pull != (ui.PullSpec{Ref: "127.0.0.1:5000/x:v1", Insecure: true}) {
		t.Errorf("registry reference: %+v, %v", pull, err)
	}
	_, pull, err = a.UIOpen("alpine", PullFallback{Any: true, PullOptions: PullOptions{Platform: "linux/arm64"}})
	if err != nil || pull == nil || *pull != (ui.PullSpec{Ref: "alpine", Platform: "linux/arm64"}) {
		t.Errorf("alpine with --pull: %+v, %v", pull, err)
	}
	_, pull, err = a.UIOpen("nosuch", PullFallback{})
	if err == nil || pull != nil || !strings.Contains(err.Error(), `no image nosuch here`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("nosuch: %+v, %v", pull, err)
	}
}
