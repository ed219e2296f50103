package overlay

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeStack turns fuzz bytes into a stack of at most four layers of at
// most 40 operations in all, over paths of up to three components named a,
// b or c. Each operation takes two bytes: the kind (and content) and the
// path; kind 7 starts the next layer, kind 8 sets an absolute redirect.
func decodeStack(data []byte) [][]layerOp {
	names := []string{"a", "b", "c"}
	pathOf := func(p byte) string {
		s := names[p%3]
		if depth := (p / 9) % 3; depth >= 1 {
			s += "/" + names[(p/3)%3]
			if depth == 2 {
				s += "/" + names[(p/27)%3]
			}
		}
		return s
	}
	layers := [][]layerOp{nil}
	ops := 0
	for i := 0; i+1 < len(data) && ops < 40; i += 2 {
		k, p := data[i], data[i+1]
		path := pathOf(p)
		var o layerOp
		switch k % 9 {
		case 0:
			o = file(path, string(rune('a'+(k/9)%4)))
		case 1:
			o = dir(path)
		case 2:
			o = symlink(path, pathOf(k/9))
		case 3:
			o = whiteout(path)
		case 4:
			o = opaque(path)
		case 5:
			o = hardlink(path, pathOf(k/9))
		case 6:
			o = xwhiteout(path)
		case 8:
			o = redirect(path, "/"+pathOf(k/9))
		case 7:
			if len(layers) == 4 {
				return layers
			}
			layers = append(layers, nil)
			continue
		}
		layers[len(layers)-1] = append(layers[len(layers)-1], o)
		ops++
	}
	return layers
}

// FuzzMerge builds random layer stacks, merges them in user space and
// compares the result with the kernel's overlay mount of the same layers.
func FuzzMerge(f *testing.F) {
	requireOverlayRoot(f)
	f.Add([]byte{0, 0, 1, 10, 0, 12, 7, 0, 3, 0, 4, 10, 0, 13})
	f.Add([]byte{0, 9, 7, 7, 0, 0, 7, 7, 3, 0, 7, 7, 8, 0})
	f.Add([]byte{0, 1, 2, 2, 7, 0, 1, 2, 0, 11, 5, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		layers := decodeStack(data)
		base := t.TempDir()
		dirs := make([]string, len(layers))
		trees := make([]*Tree, len(layers))
		for i, ops := range layers {
			dirs[i] = base + "/l" + string(rune('0'+i))
			if err := mkdirFuzz(dirs[i]); err != nil {
				t.Fatal(err)
			}
			for _, o := range ops {
				_ = applyOp(dirs[i], o) // an impossible operation is just skipped
			}
			tr, err := ReadDir(dirs[i])
			if err != nil {
				t.Fatal(err)
			}
			trees[i] = tr
		}
		mnt := mountLowers(t, base, dirs)
		want := kernelView(t, mnt)
		got := userView(t, Merge(trees))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stack %v: merged view differs from the kernel's (-kernel +merge):\n%s", layers, diff)
		}
		m := Merge(trees)
		_ = m.Efficiency()
		if len(trees) > 1 {
			_ = Diff(Merge(trees[:len(trees)-1]), trees[len(trees)-1])
		}
	})
}

// FuzzReadTar reads arbitrary bytes as a layer tar: no panic, and a tree
// read is one that merges and diffs.
func FuzzReadTar(f *testing.F) {
	f.Add(makeTar(f, tf("a/b", "x"), tf("a/.wh.c", ""), td("d/"), tf("d/.wh..wh..opq", ""), tlink("e", "a/b")))
	f.Add(makeTar(f, tf("../x", "x")))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadTar(bytes.NewReader(data))
		if err != nil {
			return
		}
		m := Merge([]*Tree{tr, tr})
		_ = Diff(Merge([]*Tree{tr}), tr)
		_ = m.Efficiency()
		_ = tr.Walk(func(p string, n Node) error {
			if _, ok := tr.Lookup(p); !ok {
				t.Errorf("Walk gave %q, which Lookup cannot find", p)
			}
			return nil
		})
	})
}
