package images

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestDeriveOnParent(t *testing.T) {
	s := newStore(t)
	parent := sample(t, s, "parent")
	when := time.Unix(1700000000, 0).UTC()
	layer := tarOf(t, dir("app/"), file("app/x", "x"), whiteout("etc/hosts"))
	for _, c := range []Compression{Gzip, Zstd, Uncompressed} {
		img, err := s.Derive(Derivation{
			Parent: &parent, Config: ocispec.ImageConfig{Cmd: []string{"/app/x"}},
			Layer:       func(w io.Writer) error { _, err := w.Write(layer); return err },
			Compression: c, CreatedBy: "COPY x /app/", Created: when,
		}, []string{"child:" + c.String()})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(img.DiffIDs()), len(parent.DiffIDs())+1; got != want {
			t.Fatalf("%v: %d layers, want %d", c, got, want)
		}
		if got := img.DiffIDs()[len(img.DiffIDs())-1]; got != digest.FromBytes(layer) {
			t.Errorf("%v: diffID %s, want the tar's digest %s", c, got, digest.FromBytes(layer))
		}
		if got := img.Manifest.Layers[len(img.Manifest.Layers)-1].MediaType; got != c.mediaType() {
			t.Errorf("%v: media type %s", c, got)
		}
		last := img.Config.History[len(img.Config.History)-1]
		if last.CreatedBy != "COPY x /app/" || last.EmptyLayer || !last.Created.Equal(when) {
			t.Errorf("%v: history %+v", c, last)
		}
		// The new layer's directory holds the whiteout in the overlay form.
		dirs, err := s.LayerDirs(img)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(filepath.Join(dirs[len(dirs)-1], "etc", "hosts"))
		if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("%v: etc/hosts in the new layer: %v %v, want a 0:0 whiteout", c, fi, err)
		}
		if got, err := s.Get("child:" + c.String()); err != nil || got.ID != img.ID {
			t.Errorf("%v: Get = %v, %v", c, got.ID, err)
		}
	}
}

func TestDeriveEmptyLayerUnlisted(t *testing.T) {
	s := newStore(t)
	parent := sample(t, s, "parent")
	cfg := parent.Config.Config
	cfg.Env = append(cfg.Env, "A=b")
	img, err := s.Derive(Derivation{Parent: &parent, Config: cfg, CreatedBy: "/bin/sh -c #(nop)  ENV A=b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(img.DiffIDs()) != len(parent.DiffIDs()) || !img.Config.History[len(img.Config.History)-1].EmptyLayer {
		t.Fatalf("an ENV step made layers %d (parent %d), history %+v", len(img.DiffIDs()), len(parent.DiffIDs()), img.Config.History)
	}
	imgs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range imgs {
		if l.ID == img.ID {
			t.Fatal("an image derived with no name is listed")
		}
	}
	if _, err := s.Publish(img, "built:v1"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("built:v1"); err != nil || got.ID != img.ID {
		t.Fatalf("after Publish: Get = %v, %v", got.ID, err)
	}
}

func TestBuildCacheKeepsImagesThroughGC(t *testing.T) {
	s := newStore(t)
	parent := sample(t, s, "parent")
	layer := tarOf(t, file("step", "1"))
	img, err := s.Derive(Derivation{Parent: &parent, Config: parent.Config.Config, Compression: Gzip,
		Layer: func(w io.Writer) error { _, err := w.Write(layer); return err }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := digest.FromString("step 1")
	if _, ok, err := s.CachedImage(key); ok || err != nil {
		t.Fatalf("empty cache: hit %v, %v", ok, err)
	}
	if err := s.CacheImage(key, img); err != nil {
		t.Fatal(err)
	}
	// The parent's name goes: only the cache keeps the chain now.
	if _, _, err := s.Remove("parent", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.CachedImage(key)
	if err != nil || !ok || got.ID != img.ID {
		t.Fatalf("after GC: %v %v %v, want the cached image", got.ID, ok, err)
	}
	if n, err := s.PruneBuildCache(); n != 1 || err != nil {
		t.Fatalf("prune: %d, %v", n, err)
	}
	rep, err := s.GC()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != len(img.DiffIDs()) {
		t.Errorf("GC after prune removed %d layers, want %d", len(rep.Layers), len(img.DiffIDs()))
	}
	if _, ok, _ := s.CachedImage(key); ok {
		t.Error("a pruned entry still hits")
	}
}

func TestDeriveLayerWriterFails(t *testing.T) {
	s := newStore(t)
	boom := errors.New("boom")
	_, err := s.Derive(Derivation{Layer: func(w io.Writer) error {
		w.Write(tarOf(t, file("half", "x"))[:512])
		return boom
	}, Compression: Gzip}, []string{"broken"})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the writer's", err)
	}
	left, _ := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if len(left) != 0 {
		t.Errorf("tmp holds %d entries after a failed derive", len(left))
	}
	if _, err := s.Get("broken"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(broken) = %v, want not found", err)
	}
}

// TestGetFindsCachedStepByID: a build step's image, kept unlisted by the
// cache, is found by its ID, as docker run takes the IDs a build prints,
// and never by a name.
func TestGetFindsCachedStepByID(t *testing.T) {
	s := newStore(t)
	parent := sample(t, s, "parent")
	img, err := s.Derive(Derivation{Parent: &parent, Config: parent.Config.Config, CreatedBy: "step"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(img.ShortID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unlisted image not in the cache: Get = %v, want not found", err)
	}
	if err := s.CacheImage(digest.FromString("k"), img); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(img.ShortID())
	if err != nil || got.ID != img.ID {
		t.Fatalf("Get(%s) = %v, %v; want the cached step", img.ShortID(), got.ID, err)
	}
}
