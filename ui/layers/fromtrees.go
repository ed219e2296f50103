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
	s, _ := stackOf(trees, names, true)
	s.Open = open
	return s
}
