package layers

import (
	"fmt"
	"strings"

	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui/tree"
)

// What the owner reads out of the view to preview or extract an entry: why
// a hidden entry has no content, and the entries of a directory. Both come
// from the focused pane's tree, so they are what the pane shows: a layer
// alone, layers merged, the upper directory or the container's view.

// Hidden says why entry n of a pane has no content to read, in words for
// a one-line message: a whiteout, or an entry a layer removed (by a
// whiteout, an opaque directory or a file put over its directory). It is
// "" for an entry that is there.
func (m Model) Hidden(n tree.Node) string {
	if !n.Whiteout && n.Kind != overlay.Removed {
		return ""
	}
	where := m.layerWhere(n.Layer)
	if n.Whiteout {
		return "hidden by a whiteout in " + where
	}
	t := m.layerTreeOf(n.Layer)
	if t != nil {
		hider, via := hiderIn(t, n.Path)
		switch {
		case via == overlay.Opaque:
			return fmt.Sprintf("hidden by the opaque directory %s in %s", human.Visible(hider), where)
		case hider != "":
			return fmt.Sprintf("hidden by %s, no directory, in %s", human.Visible(hider), where)
		}
		if w, ok := t.Lookup(n.Path); ok && w.Whiteout {
			return "hidden by a whiteout in " + where
		}
	}
	return "removed by " + where
}

// layerWhere names layer i as a message says it: "layer 2", "the upper
// directory".
func (m Model) layerWhere(i int) string {
	if m.Container() && i == len(m.stack.Layers) {
		return "the upper directory"
	}
	return fmt.Sprintf("layer %d", i)
}

// layerTreeOf is the tree of what layer i changes: a lower layer's, or
// the container's upper directory's.
func (m Model) layerTreeOf(i int) *tree.Tree {
	switch {
	case i >= 0 && i < len(m.stack.Layers):
		return m.stack.Layers[i]
	case m.Container() && i == len(m.stack.Layers):
		return m.stack.Upper
	}
	return nil
}

// Children lists the entries of the directory p in the focused pane's
// tree, by name, hidden ones included.
func (m Model) Children(p string) []tree.Node {
	t := m.panes[m.focus].tree
	if t == nil {
		return nil
	}
	return t.Children(p)
}

// Subtree lists p and everything beneath it in the focused pane's tree,
// parents first, leaving out what is hidden (Hidden): what extracting p
// from that pane writes.
func (m Model) Subtree(p string) []tree.Node {
	t := m.panes[m.focus].tree
	if t == nil {
		return nil
	}
	var out []tree.Node
	gone := "" // a hidden directory, whose entries are hidden too
	t.WalkAt(p, func(n tree.Node) {
		switch {
		case gone != "" && strings.HasPrefix(n.Path, gone+"/"):
		case n.Whiteout || n.Kind == overlay.Removed:
			gone = n.Path
		default:
			out = append(out, n)
		}
	})
	return out
}
