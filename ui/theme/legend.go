package theme

import "minidocker/overlay"

// Marker is the one-character sign of a kind, the same in every pane, in
// the titles and in the legend, so that a tree reads the same without
// colour. A tree row is marked by what it shows (tree.Node.Mark): a
// whiteout as a whiteout, an opaque directory as opaque.
func Marker(k overlay.DiffKind) string {
	if int(k) < len(markers) {
		return markers[k]
	}
	return "?"
}

// markers are the signs by kind, in overlay.DiffKind's order.
var markers = [...]string{
	overlay.Unmodified:   " ",
	overlay.Added:        "+",
	overlay.Modified:     "~",
	overlay.Removed:      "-",
	overlay.CopiedUp:     "^",
	overlay.MetadataOnly: "m",
	overlay.Opaque:       "O",
	overlay.Whiteout:     "W",
}

// Entry is one line of the legend: a kind, its marker, its short name and
// what it means.
type Entry struct {
	Kind    overlay.DiffKind
	Marker  string
	Name    string
	Meaning string
}

// Legend lists every kind a tree marks, in the order the legend shows
// them: what a layer adds, then what it changes, then what it hides.
func Legend() []Entry {
	e := func(k overlay.DiffKind, name, meaning string) Entry {
		return Entry{Kind: k, Marker: Marker(k), Name: name, Meaning: meaning}
	}
	return []Entry{
		e(overlay.Added, "added", "no lower layer holds this path"),
		e(overlay.Modified, "modified", "content, type or link differs from below"),
		e(overlay.CopiedUp, "copied up", "held again, same content (parent of a change)"),
		e(overlay.MetadataOnly, "metadata", "same content; new mode, owner or time"),
		e(overlay.Removed, "removed", "a lower path hidden by an opaque dir or a file"),
		e(overlay.Whiteout, "whiteout", "0:0 char device (.wh.NAME in a tar): deleted"),
		e(overlay.Opaque, "opaque", "a dir hiding all below it (.wh..wh..opq)"),
		e(overlay.Unmodified, "unmodified", "read from a lower layer, never written"),
	}
}

// Signs are the other marks a tree row may carry, with their meanings.
var Signs = [][2]string{
	{"▾ ▸", "an open and a folded directory"},
	{"→", "a symlink's target"},
	{"⊘ ◼", "after a name: a whiteout, an opaque dir"},
}
