package overlay

import (
	"cmp"
	"slices"
)

// The one A/C/D rule. docker diff is the reference: a path of the layer
// that the layers below also show is changed (C), even when it was only
// copied up, with the same content and metadata (dpkg opens files for
// writing that it does not change; a directory is copied up for a change
// beneath it); a path they do not show is added (A); a path hidden by a
// whiteout or by an opaque directory is deleted (D), and so is one hidden
// by a non-directory put over its directory; a whiteout that hides nothing
// is not listed. Letter, DockerDiff and Count apply it, so that every list
// and count agrees.

// Letter returns the letter docker diff prints for a change of kind k: "A"
// for Added; "C" for Modified, MetadataOnly, CopiedUp and Opaque; "D" for
// Removed; and " " for Unmodified and Whiteout, which are not listed.
func (k DiffKind) Letter() string {
	switch k {
	case Added:
		return "A"
	case Removed:
		return "D"
	case Modified, CopiedUp, MetadataOnly, Opaque:
		return "C"
	}
	return " "
}

// listed reports whether docker diff lists a change of kind k.
func (k DiffKind) listed() bool { return k.Letter() != " " }

// DockerChange is one line of docker diff.
type DockerChange struct {
	Letter string // "A", "C" or "D"
	Path   string // "/"-rooted
}

// String returns the line as docker diff prints it, such as "C /etc".
func (c DockerChange) String() string { return c.Letter + " " + c.Path }

// DockerDiff returns what docker diff lists for changes (as Diff returns
// them): each listed change with its letter, sorted by path with parents
// first.
func DockerDiff(changes []Change) []DockerChange {
	out := make([]DockerChange, 0, len(changes))
	for _, c := range changes {
		if c.Kind.listed() {
			out = append(out, DockerChange{Letter: c.Kind.Letter(), Path: c.Path})
		}
	}
	slices.SortStableFunc(out, func(a, b DockerChange) int {
		return cmp.Or(comparePaths(a.Path, b.Path), cmp.Compare(a.Letter, b.Letter))
	})
	return out
}

// Counts is how many paths a layer adds, changes and deletes, by the rule
// of DockerDiff: its counts are the number of A, C and D lines.
type Counts struct {
	Added, Changed, Deleted int
}

// Count counts changes (as Diff returns them) by their letters.
func Count(changes []Change) Counts {
	var c Counts
	for _, ch := range changes {
		c.Add(ch.Kind, 1)
	}
	return c
}

// Add counts n more changes of kind k, for a caller that holds kinds
// rather than changes (a tree view counting its nodes).
func (c *Counts) Add(k DiffKind, n int) {
	switch k.Letter() {
	case "A":
		c.Added += n
	case "C":
		c.Changed += n
	case "D":
		c.Deleted += n
	}
}

// Total returns the number of paths listed.
func (c Counts) Total() int { return c.Added + c.Changed + c.Deleted }
