package app

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"minidocker/overlay"
)

// FuzzHostStores writes arbitrary bytes to every metadata file podman and
// docker keep, then reads both stores and names a mount of each: nothing
// may panic, and a named layer is always a directory name the store could
// have made.
func FuzzHostStores(f *testing.F) {
	for _, p := range []string{"podman/overlay-containers/containers.json", "podman/overlay-layers/layers.json",
		"podman/overlay-images/images.json", "docker/image/overlay2/repositories.json"} {
		b, err := os.ReadFile(filepath.Join("testdata/hosts", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"id":"../x","layer":"../../etc","names":["a\u001b[31m"],"metadata":"{\"image-name\":7}"}]`))
	files := []string{"podman/overlay-containers/containers.json", "podman/overlay-containers/volatile-containers.json",
		"podman/overlay-layers/layers.json", "podman/overlay-images/images.json",
		"docker/containers/x/config.v2.json", "docker/image/overlay2/repositories.json",
		"docker/image/overlay2/layerdb/mounts/x/mount-id", "docker/image/overlay2/layerdb/sha256/y/cache-id",
		"docker/image/overlay2/layerdb/sha256/y/diff"}
	// One directory for every input, its files rewritten each time: a
	// directory made and removed per input would cost more than the rest.
	dir := f.TempDir()
	for _, d := range append(slices.Clone(files), "podman/overlay/l/x", "docker/overlay2/l/x") {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(d)), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range files {
			if err := os.WriteFile(filepath.Join(dir, p), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		o := owners{proc: "/proc"}
		for _, s := range []*hostStore{readPodman(filepath.Join(dir, "podman")), readDocker(filepath.Join(dir, "docker"))} {
			if s == nil {
				t.Fatal("a store with its overlay directory read as none")
			}
			o.stores = append(o.stores, s)
		}
		for _, s := range o.stores {
			for _, upper := range []string{"x/diff", string(b) + "/diff", ""} {
				h := o.name(overlay.HostMount{Own: true, Mount: overlay.Mount{FSType: "overlay",
					Point: filepath.Join(s.Home, "x", "merged"), Lower: []string{"l/" + string(b)}, Upper: upper}})
				for _, id := range h.Layers {
					if id != "" && !validStoreID(id) {
						t.Errorf("layer named %q", id)
					}
				}
			}
		}
	})
}
