package layers

import (
	"path"
	"strings"

	"minidocker/ui/tree"
)

// The panes move together. The view keeps one linked path, the one the
// user selected last; every pane's cursor is on it, or on its nearest
// ancestor the pane shows when the pane does not show it (its title then
// says when the pane's tree does not hold it at all), or, with not even
// an ancestor shown, on no row: a pane without the keys then draws no
// cursor. Moving in one pane makes its path the linked one; switching
// panes keeps it; rows made again (a filter, a toggle, another layer, a
// change in the container) never change it, so a live update cannot move
// the cursor off the path.

// linkMark is what follow compares: the rows' generation and the path
// under each pane's cursor.
type linkMark struct {
	gen   int
	paths [3]string
}

func (m Model) linkMark() linkMark {
	lm := linkMark{gen: m.gen}
	for i := range m.panes {
		lm.paths[i] = m.panes[i].selectedPath()
	}
	return lm
}

// follow links the panes after a key or the mouse: rows made again send
// every pane back to the linked path; a cursor moved by the user (the
// focused pane's first, then one the wheel scrolled) makes its path the
// linked one, which the others seek, unfolding the directories that hide
// it.
func (m *Model) follow(before linkMark) {
	if m.gen != before.gen {
		m.relink()
		return
	}
	order := []int{m.focus, lowerPane, upperPane, mergedPane}
	for _, i := range order {
		p := &m.panes[i]
		if now := p.selectedPath(); now != before.paths[i] {
			m.path = now
			p.gap, p.lost = "", false
			for j := range m.panes {
				if j != i {
					m.panes[j].seek(m.path, true, m.opts)
				}
			}
			return
		}
	}
}

// relink sends every pane's cursor to the linked path as the rows are now,
// unfolding nothing the user folded.
func (m *Model) relink() {
	for i := range m.panes {
		m.panes[i].seek(m.path, false, m.opts)
	}
}

// selectedPath is the path under the cursor, "" for none.
func (p *pane) selectedPath() string {
	r, ok := p.selected()
	if !ok {
		return ""
	}
	return p.tree.Path(r)
}

// seek puts the cursor on the row of want, or of its nearest ancestor
// shown; with unfold, the folded directories above it open first.
func (p *pane) seek(want string, unfold bool, o tree.Options) {
	p.gap, p.lost = "", false
	if p.tree == nil || want == "" || p.selectedPath() == want {
		return
	}
	if _, ok := p.tree.Lookup(want); !ok {
		p.gap = want
	}
	if unfold && p.unfoldTo(want) {
		p.refresh(o)
	}
	row, matched, at := p.find(want, o.SortBySize)
	if matched == 0 {
		p.cursor, p.lost = at, true
	} else {
		p.cursor = row
	}
	p.clamp()
}

// unfoldTo opens the folded directories above want, or above its nearest
// ancestor the tree holds when it holds no want, and reports whether it
// opened any.
func (p *pane) unfoldTo(want string) bool {
	target := want
	for target != "/" {
		if _, ok := p.tree.Lookup(target); ok {
			break
		}
		target = path.Dir(target)
	}
	opened := false
	for d := path.Dir(target); d != "/" && d != "."; d = path.Dir(d) {
		if p.tree.Collapsed(d) {
			p.tree.SetCollapsed(d, false)
			opened = true
		}
	}
	return opened
}

// find returns the row of want, or of the deepest of its ancestors the rows
// show, and how many of its names matched; with none matched, at is the
// row before which want would be listed. The rows are the tree's in depth
// first order, so want's row is found name by name among the rows of each
// directory's children: by halves when they are sorted by name, in turn
// when by size. Only the names looked at are built.
func (p *pane) find(want string, bySize bool) (row, matched, at int) {
	names := strings.Split(strings.TrimPrefix(tree.Clean(want), "/"), "/")
	lo, hi := 0, len(p.rows)
	row = -1
	for d, name := range names {
		i, ok := p.child(lo, hi, int32(d), name, bySize)
		if !ok {
			if d == 0 {
				at = i
			}
			return row, d, at
		}
		row = i
		lo, hi = i+1, i+1
		for hi < len(p.rows) && p.rows[hi].Depth > int32(d) {
			hi++
		}
	}
	return row, len(names), at
}

// child finds name among the rows of depth d in rows[lo:hi], which hold
// one directory's children and what lies beneath them; not found, it
// returns the row where name would go.
func (p *pane) child(lo, hi int, d int32, name string, bySize bool) (int, bool) {
	rowName := func(i int) string { return path.Base(p.tree.Path(p.rows[i])) }
	if bySize {
		for i := lo; i < hi; i++ {
			if p.rows[i].Depth == d && rowName(i) == name {
				return i, true
			}
		}
		return lo, false
	}
	// a is always the first row of a child (or hi): every child before it
	// sorts before name, every one from b on after it.
	a, b := lo, hi
	for a < b {
		s := a + (b-a)/2
		for p.rows[s].Depth > d {
			s--
		}
		switch c := strings.Compare(rowName(s), name); {
		case c == 0:
			return s, true
		case c < 0:
			a = s + 1
			for a < b && p.rows[a].Depth > d {
				a++
			}
		default:
			b = s
		}
	}
	return a, false
}
