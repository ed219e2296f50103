package app

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/engine"
	"minidocker/internal/testutil"
	"minidocker/ui"
)

// TestUIImageSize checks that the UI shows an image's size as "images"
// does: its layers uncompressed, as docker does, not the blobs' size.
func TestUIImageSize(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	a := New(root)
	s, err := a.Images()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBase(); err != nil {
		t.Fatal(err)
	}
	list, err := uiImages{s}.Images()
	if err != nil || len(list) != 1 {
		t.Fatalf("images: %v, %v", list, err)
	}
	img, err := s.Get(list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Size(img)
	if err != nil {
		t.Fatal(err)
	}
	if got := list[0].Size; got != want {
		t.Errorf("UI image size %d, images shows %d (the compressed size is %d)", got, want, img.Size())
	}
	var sum int64
	for _, l := range list[0].Layers {
		sum += l.Size
	}
	if list[0].Size != sum {
		t.Errorf("UI image size %d is not the sum of its layers' sizes %d", list[0].Size, sum)
	}
}

// TestUIVolumeMounts checks the mounts the UI lists beside a container's
// layers: a store volume by name, read-only on its own, the rest of the
// mode as options.
func TestUIVolumeMounts(t *testing.T) {
	var vols []engine.Volume
	for _, p := range []struct {
		parse func(string) (engine.Volume, error)
		s     string
	}{{engine.ParseVolume, "web:/data:ro,nocopy"}, {engine.ParseVolume, "/srv:/srv:z,rslave"}, {engine.ParseTmpfs, "/run:ro,size=1m"}} {
		v, err := p.parse(p.s)
		if err != nil {
			t.Fatal(err)
		}
		if v.Type == engine.TypeVolume {
			v.Source = "/store/volumes/web/_data"
		}
		vols = append(vols, v)
	}
	vols = append(vols, engine.Volume{Source: "/old", Target: "/o"}) // a state from before the types
	want := []ui.VolumeMount{
		{Type: "volume", Source: "web", Target: "/data", ReadOnly: true, Options: "nocopy"},
		{Type: "bind", Source: "/srv", Target: "/srv", Options: "z,rslave"},
		{Type: "tmpfs", Target: "/run", ReadOnly: true, Options: "noexec,nosuid,nodev,size=1m"},
		{Type: "bind", Source: "/old", Target: "/o"},
	}
	if diff := cmp.Diff(want, uiVolumeMounts(vols)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
