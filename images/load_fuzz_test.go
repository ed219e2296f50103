package images

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary archives to the loader: it must never panic, and
// whatever it accepts or refuses, nothing may land outside the store and no
// half layer may be visible.
func FuzzLoad(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("not a tar at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newStore(t)
		imgs, err := s.LoadReader(bytes.NewReader(data))
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error spans lines: %q", err)
		}
		for _, img := range imgs {
			if _, err := s.LayerDirs(img); err != nil {
				t.Errorf("loaded image %s without its layers: %v", img.ID, err)
			}
		}
		es, _ := os.ReadDir(s.path("layers"))
		for _, e := range es {
			if _, err := os.Stat(s.path("layers", e.Name(), "meta.json")); err != nil {
				t.Errorf("half layer visible: %s", e.Name())
			}
		}
		if es, _ := os.ReadDir(s.path("tmp")); len(es) != 0 {
			t.Errorf("left in tmp: %v", es)
		}
		outside, _ := os.ReadDir(filepath.Dir(s.Root()))
		if len(outside) != 1 {
			t.Errorf("something landed beside the store: %v", outside)
		}
	})
}
