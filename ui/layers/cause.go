package layers

import (
	"path"

	"minidocker/overlay"
	"minidocker/ui/tree"
)

// The view decides a path's cause (overlay.Decide) from the facts its own
// trees show, which live events keep current, plus the few clues ReadStack
// found (overlay.FindClues): the copy-up origin, the names of a linked
// file, a tree mv copied, the engine's mount points. A path changed since
// then keeps the clues that still hold: its other names still there.

// causeOf returns the cause of node n of a pane: the upper directory's for
// what the container's upper directory provides, else that of the lower
// layer that provides it.
func (m Model) causeOf(n tree.Node) (overlay.Cause, bool) {
	top := len(m.stack.Layers)
	switch {
	case m.Container() && n.Layer == top:
		return m.upperCause(n.Path)
	case n.Layer >= 0 && n.Layer < top:
		return m.layerCause(n.Layer, n.Path)
	}
	return overlay.Cause{}, false
}

// upperCause is the cause of p in the container's upper directory.
func (m Model) upperCause(p string) (overlay.Cause, bool) {
	up := m.stack.Upper
	n, ok := up.Lookup(p)
	if !ok {
		return overlay.Cause{}, false
	}
	f := heldFacts(n)
	if f.Held && n.Mode.IsRegular() {
		// The upper pane stores 0 B for the second name of a linked file,
		// as Diff does; the merged view has the file's own size.
		if mn, ok := m.stack.Merged.Lookup(p); ok && mn.Layer == n.Layer {
			f.Size = mn.Size
		}
	}
	hider, via := hiderIn(up, p)
	if low, ok := m.stack.Lower.Lookup(p); ok {
		f.LowerMode, f.LowerUID, f.LowerGID, f.LowerLayer = low.Mode, low.UID, low.GID, low.Layer
		f.Below = hider == ""
		f.LowerSize = low.Size
		if low.IsDir() {
			// Diff gave a removed node the bytes beneath it; a directory's
			// own size means nothing here.
			f.LowerSize = 0
			if n.Kind == overlay.Removed {
				f.LowerSize = n.Size
			}
		}
		if f.Whiteout || f.Opaque {
			kids := m.stack.Lower.Children(p)
			f.LowerEntries = len(kids)
			if f.Opaque {
				f.Hidden = names(kids, hiddenNames)
			}
		}
		if f.Held && hider != "" {
			f.Hider = hider
		}
	}
	if !f.Held {
		f.Hider, f.Via = hider, via
		f.Size = f.LowerSize
	}
	if f.Held && n.IsDir() && !f.Opaque {
		// Listing the children costs their number: only a directory whose
		// cause depends on them lists them.
		f.Changes = len(up.Children(p)) > 0
	}
	f.Clues = m.clues(len(m.stack.Layers), up, p)
	return overlay.Decide(f), true
}

// layerCause is the cause of p in lower layer i, an image layer.
func (m Model) layerCause(i int, p string) (overlay.Cause, bool) {
	lt := m.stack.Layers[i]
	n, ok := lt.Lookup(p)
	if !ok {
		return overlay.Cause{}, false
	}
	f := heldFacts(n)
	f.Image = true
	hider, via := hiderIn(lt, p)
	if len(n.Shadows) > 0 && n.Shadows[0] < i {
		s := n.Shadows[0]
		f.LowerLayer, f.Below = s, hider == ""
		if low, ok := m.stack.Layers[s].Lookup(p); ok {
			f.LowerMode, f.LowerUID, f.LowerGID, f.LowerSize = low.Mode, low.UID, low.GID, low.Size
		}
		if n.Kind == overlay.Removed {
			f.LowerSize = n.Size // what Diff counted beneath the path
		}
	}
	if f.Opaque {
		// Diff lists the entries the opaque directory hides beneath it.
		var hidden []tree.Node
		for _, k := range lt.Children(p) {
			if k.Kind == overlay.Removed && !k.Whiteout {
				hidden = append(hidden, k)
			}
		}
		f.LowerEntries, f.Hidden = len(hidden), names(hidden, hiddenNames)
	}
	if !f.Held {
		f.Hider, f.Via = hider, via
		f.Mode, f.Size = n.Mode, n.Size
	}
	f.Clues = m.clues(i, lt, p)
	if f.Held && f.Mode.IsRegular() {
		// A later name of a linked file stores no bytes in the layer; the
		// file has the size of its first name.
		for _, name := range f.Names {
			if o, ok := lt.Lookup(name); ok {
				f.Size = max(f.Size, o.Size)
			}
		}
	}
	return overlay.Decide(f), true
}

// hiddenNames is how many names of what an opaque directory hides the
// view shows.
const hiddenNames = 3

// heldFacts are the facts node n of a layer's tree shows of itself.
func heldFacts(n tree.Node) overlay.Facts {
	f := overlay.Facts{Path: n.Path, Diff: n.Kind, LowerLayer: -1}
	// A removed node that is no whiteout is a lower entry the layer hides.
	f.Held = n.Whiteout || n.Kind != overlay.Removed
	f.Mode, f.UID, f.GID, f.Size = n.Mode, n.UID, n.GID, n.Size
	if f.Held {
		f.Whiteout, f.Opaque = n.Whiteout, n.Opaque && n.IsDir()
	}
	return f
}

// clues returns ReadStack's clues for p in layer i, dropping names of a
// linked file that the tree t no longer holds.
func (m Model) clues(i int, t *tree.Tree, p string) overlay.Clues {
	if i >= len(m.stack.Clues) {
		return overlay.Clues{}
	}
	c := m.stack.Clues[i][p]
	if len(c.Names) > 1 {
		var kept []string
		for _, name := range c.Names {
			if n, ok := t.Lookup(name); ok && !n.Whiteout && n.Kind != overlay.Removed {
				kept = append(kept, name)
			}
		}
		c.Names = nil
		if len(kept) > 1 {
			c.Names = kept
		}
	}
	return c
}

// hiderIn returns the nearest entry the layer tree t holds above p that
// hides the layers below at p: an opaque directory (overlay.Opaque) or a
// non-directory (overlay.Modified).
func hiderIn(t *tree.Tree, p string) (string, overlay.DiffKind) {
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		a, ok := t.Lookup(d)
		switch {
		case !ok || a.Kind == overlay.Removed && !a.Whiteout:
		case !a.IsDir():
			return d, overlay.Modified
		case a.Opaque:
			return d, overlay.Opaque
		}
	}
	return "", overlay.Unmodified
}

// names returns the base names of the first n nodes.
func names(nodes []tree.Node, n int) []string {
	var out []string
	for _, k := range nodes[:min(n, len(nodes))] {
		out = append(out, k.Name())
	}
	return out
}

// SelectedCause returns the cause of the entry under the cursor of the
// focused pane, as the details line and the explain panel tell it.
func (m Model) SelectedCause() (overlay.Cause, bool) {
	n, ok := m.Selected()
	if !ok {
		return overlay.Cause{}, false
	}
	return m.causeOf(n)
}
