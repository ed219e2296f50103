package layers

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/overlay"
	"minidocker/ui/tree"
)

// An image's left column, as dive lays it out: the layer list, the
// selected layer's details and the paths that waste space. Tab gives the
// keys to each list in turn, then back to the tree. On the layer list the
// arrows select a layer, which the tree then shows alone or merged with
// the layers below it (a toggles, as it does anywhere; < and > step as the
// arrows do). On the wasted list enter jumps to the path in the tree, in
// the layer that stores the copy no one sees.

// What has the keys in an image's view.
const (
	sideNone   = iota // the tree
	sideLayers        // the layer list
	sideWasted        // the wasted list
)

// selectLayer shows lower layer i alone, or layers 0 to i merged: the
// two modes of dive. The tree's cursor stays on the linked path, or the
// nearest ancestor the layer shows.
func (m *Model) selectLayer(i int, alone bool) {
	n := len(m.stack.Layers)
	if n == 0 {
		return
	}
	m.layer, m.alone = max(min(i, n-1), 0), alone
	m.list.cursor = m.layer
	m.list.clamp(n, m.column().layers)
	p := &m.panes[lowerPane]
	var t *tree.Tree
	p.title, t = m.layerTree()
	p.setTree(t, m.opts)
	m.gen++
	p.seek(m.path, true, m.opts)
}

// layerTree is the lower pane's title and tree for the selection.
func (m Model) layerTree() (string, *tree.Tree) {
	n, i := len(m.stack.Layers), m.layer
	switch {
	case m.alone:
		return fmt.Sprintf("layer %d of %d", i, n), m.stack.Layers[i]
	case i == n-1 && m.Container():
		return "lower", m.stack.Lower
	case i == n-1:
		return "all layers", m.stack.Lower
	}
	title := fmt.Sprintf("layers 0–%d merged", i)
	if m.Container() {
		title = fmt.Sprintf("lower layers 0–%d", i)
	}
	if m.stack.UpTo == nil {
		return title + " · not read", tree.New(nil)
	}
	return title, m.stack.UpTo(i)
}

// layerKey handles a key of the focused layer list; false for a key it
// leaves to the tree's handling (the toggles, the filter, tab).
func (m *Model) layerKey(msg tea.KeyPressMsg) bool {
	k, h := m.keys, m.column().layers
	switch {
	case key.Matches(msg, k.Up):
		m.selectLayer(m.layer-1, m.alone)
	case key.Matches(msg, k.Down):
		m.selectLayer(m.layer+1, m.alone)
	case key.Matches(msg, k.PageUp):
		m.selectLayer(m.layer-h, m.alone)
	case key.Matches(msg, k.PageDown):
		m.selectLayer(m.layer+h, m.alone)
	case key.Matches(msg, k.Top):
		m.selectLayer(0, m.alone)
	case key.Matches(msg, k.Bottom):
		m.selectLayer(len(m.stack.Layers)-1, m.alone)
	case key.Matches(msg, k.Enter):
		m.side = sideNone
	default:
		return false
	}
	return true
}

// wastedKey handles a key of the focused wasted list.
func (m *Model) wastedKey(msg tea.KeyPressMsg) bool {
	k := m.keys
	files := m.stack.Efficiency.Files
	n, h := len(files), m.column().wastedRows()
	switch {
	case key.Matches(msg, k.Enter):
		if m.wasted.cursor < n {
			m.jump(files[m.wasted.cursor])
		}
	case key.Matches(msg, k.Up):
		m.wasted.move(-1, n, h)
	case key.Matches(msg, k.Down):
		m.wasted.move(1, n, h)
	case key.Matches(msg, k.PageUp):
		m.wasted.move(-h, n, h)
	case key.Matches(msg, k.PageDown):
		m.wasted.move(h, n, h)
	case key.Matches(msg, k.Top):
		m.wasted.move(-n, n, h)
	case key.Matches(msg, k.Bottom):
		m.wasted.move(n, n, h)
	default:
		return false
	}
	return true
}

// jump shows a wasted path in the tree: in the highest layer that stores
// a copy the merged view does not show, where the tree holds it in either
// mode, and gives the tree the keys.
func (m *Model) jump(f overlay.WastedFile) {
	l := m.layer
	if len(f.Layers) > 0 {
		l = f.Layers[len(f.Layers)-1]
	}
	m.side = sideNone
	m.path = f.Path
	m.selectLayer(l, m.alone)
}

// clickColumn selects what the pointer is on in the left column, y lines
// from its top.
func (m *Model) clickColumn(y int) {
	c := m.column()
	switch c.at(y) {
	case sideLayers:
		m.side = sideLayers
		if row := y - 1; row >= 0 && row < c.layers {
			m.selectLayer(m.list.top+row, m.alone)
		}
	case sideWasted:
		m.side = sideWasted
		row := y - c.wastedTop() - 1 - wastedSummary
		if n := len(m.stack.Efficiency.Files); row >= 0 && m.wasted.top+row < n {
			m.wasted.cursor = m.wasted.top + row
		}
	}
}

// listState is a list's cursor and its first line on screen.
type listState struct{ cursor, top int }

// clamp keeps the cursor on one of n items and on screen, h lines high.
func (l *listState) clamp(n, h int) {
	l.cursor = max(min(l.cursor, n-1), 0)
	h = max(h, 1)
	if l.cursor < l.top {
		l.top = l.cursor
	}
	if l.cursor >= l.top+h {
		l.top = l.cursor - h + 1
	}
	l.top = max(min(l.top, n-h), 0)
}

func (l *listState) move(d, n, h int) {
	l.cursor += d
	l.clamp(n, h)
}

// scroll moves the lines on screen by d, the cursor with them when it
// would leave the screen.
func (l *listState) scroll(d, n, h int) {
	h = max(h, 1)
	l.top = max(min(l.top+d, n-h), 0)
	l.cursor = max(min(l.cursor, l.top+h-1), l.top)
	l.clamp(n, h)
}

// column is the height inside the frame of each box of the left column;
// details is 0 when the screen has no room for the layer's details.
type column struct{ layers, details, wasted int }

// wastedSummary is the lines above the wasted paths: the efficiency and
// the bytes wasted.
const wastedSummary = 2

// detailLines is the lines of the selected layer's details.
const detailLines = 3

// column shares the column's height among its boxes: the layer list as
// long as it needs, up to half of what the details leave; the wasted list
// the rest.
func (m Model) column() column {
	total := m.panes[lowerPane].height + 2
	c := column{details: detailLines}
	room := total - 3*2 - c.details
	if room < 2+wastedSummary {
		c.details = 0
		room = total - 2*2
	}
	c.layers = max(min(len(m.stack.Layers), room/2), 1)
	c.wasted = max(room-c.layers, 0)
	return c
}

// wastedRows is the wasted paths on screen.
func (c column) wastedRows() int { return max(c.wasted-wastedSummary, 1) }

// wastedTop is the line of the wasted box's top edge.
func (c column) wastedTop() int {
	top := c.layers + 2
	if c.details > 0 {
		top += c.details + 2
	}
	return top
}

// at says which list the column's line y is in.
func (c column) at(y int) int {
	switch {
	case y >= 0 && y < c.layers+2:
		return sideLayers
	case y >= c.wastedTop():
		return sideWasted
	}
	return sideNone
}
