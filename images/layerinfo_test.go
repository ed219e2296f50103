package images

import (
	"archive/tar"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/overlay"
)

func TestLayerHistory(t *testing.T) {
	h := func(by string, empty bool) ocispec.History { return ocispec.History{CreatedBy: by, EmptyLayer: empty} }
	for _, tc := range []struct {
		name     string
		history  []ocispec.History
		layers   int
		n        int
		want     []string
		wantEach []int
	}{
		{"docker build", []ocispec.History{h("ADD rootfs", false), h("ENV A=1", true), h("RUN make", false), h("CMD sh", true)}, 2, 2,
			[]string{"ADD rootfs", "RUN make"}, []int{0, -1, 1, -1}},
		{"fewer entries than layers", []ocispec.History{h("ADD rootfs", false)}, 3, 3,
			[]string{"ADD rootfs", "", ""}, []int{0}},
		{"more entries than layers", []ocispec.History{h("a", false), h("b", false), h("c", false)}, 2, 2,
			[]string{"a", "b"}, []int{0, 1, -1}},
		{"a container's lowers: n from elsewhere", []ocispec.History{h("a", false), h("b", false)}, 2, 1,
			[]string{"a"}, []int{0, 1}},
		{"no history", nil, 2, 2, []string{"", ""}, []int{}},
		{"no layers", []ocispec.History{h("CMD sh", true)}, 0, 0, []string{}, []int{-1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ocispec.Image{History: tc.history}
			for range tc.layers {
				cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromString("layer"))
			}
			if diff := cmp.Diff(tc.want, LayerHistory(cfg, tc.n)); diff != "" {
				t.Errorf("LayerHistory (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEach, HistoryLayers(cfg)); diff != "" {
				t.Errorf("HistoryLayers (-want +got):\n%s", diff)
			}
		})
	}
}

// sizedSample is an image whose layers' content sizes are known: a
// hardlink counts once, a whiteout, a directory and a symlink count 0.
func sizedSample(t *testing.T, s *Store) (Image, []int64) {
	t.Helper()
	img, err := s.Create("sized", []NewLayer{
		layerOf(t, "ADD files", dir("etc/"), file("etc/a", strings.Repeat("a", 1000)),
			entry{name: "etc/a-again", link: "etc/a", typ: tar.TypeLink, mode: 0o644},
			symlink("etc/b", "a"), file("etc/c", "ccc")),
		layerOf(t, "RUN rm etc/c", whiteout("etc/c")),
		layerOf(t, "RUN echo", file("etc/a", "new\n")),
	}, ocispec.ImageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return img, []int64{1003, 0, 4}
}

func TestStoreLayerInfo(t *testing.T) {
	s := newStore(t)
	img, content := sizedSample(t, s)
	var want []LayerInfo
	var total int64
	for i, d := range img.DiffIDs() {
		m, err := s.Layer(d)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, LayerInfo{DiffID: d, ContentSize: content[i], ArchiveSize: m.TarSize,
			BlobSize: img.Manifest.Layers[i].Size, CreatedBy: img.Config.History[i].CreatedBy})
		total += content[i]
	}
	got, err := s.LayerInfo(img)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LayerInfo (-want +got):\n%s", diff)
	}
	if n, err := s.Size(img); err != nil || n != total {
		t.Errorf("Size = %d, %v; want %d", n, err, total)
	}
	for _, li := range got {
		if li.ArchiveSize < 1024 || li.BlobSize == 0 {
			t.Errorf("layer %s: archive %d, blob %d bytes; want a whole tar and a blob", li.DiffID, li.ArchiveSize, li.BlobSize)
		}
	}
}

// TestLayerMetaUpgrade: a meta.json written before ContentSize gets it on
// first read, from the unpack's count or else from the directory, and keeps it.
func TestLayerMetaUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name string
		drop []string
	}{
		{"from the unpack's stats", []string{"contentSize"}},
		{"from the directory", []string{"contentSize", "stats"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			img, content := sizedSample(t, s)
			for i, d := range img.DiffIDs() {
				p := s.path("layers", d.Encoded(), "meta.json")
				var raw map[string]any
				b, _ := os.ReadFile(p)
				if err := json.Unmarshal(b, &raw); err != nil {
					t.Fatal(err)
				}
				for _, k := range tc.drop {
					delete(raw, k)
				}
				b, _ = json.Marshal(raw)
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
				m, err := s.Layer(d)
				if err != nil || m.ContentSize != content[i] {
					t.Errorf("layer %d: content size %d, %v; want %d", i+1, m.ContentSize, err, content[i])
				}
				b, _ = os.ReadFile(p)
				if !strings.Contains(string(b), `"contentSize":`) {
					t.Errorf("layer %d: content size not saved back: %s", i+1, b)
				}
				if left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".meta.json.tmp-*")); len(left) > 0 {
					t.Errorf("temp files left: %v", left)
				}
			}
		})
	}
}

// TestArchiveLayerInfo: an archive read in place tells the same sizes as the
// store, at once where the layer is stored uncompressed, else when measured.
func TestArchiveLayerInfo(t *testing.T) {
	s := newStore(t)
	img, _ := sizedSample(t, s)
	want, err := s.LayerInfo(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{DockerArchive, OCIArchive} {
		t.Run(string(f), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "a.tar")
			if err := s.SaveFile(p, []string{"sized"}, f); err != nil {
				t.Fatal(err)
			}
			ar, err := OpenArchive(p)
			if err != nil {
				t.Fatal(err)
			}
			defer ar.Close()
			ai := ar.Images[0]
			cheap, err := ai.LayerInfo()
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range want {
				blob := w.BlobSize
				if f == DockerArchive {
					blob = w.ArchiveSize // docker save ships layers uncompressed
				} else {
					w.ContentSize, w.ArchiveSize = 0, 0 // gzip: not known without reading
				}
				w.BlobSize = blob
				if diff := cmp.Diff(w, cheap[i]); diff != "" {
					t.Errorf("LayerInfo layer %d (-want +got):\n%s", i+1, diff)
				}
				measured, err := ai.MeasureLayer(i)
				if err != nil {
					t.Fatal(err)
				}
				full := want[i]
				full.BlobSize = blob
				if diff := cmp.Diff(full, measured); diff != "" {
					t.Errorf("MeasureLayer(%d) (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// TestContentSizeMatchesTree: the content size the store records is what a
// reader of the unpacked layer counts: regular files, a hardlinked file
// once, whiteouts nothing (the rule "layers" applies to a tree).
func TestContentSizeMatchesTree(t *testing.T) {
	s := newStore(t)
	img, _ := sizedSample(t, s)
	infos, err := s.LayerInfo(img)
	if err != nil {
		t.Fatal(err)
	}
	for i, li := range infos {
		tree, err := overlay.ReadDir(s.LayerDir(li.DiffID))
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		tree.Walk(func(_ string, nd overlay.Node) error {
			if nd.Mode.IsRegular() && nd.Hardlink == "" && !nd.Whiteout {
				n += nd.Size
			}
			return nil
		})
		if n != li.ContentSize {
			t.Errorf("layer %d: the tree holds %d bytes, ContentSize says %d", i+1, n, li.ContentSize)
		}
	}
}
