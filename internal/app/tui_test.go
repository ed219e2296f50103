package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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

// TestUIBuildSteps checks the build events the UI takes: each step's
// state, and for each step that made an image, a reader of its layers
// that works although the image is not listed.
func TestUIBuildSteps(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	a := New(filepath.Join(t.TempDir(), "store"))
	s, err := a.Images()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBase(); err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	for name, body := range map[string]string{"Dockerfile": "FROM base\nCOPY a.txt /a.txt\nENV X=1\n", "a.txt": "a\n"} {
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := func() []ui.BuildEvent {
		var evs []ui.BuildEvent
		img, err := uiBuilder{a}.Build(context.Background(), ui.BuildSpec{Context: ctx, Tags: []string{"built"}}, func(ev ui.BuildEvent) { evs = append(evs, ev) })
		if err != nil || !slices.Contains(img.Names, "built:latest") {
			t.Fatalf("build: %+v, %v", img.Names, err)
		}
		return evs
	}
	ends := func(evs []ui.BuildEvent) []ui.BuildState {
		var out []ui.BuildState
		for _, ev := range evs {
			if ev.State != ui.BuildRunning {
				out = append(out, ev.State)
			}
		}
		return out
	}
	evs := build()
	if diff := cmp.Diff([]ui.BuildState{ui.BuildDone, ui.BuildDone, ui.BuildDone}, ends(evs)); diff != "" {
		t.Errorf("first build's states (-want +got):\n%s", diff)
	}
	var copied *ui.BuildEvent
	for i, ev := range evs {
		if ev.Step == 2 && ev.State == ui.BuildDone {
			copied = &evs[i]
		}
	}
	if copied == nil || copied.Image == nil || copied.Stack == nil {
		t.Fatalf("the COPY step came with no image: %+v", copied)
	}
	st, err := copied.Stack()
	if err != nil {
		t.Fatalf("read the COPY step's unlisted image: %v", err)
	}
	top := st.Layers[len(st.Layers)-1]
	if _, ok := top.Lookup("/a.txt"); !ok {
		t.Errorf("the COPY step's top layer lacks /a.txt")
	}
	if diff := cmp.Diff([]ui.BuildState{ui.BuildDone, ui.BuildCached, ui.BuildCached}, ends(build())); diff != "" {
		t.Errorf("the rebuild's states (-want +got):\n%s", diff)
	}
}
