package layers

import (
	"path"
	"slices"

	"minidocker/overlay"
	"minidocker/ui/tree"
)

// upTo returns Stack.UpTo for an image's layers: layers 0 to i merged as
// overlay.Merge shows them, with what the layers above the first removed
// (imageTree). Each is made the first time it is asked for and kept: a
// merge costs about as much as reading the layers' trees did. layers are
// the trees of the layers alone (changesTree), which hold what each
// removed.
func upTo(trees []*overlay.Tree, layers []*tree.Tree) func(int) *tree.Tree {
	made := make([]*tree.Tree, len(trees))
	return func(i int) *tree.Tree {
		if i < 0 || i >= len(trees) {
			return tree.New(nil)
		}
		if made[i] == nil {
			made[i] = imageTree(overlay.Merge(trees[:i+1]), layers[:i+1])
		}
		return made[i]
	}
}

// imageTree is the merged view of an image's layers as dive's tree shows
// it: every path the view shows, with the kind the layer providing it has
// over the layers below (the first layer's read as unmodified), and what
// the layers removed on the way, marked removed: the paths overlay.Diff
// lists as hidden by a whiteout, an opaque directory or a file put over a
// directory, the whiteout itself standing for what it hides. A path
// removed and made again shows as it is made; one removed beneath a path
// that is no directory any more is left out, as nothing can hold it.
func imageTree(m *overlay.Merged, layers []*tree.Tree) *tree.Tree {
	t := mergedTree(m, len(layers), true)
	removed := map[string]tree.Node{}
	for _, l := range layers {
		l.Walk(func(n tree.Node) {
			if n.Kind == overlay.Removed {
				removed[n.Path] = n // a later layer's removal wins
			}
		})
	}
	paths := make([]string, 0, len(removed))
	for p := range removed {
		paths = append(paths, p)
	}
	slices.Sort(paths) // parents first
	for _, p := range paths {
		if _, shown := t.Lookup(p); !shown && inDir(t, p) {
			t.Set(removed[p])
		}
	}
	return t
}

// inDir reports whether the nearest ancestor of p that t holds is a
// directory.
func inDir(t *tree.Tree, p string) bool {
	for d := path.Dir(p); ; d = path.Dir(d) {
		if n, ok := t.Lookup(d); ok {
			return n.IsDir()
		}
		if d == "/" {
			return true
		}
	}
}
