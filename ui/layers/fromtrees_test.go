package layers_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"minidocker/overlay"
	"minidocker/ui/layers"
	"minidocker/ui/tree"
)

// TestFromTreesAsReadStack: an image's stack built from trees read
// elsewhere (an archive's) is the one ReadStack builds from the same
// layers on disk.
func TestFromTreesAsReadStack(t *testing.T) {
	base := t.TempDir()
	var dirs []string
	var trees []*overlay.Tree
	for i, files := range []map[string]string{
		{"etc/a": "a", "etc/b": "b", "usr/bin/x": "xx"},
		{"etc/a": "a2", "etc/c": "c"},
		{"usr/bin/x": "xxx", "opt/y": "y"},
	} {
		d := filepath.Join(base, string(rune('0'+i)))
		for p, data := range files {
			writeFile(t, filepath.Join(d, p), data)
		}
		stamp(t, d)
		dirs = append(dirs, d)
		trees = append(trees, readDir(t, d))
	}
	names := []string{"zero", "one", "two"}
	want, err := layers.ReadStack(dirs, "", names)
	if err != nil {
		t.Fatal(err)
	}
	got := layers.FromTrees(trees, names, func(tree.Node) (io.ReadCloser, error) { return nil, os.ErrNotExist })
	nodes := cmp.Transformer("nodes", func(t *tree.Tree) []tree.Node {
		var out []tree.Node
		if t == nil {
			return nil
		}
		t.Walk(func(n tree.Node) { out = append(out, n) })
		return out
	})
	opts := []cmp.Option{cmpopts.IgnoreFields(layers.Stack{}, "Open", "UpTo"), nodes, cmpopts.EquateEmpty()}
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		t.Errorf("FromTrees (-ReadStack +FromTrees):\n%s", diff)
	}
	for i := range trees {
		if diff := cmp.Diff(want.UpTo(i), got.UpTo(i), nodes); diff != "" {
			t.Errorf("UpTo(%d) (-ReadStack +FromTrees):\n%s", i, diff)
		}
	}
}
