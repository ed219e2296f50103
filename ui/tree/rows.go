package tree

import (
	"slices"

	"minidocker/overlay"
)

// Options say which rows a tree shows and in what order.
type Options struct {
	// Filter keeps the entries whose path it matches, and the
	// directories above them; nil keeps all.
	Filter      *Filter
	ChangedOnly bool // hide Unmodified entries that hold no change
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

// Row is one visible line of a tree: a record and its depth. It names the
// record, so a node replaced in place shows at once without flattening
// again; Tree.Node reads it.
type Row struct {
	ID    int32 // the record, valid until its path is removed
	Depth int32
}

// Node returns the node a row shows, with its path.
func (t *Tree) Node(r Row) Node { return t.node(r.ID, t.pathOf(r.ID)) }

// Path returns the path a row shows.
func (t *Tree) Path(r Row) string { return t.pathOf(r.ID) }

// Owner returns the uid and gid of a row's node, without building its
// path.
func (t *Tree) Owner(r Row) (uid, gid uint32) { return t.ents[r.ID].uid, t.ents[r.ID].gid }

// HasKids reports whether the row is a directory with entries beneath it.
func (t *Tree) HasKids(r Row) bool { return len(t.kidsOf(r.ID)) > 0 }

// Folded reports whether the row is a folded directory.
func (t *Tree) Folded(r Row) bool { return t.ents[r.ID].flags&flagCollapsed != 0 }

// Rows flattens the tree into the rows o leaves visible, the root left out.
// A directory is shown when it matches or when something beneath it is.
func (t *Tree) Rows(o Options) []Row {
	f := flattener{t: t, o: o, rows: make([]Row, 0, t.n)}
	if o.SortBySize {
		f.total = make([]int64, len(t.ents))
		f.sizes(0)
	}
	f.kids(0, 0)
	return f.rows
}

type flattener struct {
	t     *Tree
	o     Options
	total []int64 // size beneath each record, when sorting by size
	rows  []Row
	// path is the path of the record being added, built name by name on
	// the way down (lower-cased when the filter folds case), so that a
	// filter matches every path without building a string for each.
	path []byte
}

func (f *flattener) shown(e *ent) bool {
	if f.o.Hide[Coarse(e.kind)] {
		return false
	}
	if f.o.ChangedOnly && e.kind == overlay.Unmodified {
		return false
	}
	return f.o.Filter == nil || f.o.Filter.matchBytes(f.path)
}

// kids appends the visible children of record i and reports whether any
// was.
func (f *flattener) kids(i, depth int32) bool {
	kids := f.t.kidsOf(i)
	if f.o.SortBySize {
		kids = slices.Clone(kids)
		slices.SortStableFunc(kids, func(a, b int32) int {
			switch {
			case f.total[a] > f.total[b]:
				return -1
			case f.total[a] < f.total[b]:
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

func (f *flattener) add(i, depth int32) bool {
	at := len(f.rows)
	f.rows = append(f.rows, Row{ID: i, Depth: depth})
	e := &f.t.ents[i]
	pl := len(f.path)
	if f.o.Filter != nil {
		f.path = append(f.path, '/')
		if f.o.Filter.fold {
			f.path = appendLower(f.path, e.name)
		} else {
			f.path = append(f.path, e.name...)
		}
	}
	shown := f.addRows(i, e, at, depth)
	f.path = f.path[:pl]
	return shown
}

// addRows decides the rows of record i, added at row at, and of what
// lies beneath it.
func (f *flattener) addRows(i int32, e *ent, at int, depth int32) bool {
	self := f.shown(e)
	if e.dir == 0 || len(f.t.kids[e.dir-1]) == 0 {
		if !self {
			f.rows = f.rows[:at]
		}
		return self
	}
	// A directory is kept for what lies beneath it even when folded, so
	// that a filter still finds names inside a folded directory.
	below := f.kids(i, depth+1)
	if e.flags&flagCollapsed != 0 {
		f.rows = f.rows[:at+1]
	}
	if !self && !below {
		f.rows = f.rows[:at]
		return false
	}
	return true
}

func (f *flattener) sizes(i int32) int64 {
	e := &f.t.ents[i]
	var n int64
	if e.mode.IsRegular() {
		n = e.size
	}
	for _, k := range f.t.kidsOf(i) {
		n += f.sizes(k)
	}
	f.total[i] = n
	return n
}

// Mark is the kind a row of n is marked and coloured as: Whiteout for a
// whiteout and Opaque for an opaque directory, whatever their comparison
// with the layers below says (a whiteout over a lower file is Removed, an
// opaque directory in the merged view may be MetadataOnly), so that a
// path looks the same in every pane; else n's Kind.
func (n Node) Mark() overlay.DiffKind {
	switch {
	case n.Whiteout:
		return overlay.Whiteout
	case n.Opaque && n.IsDir():
		return overlay.Opaque
	}
	return n.Kind
}
