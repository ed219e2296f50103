package tree

import (
	"slices"
	"strings"

	"minidocker/overlay"
)

// Options say which rows a tree shows and in what order.
type Options struct {
	Filter      string // substring of the name, case-insensitive
	ChangedOnly bool   // hide Unmodified entries that hold no change
	// Hide lists the kinds not shown (dive's added, modified, removed and
	// unmodified toggles; the finer kinds follow their coarse one).
	Hide       map[overlay.DiffKind]bool
	SortBySize bool // largest first, directories by the size beneath them
}

// Coarse folds a kind into dive's four: copied-up and metadata-only count
// as modified, whiteout and opaque as removed.
func Coarse(k overlay.DiffKind) overlay.DiffKind {
	switch k {
	case overlay.CopiedUp, overlay.MetadataOnly:
		return overlay.Modified
	case overlay.Whiteout, overlay.Opaque:
		return overlay.Removed
	}
	return k
}

// Row is one visible line of a tree. Node points into the tree, so a node
// replaced in place shows at once without flattening again.
type Row struct {
	*Node
	Depth     int
	HasKids   bool
	Collapsed bool
}

// Rows flattens the tree into the rows o leaves visible, the root left out.
// A directory is shown when it matches or when something beneath it is.
func (t *Tree) Rows(o Options) []Row {
	if o.SortBySize {
		sizes(t.root)
	}
	f := flattener{o: o, filter: strings.ToLower(o.Filter), rows: make([]Row, 0, len(t.index))}
	f.kids(t.root, 0)
	return f.rows
}

type flattener struct {
	o      Options
	filter string
	rows   []Row
}

func (f *flattener) shown(e *entry) bool {
	if f.o.Hide[Coarse(e.Kind)] {
		return false
	}
	if f.o.ChangedOnly && e.Kind == overlay.Unmodified {
		return false
	}
	return f.filter == "" || strings.Contains(e.lower, f.filter)
}

// kids appends the visible children of e and reports whether any was.
func (f *flattener) kids(e *entry, depth int) bool {
	kids := e.kids
	if f.o.SortBySize {
		kids = slices.Clone(kids)
		slices.SortStableFunc(kids, func(a, b *entry) int {
			switch {
			case a.total > b.total:
				return -1
			case a.total < b.total:
				return 1
			}
			return 0
		})
	}
	any := false
	for _, k := range kids {
		if f.add(k, depth) {
			any = true
		}
	}
	return any
}

func (f *flattener) add(e *entry, depth int) bool {
	at := len(f.rows)
	f.rows = append(f.rows, Row{Node: &e.Node, Depth: depth, HasKids: len(e.kids) > 0, Collapsed: e.collapsed})
	self := f.shown(e)
	if len(e.kids) == 0 {
		if !self {
			f.rows = f.rows[:at]
		}
		return self
	}
	// A directory is kept for what lies beneath it even when folded, so
	// that a filter still finds names inside a folded directory.
	below := f.kids(e, depth+1)
	if e.collapsed {
		f.rows = f.rows[:at+1]
	}
	if !self && !below {
		f.rows = f.rows[:at]
		return false
	}
	return true
}

func sizes(e *entry) int64 {
	e.total = 0
	if e.Mode.IsRegular() {
		e.total = e.Size
	}
	for _, k := range e.kids {
		e.total += sizes(k)
	}
	return e.total
}
