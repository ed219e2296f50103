package cli

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"minidocker/internal/app"
	"minidocker/internal/human"
	"minidocker/internal/testutil"
)

// TestSameSizesEverywhere checks that images, history, layers and the UI
// give the same sizes for the same image: each layer's content, as docker
// and dive show it, and the image as their sum; and that layers and the
// UI count the same changes in each layer.
func TestSameSizesEverywhere(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	wasteful(t, root)
	if code, _, errs := cli(t, root, "image", "create-base"); code != 0 {
		t.Fatal(errs)
	}
	src := app.New(root).UISources()
	list, err := src.Images.Images()
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range list {
		name := img.Names[0]
		t.Run(name, func(t *testing.T) {
			// images: the SIZE column of the image's row.
			_, out, _ := cli(t, root, "images")
			if row := lineWith(out, img.ShortID); !strings.HasSuffix(row, " "+human.Size(img.Size)) {
				t.Errorf("images shows %q, the UI %s", row, human.Size(img.Size))
			}
			// layers: one row a layer, newest first, SIZE in the third column.
			_, out, _ = cli(t, root, "layers", name)
			// history: one row a history entry, the layer's short diffID first.
			_, hist, _ := cli(t, root, "history", name)
			var sum int64
			for i, l := range img.Layers {
				sum += l.Size
				short := strings.TrimPrefix(l.DiffID, "sha256:")[:12]
				lr := strings.Fields(lineWith(out, short))
				if len(lr) < 3 || lr[2] != human.Size(l.Size) {
					t.Errorf("layer %d: layers row %q, the UI %s", i, lr, human.Size(l.Size))
				}
				if hr := lineWith(hist, short); !slices.Contains(strings.Fields(hr), human.Size(l.Size)) {
					t.Errorf("layer %d: history row %q, the UI %s", i, hr, human.Size(l.Size))
				}
			}
			// The layer view's counts are the layers command's.
			st, err := src.Images.ImageStack(img.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range img.Layers {
				short := strings.TrimPrefix(l.DiffID, "sha256:")[:12]
				lr := strings.Fields(lineWith(out, short))
				c := st.Counts[i]
				if want := []string{strconv.Itoa(c.Added), strconv.Itoa(c.Changed), strconv.Itoa(c.Deleted)}; len(lr) < 6 || !slices.Equal(lr[3:6], want) {
					t.Errorf("layer %d: layers row %q, the UI's counts %v", i, lr, want)
				}
			}
			if sum != img.Size {
				t.Errorf("the UI's image size %d is not the sum of its layers %d", img.Size, sum)
			}
		})
	}
}

// lineWith is the first line of out holding s.
func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return strings.TrimRight(l, " ")
		}
	}
	return ""
}
