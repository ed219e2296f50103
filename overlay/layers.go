package overlay

import "fmt"

// ReadLayers reads the layer directories dirs, bottom first, with ReadDir,
// for Merge, Diff and Efficiency. An error names the layer by its index.
func ReadLayers(dirs []string) ([]*Tree, error) {
	trees := make([]*Tree, len(dirs))
	for i, d := range dirs {
		t, err := ReadDir(d)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		trees[i] = t
	}
	return trees, nil
}

// LayerBytes returns the bytes of regular-file content the layer t stores:
// a file with several names counts once, a whiteout and a metacopy file
// (whose data is below) count nothing. It is the per-layer share of
// Efficiency's Stored.
func LayerBytes(t *Tree) int64 {
	var n int64
	for i := range t.recs {
		if t.recs[i].mode.IsRegular() {
			n += storedSize(t, int32(i))
		}
	}
	return n
}
