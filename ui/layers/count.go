package layers

import (
	"minidocker/overlay"
	"minidocker/ui/tree"
)

// Counts is what one layer adds, changes and deletes, as docker diff
// counts paths: overlay's one rule, the same the CLI's "layers" and "diff"
// print.
type Counts = overlay.Counts

// count folds a layer's changes (overlay.Diff's list) into docker's A, C
// and D by overlay's rule.
func count(changes []overlay.Change) Counts { return overlay.Count(changes) }

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
