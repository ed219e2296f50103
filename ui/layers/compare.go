package layers

import (
	"path"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/compare"
	"minidocker/ui/tree"
)

// The compare view: on a key, the selected path's two versions one
// against the other, in a box over the panes — for a container the lower
// layers' version (from the top layer holding it) and the upper
// directory's; for an image layer, the layer's version and the one below
// it (compare_sides.go says which and why). The versions are read and
// compared by a command, off the UI's goroutine: a large file costs a
// moment, not a frozen screen. While it is open a change the container
// makes at the path compares again. Esc or the key again closes it.

// compareState is the compare view while it is open.
type compareState struct {
	open bool
	id   int    // the comparison asked last; an answer to an older one is dropped
	path string // the path compared
	// layer is the image layer compared with the one below it, or -1 for
	// a container's lower and upper versions.
	layer int
	view  *compare.Model // nil until the first answer
}

// compareMsg is a comparison done: the versions read and compared.
type compareMsg struct {
	id  int
	doc compare.Doc
}

// Comparing reports whether the compare view is open; esc then closes it.
func (m Model) Comparing() bool { return m.cmp.open }

// openCompare opens the view on the selected path and starts comparing.
func (m *Model) openCompare() tea.Cmd {
	n, ok := m.Selected()
	if !ok {
		return nil
	}
	layer := -1
	switch {
	case m.Container() && !(m.focus == lowerPane && m.alone):
	case m.alone:
		layer = m.layer
	default:
		layer = n.Layer
	}
	m.cmp = compareState{open: true, id: m.cmp.id + 1, path: n.Path, layer: layer}
	return m.request().run(m.cmp.id)
}

// request says what the open view compares, from the trees as they are.
func (m Model) request() compareReq {
	if m.cmp.layer < 0 {
		return m.containerReq(m.cmp.path)
	}
	return m.layerReq(m.cmp.layer, m.cmp.path)
}

// run reads both versions and compares them, as a command.
func (r compareReq) run(id int) tea.Cmd {
	return func() tea.Msg {
		return compareMsg{id: id, doc: compare.Build(r.input())}
	}
}

// compared shows an answer to the comparison asked last, keeping the
// scroll when it is a comparison made again.
func (m *Model) compared(msg compareMsg) {
	if !m.cmp.open || msg.id != m.cmp.id {
		return
	}
	v := compare.New(m.th, m.keys, msg.doc)
	if m.cmp.view != nil {
		v = m.cmp.view.SetDoc(msg.doc)
	}
	m.cmp.view = &v
}

// compareAgain compares again when a batch of the container's changes
// touches the compared path or, for a directory, its entries.
func (m *Model) compareAgain(evs []tree.Node) tea.Cmd {
	if !m.cmp.open || m.cmp.layer >= 0 {
		return nil
	}
	for _, ev := range evs {
		p := tree.Clean(ev.Path)
		if p == m.cmp.path || path.Dir(p) == m.cmp.path {
			m.cmp.id++
			return m.request().run(m.cmp.id)
		}
	}
	return nil
}

// compareKey handles a key while the view is open.
func (m Model) compareKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	if key.Matches(msg, m.keys.Back, m.keys.Compare) {
		m.cmp = compareState{id: m.cmp.id}
		return m, nil
	}
	if m.cmp.view == nil {
		return m, nil
	}
	v, cmd := m.cmp.view.SetSize(m.compareSize()).Update(msg)
	m.cmp.view = &v
	return m, cmd
}

// compareWheel scrolls the view by the mouse wheel.
func (m *Model) compareWheel(b tea.MouseButton) {
	if m.cmp.view == nil {
		return
	}
	n := 3
	if b == tea.MouseWheelUp {
		n = -3
	}
	v := m.cmp.view.SetSize(m.compareSize()).Scroll(n)
	m.cmp.view = &v
}

// compareSize is the cells inside the view's frame: the panes' place.
func (m Model) compareSize() (int, int) { return m.width - 2, m.panes[m.tallPane()].height }

// compareView draws the view in w×h inner cells.
func (m Model) compareView(w, h int) string {
	if m.cmp.view == nil {
		return m.th.Box("compare "+human.Visible(m.cmp.path)+" · esc closes", m.th.Subtle.Render("reading both versions…"), w, h, true)
	}
	return m.cmp.view.SetSize(w, h).View()
}
