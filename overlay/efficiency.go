package overlay

import (
	"cmp"
	"slices"
)

// Efficiency says how much of what a stack of layers stores its merged view
// shows.
//
// How it counts: Stored is the bytes of regular-file content every layer
// holds, each file once per layer (a second name of a hardlinked file, a
// whiteout and a metacopy file hold none). A file counts as visible when
// the merged view shows it from that layer, or takes a metacopy file's data
// from it. Visible is the bytes of the visible files and Wasted = Stored -
// Visible: the bytes layers store that the final view cannot show, whether
// overwritten by a later layer, hidden by a whiteout, by an opaque directory
// or by a file put over a parent directory. A path stored N times and shown
// once wastes N-1 copies, not N (dive counts all N: wagoodman/dive#684, and
// misses what opaque directories and removed parent directories hide).
// Score is Visible / Stored, 1 for a stack that stores nothing.
type Efficiency struct {
	Stored, Visible, Wasted int64
	Score                   float64
	// Files lists the paths that waste bytes, most wasted first.
	Files []WastedFile
}

// WastedFile is a path stored in layers where the merged view does not show it.
type WastedFile struct {
	Path   string // "/"-rooted
	Copies int    // layers that store content at the path, the visible one included
	Wasted int64  // bytes of the copies not shown
	Layers []int  // layers whose copy is not shown, bottom first
}

// Efficiency computes how efficiently the view's layers store what it shows.
func (m *Merged) Efficiency() Efficiency {
	var e Efficiency
	byPath := map[string]*WastedFile{}
	for l, t := range m.layers {
		t.walkRecs(0, "/", func(i int32, p string) {
			size := storedSize(t, i)
			if size == 0 || !t.recs[i].mode.IsRegular() {
				return
			}
			e.Stored += size
			if m.shows(p, l) {
				e.Visible += size
				return
			}
			w := byPath[p]
			if w == nil {
				w = &WastedFile{Path: p}
				byPath[p] = w
			}
			w.Wasted += size
			w.Layers = append(w.Layers, l)
		})
	}
	e.Wasted = e.Stored - e.Visible
	e.Score = 1
	if e.Stored > 0 {
		e.Score = float64(e.Visible) / float64(e.Stored)
	}
	for p, w := range byPath {
		for _, t := range m.layers {
			if i := t.find(p); i >= 0 && storedSize(t, i) > 0 && t.recs[i].mode.IsRegular() {
				w.Copies++
			}
		}
		e.Files = append(e.Files, *w)
	}
	slices.SortFunc(e.Files, func(a, b WastedFile) int {
		return cmp.Or(cmp.Compare(b.Wasted, a.Wasted), cmp.Compare(a.Path, b.Path))
	})
	return e
}

// shows reports whether the view shows p from layer l, or takes p's data
// from l for a metacopy file above it.
func (m *Merged) shows(p string, l int) bool {
	i := m.find(p)
	if i < 0 {
		return false
	}
	e := &m.ents[i]
	refs := m.refs[e.ref : e.ref+e.nref]
	if int(refs[0].layer) == l {
		return true
	}
	if m.rec(refs[0]).flags&flagMetacopy != 0 {
		for _, r := range refs[1:] {
			if m.rec(r).mode.IsRegular() {
				return int(r.layer) == l
			}
		}
	}
	return false
}

// walkRecs calls fn for record i at p and every record beneath it.
func (t *Tree) walkRecs(i int32, p string, fn func(i int32, p string)) {
	fn(i, p)
	r := &t.recs[i]
	for k := r.first; k < r.first+r.count; k++ {
		t.walkRecs(k, childPath(p, t.recs[k].name), fn)
	}
}
