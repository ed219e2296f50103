package layers

import (
	"fmt"
	"io"
	"os"
	"strings"

	"minidocker/overlay"
	"minidocker/ui/tree"
)

// ReadStack reads layer directories and an upper directory into the trees
// the view shows: lower lists the layer directories bottom first, upper is
// a container's upper directory ("" for an image), and names label the
// lower layers. Sizes are left to the caller, which knows them.
func ReadStack(lower []string, upper string, names []string) (Stack, error) {
	return ReadStackWith(lower, upper, names, ReadOptions{})
}

// ReadOptions says what ReadStackWith needs beyond the directories.
type ReadOptions struct {
	// MountPoints are the container's mount points the engine made, as
	// engine.State.MountPoints lists them: the view says the engine wrote
	// them, not the container.
	MountPoints []string
}

// ReadStackWith is ReadStack with options.
func ReadStackWith(lower []string, upper string, names []string, opts ReadOptions) (Stack, error) {
	trees := make([]*overlay.Tree, len(lower))
	for i, d := range lower {
		t, err := overlay.ReadDir(d)
		if err != nil {
			return Stack{}, fmt.Errorf("read layer %d: %w", i, err)
		}
		trees[i] = t
	}
	s, below := stackOf(trees, names, upper == "")
	dirs := append([]string{}, lower...)
	if upper != "" {
		ut, err := overlay.ReadDir(upper)
		if err != nil {
			return Stack{}, fmt.Errorf("read upper dir: %w", err)
		}
		changes := overlay.Diff(below, ut)
		s.Upper = changesTree(changes, below, ut, len(trees))
		s.Clues = append(s.Clues, overlay.FindClues(below, ut, overlay.CauseOptions{MountPoints: opts.MountPoints, Changes: changes}))
		s.Merged = mergedTree(overlay.Merge(append(trees, ut)), len(trees), false)
		dirs = append(dirs, upper)
	}
	s.Open = openIn(dirs)
	return s, nil
}

// stackOf builds the layers' part of a stack from their trees, bottom
// first: each layer's changes, counts and clues, the trees up to each
// layer, and the lower view, as an image's view shows it or, under a
// container's upper directory, as its lower pane does. It returns the
// layers merged too, for the upper directory to be read against.
func stackOf(trees []*overlay.Tree, names []string, image bool) (Stack, *overlay.Merged) {
	s := Stack{Names: names, Layers: make([]*tree.Tree, len(trees)), Counts: make([]Counts, len(trees)),
		Clues: make([]map[string]overlay.Clues, len(trees), len(trees)+1)}
	for i, t := range trees {
		below := overlay.Merge(trees[:i])
		changes := overlay.Diff(below, t)
		s.Layers[i] = changesTree(changes, below, t, i)
		s.Counts[i] = count(changes)
		s.Clues[i] = overlay.FindClues(below, t, overlay.CauseOptions{Image: true, Changes: changes})
	}
	all := overlay.Merge(trees)
	s.UpTo = upTo(trees, s.Layers)
	if image {
		s.Lower = imageTree(all, s.Layers)
	} else {
		s.Lower = mergedTree(all, len(trees), false)
	}
	s.Efficiency = all.Efficiency()
	return s, all
}

// openIn reads an entry's content from the directory of the layer that
// provides it.
func openIn(dirs []string) func(tree.Node) (io.ReadCloser, error) {
	return func(n tree.Node) (io.ReadCloser, error) {
		if n.Layer < 0 || n.Layer >= len(dirs) {
			return nil, fmt.Errorf("open %s: no layer %d", n.Path, n.Layer)
		}
		// OpenInRoot refuses a path that leaves the layer, even through a
		// symlink a running container just made.
		return os.OpenInRoot(dirs[n.Layer], strings.TrimPrefix(tree.Clean(n.Path), "/"))
	}
}

// changesTree is what layer (number idx) changes over the view below it,
// as overlay.Diff(below, layer) lists the changes.
func changesTree(changes []overlay.Change, below *overlay.Merged, layer *overlay.Tree, idx int) *tree.Tree {
	t := tree.New(nil)
	t.Grow(len(changes))
	for _, c := range changes {
		n := tree.Node{Path: c.Path, Kind: c.Kind, Size: c.Size, Layer: idx}
		ln, ok := layer.Lookup(c.Path)
		if !ok {
			if e, found := below.Lookup(c.Path); found {
				ln = e.Node
			}
		}
		n.Mode, n.UID, n.GID, n.Link = ln.Mode, ln.UID, ln.GID, ln.Link
		n.Whiteout, n.Opaque = ln.Whiteout, ln.Opaque
		if c.Lower >= 0 {
			n.Shadows = []int{c.Lower}
		}
		t.Set(n)
	}
	return t
}

// mergedTree is the merged view of layers below top. For an image every
// entry keeps its kind (dive's aggregated view: what the layers above the
// first changed); for a container only what layer top (the upper dir)
// provides does, and the rest reads as unmodified.
func mergedTree(m *overlay.Merged, top int, image bool) *tree.Tree {
	t := tree.New(nil)
	t.Grow(m.Len())
	_ = m.Walk(func(e overlay.Entry) error {
		if e.Path == "/" {
			return nil
		}
		k := overlay.Unmodified
		if image && e.Layer > 0 || !image && e.Layer == top {
			k = e.Kind
		}
		t.Set(tree.Node{Path: e.Path, Mode: e.Node.Mode, UID: e.Node.UID, GID: e.Node.GID, Size: e.Node.Size,
			Link: e.Node.Link, Kind: k, Layer: e.Layer, Shadows: e.Shadows, Opaque: e.Opaque && e.Layer == top})
		return nil
	})
	return t
}
