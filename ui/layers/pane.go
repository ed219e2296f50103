package layers

import (
	"fmt"
	"strconv"
	"strings"

	"minidocker/internal/human"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// pane is one scrolling tree: the rows its options leave visible, a cursor
// and the first row on screen. Only the rows on screen are ever styled.
type pane struct {
	title          string
	tree           *tree.Tree
	rows           []tree.Row
	cursor, offset int
	width, height  int // inside the border
	// gap is the linked path when the pane's tree does not hold it (the
	// cursor is on an ancestor), and lost says the rows show not even an
	// ancestor of it: see link.go.
	gap  string
	lost bool
}

func (p *pane) setTree(t *tree.Tree, o tree.Options) {
	if t != p.tree {
		p.rows = nil // they name records of the other tree
	}
	p.tree = t
	p.refresh(o)
}

// refresh flattens the tree again and keeps the cursor on the same path
// when it is still shown.
func (p *pane) refresh(o tree.Options) {
	if p.tree == nil {
		p.rows = nil
		return
	}
	cur, ok := p.selected()
	curPath := ""
	if ok {
		curPath = p.tree.Path(cur)
	}
	p.rows = p.tree.Rows(o)
	if ok {
		// Look near the old position first: a change rarely moves far.
		found := -1
		lo, hi := max(p.cursor-64, 0), min(p.cursor+64, len(p.rows))
		for i := lo; i < hi; i++ {
			if p.rows[i].ID == cur.ID {
				found = i
				break
			}
		}
		if found < 0 {
			for i := range p.rows {
				if p.rows[i].ID == cur.ID {
					found = i
					break
				}
			}
		}
		// A removed record's slot may hold another path now. In a pane
		// scrolled down, the row stays on its line of the screen as rows
		// come and go above it; at the top, the screen stays at the top,
		// so that a new entry there is seen, and the cursor moves with
		// its row.
		if found >= 0 && p.tree.Path(p.rows[found]) == curPath {
			if p.offset > 0 {
				p.offset += found - p.cursor
			}
			p.cursor = found
		}
	}
	p.clamp()
}

func (p *pane) clamp() {
	p.cursor = max(min(p.cursor, len(p.rows)-1), 0)
	h := max(p.height, 1)
	if p.cursor < p.offset {
		p.offset = p.cursor
	}
	if p.cursor >= p.offset+h {
		p.offset = p.cursor - h + 1
	}
	p.offset = max(min(p.offset, len(p.rows)-h), 0)
}

func (p *pane) move(n int) {
	p.cursor += n
	p.clamp()
}

func (p *pane) scroll(n int) {
	p.offset = max(min(p.offset+n, len(p.rows)-p.height), 0)
	p.cursor = max(min(p.cursor, p.offset+p.height-1), p.offset)
	p.clamp()
}

func (p *pane) selected() (tree.Row, bool) {
	if p.cursor < 0 || p.cursor >= len(p.rows) {
		return tree.Row{}, false
	}
	return p.rows[p.cursor], true
}

// fold folds (c) or unfolds the directory under the cursor; folding a
// file folds its parent and moves there.
func (p *pane) fold(c bool, o tree.Options) {
	r, ok := p.selected()
	if !ok || p.tree == nil {
		return
	}
	if !p.tree.HasKids(r) {
		if !c {
			return
		}
		for i := p.cursor - 1; i >= 0; i-- {
			if p.rows[i].Depth < r.Depth {
				p.cursor = i
				r = p.rows[i]
				break
			}
		}
		if !p.tree.HasKids(r) {
			return
		}
	}
	p.tree.SetCollapsed(p.tree.Path(r), c)
	p.refresh(o)
}

// view draws the pane in a border; flash marks paths that just changed.
func (p *pane) view(th theme.Theme, focused bool, flash map[string]int, footer string) string {
	var b strings.Builder
	w := max(p.width, 4)
	end := min(p.offset+p.height, len(p.rows))
	ow := 3
	for i := p.offset; i < end; i++ {
		uid, gid := p.tree.Owner(p.rows[i])
		ow = max(ow, ownerLen(uid, gid))
	}
	cols := colsFor(w, ow)
	for i := p.offset; i < end; i++ {
		if i > p.offset {
			b.WriteByte('\n')
		}
		r := p.rows[i]
		n := p.tree.Node(r)
		sel := i == p.cursor && (focused || !p.lost)
		b.WriteString(p.row(th, n, int(r.Depth), p.tree.HasKids(r), p.tree.Folded(r), sel, focused, lit(flash, n.Path), w, cols))
	}
	title := p.title
	if len(p.rows) > p.height {
		title += fmt.Sprintf(" %d/%d", p.cursor+1, len(p.rows))
	}
	if p.gap != "" {
		title += " · no " + human.Visible(p.gap)
	}
	if footer != "" {
		title += " · " + footer
	}
	return th.Exact().Box(title, b.String(), w, p.height, focused)
}

// The tree's columns beside the names, as dive shows them: the mode as
// ls -l prints it, the owner and the size. A narrow pane drops the owner,
// then the mode, so that names keep nameRoom cells; the size goes last.
const (
	modeWidth = 10 // drwxr-xr-x
	sizeWidth = 6  // 10.2MB
	nameRoom  = 24
)

// treeCols says which columns a pane shows, and the owner's width: the
// widest uid:gid on screen.
type treeCols struct {
	mode  bool
	owner int // 0 for no owner column
}

// colsFor decides the columns of a pane w cells wide whose rows on screen
// have owners up to ow cells wide.
func colsFor(w, ow int) treeCols {
	need := nameRoom + 1 + sizeWidth
	c := treeCols{mode: w >= need+1+modeWidth}
	if w >= need+1+modeWidth+1+ow {
		c.owner = ow
	}
	return c
}

func owner(n tree.Node) string {
	return strconv.FormatUint(uint64(n.UID), 10) + ":" + strconv.FormatUint(uint64(n.GID), 10)
}

// ownerLen is the width of uid:gid, without making the string.
func ownerLen(uid, gid uint32) int { return digits(uid) + 1 + digits(gid) }

func digits(n uint32) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// padLeft puts s at the right of n cells; s is ASCII.
func padLeft(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat(" ", n-len(s)) + s
}

// row draws one line of the tree: kind marker, indent, fold sign, the name
// made safe to print, then the columns that fit: mode, owner and size.
func (p *pane) row(th theme.Theme, r tree.Node, depth int, hasKids, folded, sel, focused, flash bool, w int, cols treeCols) string {
	fold := "  "
	if hasKids {
		fold = "▾ "
		if folded {
			fold = "▸ "
		}
	}
	name := human.Visible(r.Name())
	switch {
	case r.Whiteout:
		name += " ⊘ whiteout"
	case r.Opaque:
		name += "/ ◼ opaque"
	case r.IsDir():
		name += "/"
	case r.Link != "":
		name += " → " + human.Visible(r.Link)
	}
	indent := min(depth*2, w/2)
	kind := r.Mark()
	left := theme.Marker(kind) + " " + strings.Repeat(" ", indent) + fold + name
	st := th.Kind[kind]
	switch {
	case flash:
		st = th.Flash
	case sel && focused:
		st = th.SelectedKind[kind]
	case sel:
		st = th.BlurKind[kind]
	}
	return st.Render(withCols(left, r, cols, w))
}

// withCols cuts the name part to leave room for the columns and adds
// them. With the size alone, a row without a size gives its room to the
// name, as before there were columns.
func withCols(left string, r tree.Node, c treeCols, w int) string {
	size := ""
	if r.Mode.IsRegular() && !r.Whiteout {
		size = human.Size(r.Size)
	}
	if !c.mode {
		room := w
		if size != "" {
			room = w - len(size) - 1
		}
		if room < 4 {
			return theme.Cut(left, w)
		}
		if size == "" {
			return theme.Cut(left, room)
		}
		return theme.Cut(left, room) + " " + size
	}
	cols := " " + human.Mode(r.Mode)
	if r.Whiteout {
		cols = " c---------"
	}
	if c.owner > 0 {
		cols += " " + padLeft(owner(r), c.owner)
	}
	cols += " " + padLeft(size, sizeWidth)
	return theme.Cut(left, w-len(cols)) + cols
}

// lit reports whether path changed in a flash epoch not yet over.
func lit(flash map[string]int, path string) bool {
	_, ok := flash[path]
	return ok
}
