package layers

import (
	"io"

	"minidocker/overlay"
	"minidocker/ui/tree"
)

// FromTrees builds the view's stack of an image from layer trees already
// read, bottom first: an archive's, read in place without a store (and
// so without root). names label the layers; open reads an entry's content
// from the layer that provides it, nil when contents cannot be read.
func FromTrees(trees []*overlay.Tree, names []string, open func(tree.Node) (io.ReadCloser, error)) Stack {
	s := Stack{Names: names, Layers: make([]*tree.Tree, len(trees)), Counts: make([]Counts, len(trees)),
		Clues: make([]map[string]overlay.Clues, len(trees)), Open: open}
	for i, t := range trees {
		below := overlay.Merge(trees[:i])
		changes := overlay.Diff(below, t)
		s.Layers[i] = changesTree(changes, below, t, i)
		s.Counts[i] = count(changes)
		s.Clues[i] = overlay.FindClues(below, t, overlay.CauseOptions{Image: true, Changes: changes})
	}
	all := overlay.Merge(trees)
	s.Lower = mergedTree(all, len(trees), true)
	s.Efficiency = all.Efficiency()
	return s
}
