package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/overlay"
)

func hardlink(name, target string) entry {
	return entry{name: name, link: target, typ: tar.TypeLink, mode: 0o644}
}

// mixedLayer holds every kind of entry the counts tell apart.
func mixedLayer(t testing.TB) []byte {
	aufs := ".wh..wh." + "plnk"
	return tarOf(t, dir("./"), dir("etc/"), file("etc/hosts", "127.0.0.1\n"), hardlink("etc/hosts2", "etc/hosts"),
		symlink("hosts", "/etc/hosts"), entry{name: "run/fifo", typ: tar.TypeFifo, mode: 0o600},
		dir("usr/"), dir("usr/"), file("usr/a", "aaaa"), file("usr/a", "replaced"), whiteout("gone"),
		whiteout("usr/old"), opaque("usr"), dir(aufs+"/"), file(aufs+"/7", "x"), file("big", strings.Repeat("b", 70000)))
}

// derive stores tar as a one-layer image named name, lazily or not.
func derive(t testing.TB, s *Store, name string, layer []byte, lazy bool) Image {
	t.Helper()
	img, err := s.Derive(Derivation{
		Config: ocispec.ImageConfig{Cmd: []string{"/bin/sh"}}, Compression: Gzip, Lazy: lazy,
		Layer:     func(w io.Writer) error { _, err := w.Write(layer); return err },
		CreatedBy: "commit", Created: time.Unix(1700000000, 0),
	}, []string{name})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestDeriveLazyRefuses checks that a lazy Derive refuses, under the
// store's limits, the layers an eager one refuses, with the same error:
// overlay's tests check that its scan and its unpack agree in all cases.
func TestDeriveLazyRefuses(t *testing.T) {
	tests := []struct {
		name    string
		tar     []byte
		lim     UnpackLimits
		wantErr error
	}{
		{"escape", tarOf(t, file("a", "x"), file("../x", "x")), UnpackLimits{}, overlay.ErrUnsafePath},
		{"device", tarOf(t, entry{name: "null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3}), UnpackLimits{}, overlay.ErrUnsupported},
		{"entries", tarOf(t, file("a", "1"), file("b", "2"), file("c", "3")), UnpackLimits{MaxEntries: 2}, overlay.ErrLimit},
		{"bytes", tarOf(t, file("a", "12345"), file("b", "678")), UnpackLimits{MaxBytes: 7}, overlay.ErrLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var errs [2]error
			for i, lazy := range []bool{false, true} {
				s := newStore(t)
				s.SetUnpackLimits(tc.lim)
				_, errs[i] = s.Derive(Derivation{
					Layer: func(w io.Writer) error { _, err := w.Write(tc.tar); return err },
					Lazy:  lazy, CreatedBy: "commit", Created: time.Unix(1700000000, 0),
				}, []string{"c:1"})
				if !errors.Is(errs[i], tc.wantErr) {
					t.Fatalf("Derive (lazy %v) error %v, want %v", lazy, errs[i], tc.wantErr)
				}
			}
			if errs[0].Error() != errs[1].Error() {
				t.Errorf("errors differ:\neager %v\nlazy  %v", errs[0], errs[1])
			}
		})
	}
}

// TestDeriveLazy checks that a lazily stored layer reads as an eager one
// everywhere but on disk, until LayerDirs unpacks it to the same tree.
func TestDeriveLazy(t *testing.T) {
	eager, lazy := newStore(t), newStore(t)
	layer := mixedLayer(t)
	want := derive(t, eager, "c:1", layer, false)
	img := derive(t, lazy, "c:1", layer, true)
	if img.ManifestDigest != want.ManifestDigest || img.ID != want.ID {
		t.Fatalf("lazy image %s (manifest %s), eager %s (%s)", img.ID, img.ManifestDigest, want.ID, want.ManifestDigest)
	}
	d := img.DiffIDs()[0]
	if lazy.unpacked(d) || !lazy.HasLayer(d) {
		t.Fatalf("after a lazy Derive: unpacked %v, HasLayer %v; want false, true", lazy.unpacked(d), lazy.HasLayer(d))
	}
	if _, err := os.Lstat(lazy.LayerLink(d)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("short link of a lazy layer: %v, want none", err)
	}
	noTime := cmpopts.IgnoreFields(LayerMeta{}, "Unpacked")
	sameFigures := func(when string) {
		t.Helper()
		wm, _ := eager.Layer(d)
		gm, err := lazy.Layer(d)
		if err != nil || !cmp.Equal(wm, gm, noTime) {
			t.Errorf("%s: Layer (-eager +lazy), %v:\n%s", when, err, cmp.Diff(wm, gm, noTime))
		}
		wi, _ := eager.LayerInfo(want)
		gi, err := lazy.LayerInfo(img)
		if err != nil || !cmp.Equal(wi, gi) {
			t.Errorf("%s: LayerInfo (-eager +lazy), %v:\n%s", when, err, cmp.Diff(wi, gi))
		}
		wu, _ := eager.DiskUsage()
		gu, err := lazy.DiskUsage()
		if err != nil || !cmp.Equal(wu, gu) {
			t.Errorf("%s: DiskUsage (-eager +lazy), %v:\n%s", when, err, cmp.Diff(wu, gu))
		}
	}
	sameFigures("lazy")
	if m, _ := lazy.Layer(d); !m.Unpacked.IsZero() {
		t.Errorf("lazy layer's Unpacked = %v, want zero", m.Unpacked)
	}
	if got, ok, err := lazy.CachedImage(cacheKey(lazy, img)); !ok || err != nil || got.ID != img.ID {
		t.Errorf("CachedImage of a lazily stored image: %v, %v, %v", got.ID, ok, err)
	}

	wantDirs, err := eager.LayerDirs(want)
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := lazy.LayerDirs(img)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(describe(t, wantDirs[0]), describe(t, dirs[0])); diff != "" {
		t.Errorf("unpacked tree (-eager +lazy):\n%s", diff)
	}
	if m, _ := lazy.Layer(d); m.Unpacked.IsZero() || !lazy.unpacked(d) {
		t.Errorf("after LayerDirs: Unpacked %v, unpacked %v", m.Unpacked, lazy.unpacked(d))
	}
	sameFigures("unpacked")
	checkTmpEmpty(t, lazy)
}

// cacheKey records img in s's build cache under a key of its own.
func cacheKey(s *Store, img Image) digest.Digest {
	key := digest.FromString("step of " + img.ID.String())
	if err := s.CacheImage(key, img); err != nil {
		panic(err)
	}
	return key
}

func checkTmpEmpty(t *testing.T, s *Store) {
	t.Helper()
	if es, _ := os.ReadDir(s.path("tmp")); len(es) != 0 {
		t.Errorf("tmp holds leftovers: %v", es)
	}
}

// TestLazyCorruptBlob checks that a lazy layer whose blob was damaged is
// refused by LayerDirs, naming the layer, and leaves nothing behind.
func TestLazyCorruptBlob(t *testing.T) {
	s := newStore(t)
	img := derive(t, s, "c:1", mixedLayer(t), true)
	d := img.DiffIDs()[0]
	p := s.blobPath(img.Manifest.Layers[0].Digest)
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{len(orig) / 2, 20, len(orig) - 3} {
		bad := bytes.Clone(orig)
		bad[at] ^= 0x55
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := s.LayerDirs(img)
		if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), d.String()) {
			t.Errorf("byte %d flipped: LayerDirs error %v, want ErrDigestMismatch naming %s", at, err, d)
		}
		if s.unpacked(d) {
			t.Errorf("byte %d flipped: the layer has a diff directory", at)
		}
		checkTmpEmpty(t, s)
	}
	if err := os.WriteFile(p, orig, 0o644); err != nil {
		t.Fatal(err)
	}

	// A whole blob, but of another layer: the diffID is what refuses it.
	other := derive(t, s, "other:1", tarOf(t, file("x", "other")), false)
	metaPath := s.path("layers", d.Encoded(), "meta.json")
	goodMeta, err := os.ReadFile(metaPath)
	if err != nil {
		t.Fatal(err)
	}
	wrong := bytes.ReplaceAll(goodMeta, []byte(img.Manifest.Layers[0].Digest.String()), []byte(other.Manifest.Layers[0].Digest.String()))
	if err := os.WriteFile(metaPath, wrong, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LayerDirs(img); !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), d.String()) {
		t.Errorf("blob of another layer: LayerDirs error %v, want ErrDigestMismatch naming %s", err, d)
	}
	if s.unpacked(d) {
		t.Error("blob of another layer: the layer has a diff directory")
	}
	checkTmpEmpty(t, s)
	if err := os.WriteFile(metaPath, goodMeta, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LayerDirs(img); err != nil {
		t.Errorf("LayerDirs with the blob restored: %v", err)
	}
}

// TestLazyGC checks that GC keeps a lazy layer and its blob while an image
// or a hold uses it, and removes both after.
func TestLazyGC(t *testing.T) {
	s := newStore(t)
	img := derive(t, s, "c:1", mixedLayer(t), true)
	d, blob := img.DiffIDs()[0], img.Manifest.Layers[0].Digest
	present := func(when string, want bool) {
		t.Helper()
		if _, err := s.GC(); err != nil {
			t.Fatal(err)
		}
		if s.HasLayer(d) != want || s.HasBlob(blob) != want {
			t.Errorf("%s: layer %v, blob %v; want %v", when, s.HasLayer(d), s.HasBlob(blob), want)
		}
	}
	present("image listed", true)
	if err := s.Hold("c1", img); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Remove("c:1", true); err != nil {
		t.Fatal(err)
	}
	present("only held", true)
	if _, err := s.LayerDirs(img); err != nil {
		t.Errorf("LayerDirs of a held lazy layer: %v", err)
	}
	if err := s.Release("c1"); err != nil {
		t.Fatal(err)
	}
	present("released", false)
	if es, _ := os.ReadDir(s.path("layers")); len(es) != 0 {
		t.Errorf("layers left: %v", es)
	}
}

// TestLazySaveLoad checks that a lazily stored image saves without being
// unpacked, and loads elsewhere to the tree it unpacks to.
func TestLazySaveLoad(t *testing.T) {
	for _, f := range []Format{OCIArchive, DockerArchive} {
		t.Run(string(f), func(t *testing.T) {
			s, other := newStore(t), newStore(t)
			img := derive(t, s, "c:1", mixedLayer(t), true)
			archive := filepath.Join(t.TempDir(), "c.tar")
			if err := s.SaveFile(archive, []string{"c:1"}, f); err != nil {
				t.Fatal(err)
			}
			if s.unpacked(img.DiffIDs()[0]) {
				t.Error("save unpacked the layer")
			}
			loaded, err := other.Load(archive)
			if err != nil || len(loaded) != 1 || loaded[0].ID != img.ID {
				t.Fatalf("load: %v, %v", loaded, err)
			}
			got, err := other.LayerDirs(loaded[0])
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.LayerDirs(img)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(describe(t, want[0]), describe(t, got[0])); diff != "" {
				t.Errorf("loaded tree (-saved +loaded):\n%s", diff)
			}
		})
	}
}

// TestLazyEagerSameLayer checks that storing eagerly a layer stored lazily
// fills it in, and that loading it keeps it lazy until used.
func TestLazyEagerSameLayer(t *testing.T) {
	s := newStore(t)
	layer := mixedLayer(t)
	img := derive(t, s, "lazy:1", layer, true)
	d := img.DiffIDs()[0]
	archive := filepath.Join(t.TempDir(), "c.tar")
	if err := s.SaveFile(archive, []string{"lazy:1"}, DockerArchive); err != nil {
		t.Fatal(err)
	}
	other := newStore(t)
	derive(t, other, "lazy:2", layer, true)
	loaded, err := other.Load(archive)
	if err != nil {
		t.Fatal(err)
	}
	if other.unpacked(d) {
		t.Error("load unpacked a layer the store held lazily")
	}
	if _, err := other.LayerDirs(loaded[0]); err != nil {
		t.Errorf("LayerDirs after load: %v", err)
	}

	eager := derive(t, s, "eager:1", layer, false)
	if !s.unpacked(d) {
		t.Fatal("an eager Derive of the same layer left it lazy")
	}
	if _, err := os.Readlink(s.LayerLink(d)); err != nil {
		t.Errorf("short link: %v", err)
	}
	dirs, err := s.LayerDirs(eager)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(describe(t, dirs[0])); n < 10 {
		t.Errorf("filled layer holds %d nodes", n)
	}
	if s.lazyUnpacks.Load() != 0 {
		t.Errorf("LayerDirs unpacked %d layers, want 0", s.lazyUnpacks.Load())
	}
	checkTmpEmpty(t, s)
}

// TestLazyConcurrentLayerDirs checks that callers racing to use a lazy
// layer, through one store handle or two as two processes would, all
// succeed and the layer is unpacked once.
func TestLazyConcurrentLayerDirs(t *testing.T) {
	s := newStore(t)
	var entries []entry
	for i := range 2000 {
		entries = append(entries, file(fmt.Sprintf("f%04d", i), strings.Repeat("x", i)))
	}
	img := derive(t, s, "c:1", tarOf(t, entries...), true)
	s2, err := Open(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	handles := []*Store{s, s, s2, s2}
	got := make([][]string, len(handles))
	errs := make([]error, len(handles))
	var wg sync.WaitGroup
	for i, h := range handles {
		wg.Go(func() { got[i], errs[i] = h.LayerDirs(img) })
	}
	wg.Wait()
	for i := range handles {
		if errs[i] != nil || !cmp.Equal(got[i], got[0]) {
			t.Errorf("caller %d: %v, %v", i, got[i], errs[i])
		}
	}
	if n := s.lazyUnpacks.Load() + s2.lazyUnpacks.Load(); n != 1 {
		t.Errorf("%d unpacks, want 1", n)
	}
	if n := len(describe(t, got[0][0])); n != 2001 {
		t.Errorf("layer holds %d nodes, want 2001", n)
	}
	checkTmpEmpty(t, s)
}
