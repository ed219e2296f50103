package overlay

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadLayers(t *testing.T) {
	base := t.TempDir()
	var dirs []string
	for i, files := range [][]string{{"a"}, {"a", "b"}} {
		d := filepath.Join(base, string(rune('0'+i)))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(d, f), []byte(f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dirs = append(dirs, d)
	}
	trees, err := ReadLayers(dirs)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, tr := range trees {
		got = append(got, tr.Len())
	}
	if diff := cmp.Diff([]int{2, 3}, got); diff != "" {
		t.Errorf("paths per layer (-want +got):\n%s", diff)
	}
	_, err = ReadLayers(append(dirs, filepath.Join(base, "missing")))
	if err == nil || !strings.HasPrefix(err.Error(), "layer 2: ") {
		t.Errorf("ReadLayers with a missing layer: %v, want an error naming layer 2", err)
	}
}

func TestLayerBytes(t *testing.T) {
	tests := []struct {
		name  string
		layer []te
		want  int64
	}{
		{"files", []te{tf("a", "12345"), td("d/"), tf("d/b", "123")}, 8},
		{"hardlink once", []te{tf("a", "12345"), {name: "b", typ: tar.TypeLink, data: "a", mode: 0o644}}, 5},
		{"whiteouts and symlinks none", []te{tf(".wh.gone", ""), tsym("l", "target")}, 0},
		{"empty", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := LayerBytes(readTar(t, tc.layer...)); got != tc.want {
				t.Errorf("LayerBytes = %d, want %d", got, tc.want)
			}
		})
	}
}
