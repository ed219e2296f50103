package layers

import (
	"minidocker/overlay"
	"minidocker/ui/tree"
)

// Counts is what one layer adds, changes and deletes, as docker diff
// counts paths.
type Counts struct{ Added, Changed, Deleted int }

// count folds a layer's changes (overlay.Diff's list) into docker's A, C
// and D. It must be the same rule as the CLI's "minidocker layers" and
// "minidocker diff", so that the view and the command show the same
// numbers for a layer: when overlay.Count lands, this body becomes a call
// to it.
//
// Docker's rule, through overlay.DiffKind.Letter: a path the layers below
// do not show is added (A); a path they show that the layer holds again is
// changed (C), whether modified, touched, made opaque or only copied up as
// the parent of a change; a path the layer hides (a whiteout, an opaque
// directory, a file over a directory) is deleted (D). A whiteout that
// hides nothing, and an unmodified path, is no change.
func count(changes []overlay.Change) Counts {
	var c Counts
	for _, ch := range changes {
		switch ch.Kind.Letter() {
		case "A":
			c.Added++
		case "C":
			c.Changed++
		case "D":
			c.Deleted++
		}
	}
	return c
}

// treeChanges lists the changes a layer's tree holds, for a stack read
// elsewhere than ReadStack, which counts overlay.Diff's list itself.
func treeChanges(t *tree.Tree) []overlay.Change {
	var out []overlay.Change
	t.Walk(func(n tree.Node) {
		if n.Path != "/" && n.Kind != overlay.Unmodified {
			out = append(out, overlay.Change{Path: n.Path, Kind: n.Kind, Size: n.Size})
		}
	})
	return out
}
