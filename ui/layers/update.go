package layers

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/overlay"
)

// Update handles keys, mouse and change events.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case EventsMsg:
		m.apply(msg.Nodes)
		m.relink()
		m.last = m.lastLine(msg.Nodes)
		again := m.compareAgain(msg.Nodes)
		// One timer at a time ends highlights, epoch by epoch: a timer
		// per batch cost a full redraw each, 20 a second in a busy
		// container. An entry stays lit for one to two FlashTimes.
		if m.flashPending {
			return m, tea.Batch(WaitEvents(msg.Ch), again)
		}
		m.flashPending = true
		return m, tea.Batch(WaitEvents(msg.Ch), flashTick(m.flashGen), again)
	case compareMsg:
		m.compared(msg)
	case flashEndMsg:
		if msg.gen != m.flashGen {
			break
		}
		for p, e := range m.flash {
			if e < msg.gen {
				delete(m.flash, p)
			}
		}
		m.flashGen++
		if len(m.flash) == 0 {
			m.flashPending = false
			break
		}
		return m, flashTick(m.flashGen)
	case tea.KeyPressMsg, tea.PasteMsg, tea.MouseClickMsg, tea.MouseWheelMsg:
		return m.input(msg)
	}
	return m, nil
}

// input handles a key, a paste or the mouse, then links the panes to a
// cursor it moved (link.go).
func (m Model) input(msg tea.Msg) (Model, tea.Cmd) {
	before := m.linkMark()
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if m.Filtering() {
			m, cmd = m.filterUpdate(msg)
		} else {
			m, cmd = m.key(msg)
		}
	case tea.PasteMsg:
		if m.Filtering() {
			m, cmd = m.filterUpdate(msg)
		}
	case tea.MouseClickMsg:
		if !m.cmp.open {
			m.click(msg.Mouse())
		}
	case tea.MouseWheelMsg:
		m.wheel(msg)
	}
	m.follow(before)
	return m, cmd
}

// wheel scrolls the pane under the pointer, or the compare view.
func (m *Model) wheel(msg tea.MouseWheelMsg) {
	if m.cmp.open {
		m.compareWheel(msg.Button)
		return
	}
	d := 3
	if msg.Button == tea.MouseWheelUp {
		d = -3
	} else if msg.Button != tea.MouseWheelDown {
		return
	}
	ms := msg.Mouse()
	if !m.Container() && ms.X < m.leftWidth() {
		switch m.column().at(ms.Y - 1) {
		case sideLayers:
			m.list.scroll(d, len(m.stack.Layers), m.column().layers)
		case sideWasted:
			m.wasted.scroll(d, len(m.stack.Efficiency.Files), m.column().wastedRows())
		}
		return
	}
	m.panes[m.paneAt(ms.X)].scroll(d)
}

func (m Model) key(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch {
	case m.explaining:
		return m.explainKey(msg), nil
	case m.cmp.open:
		return m.compareKey(msg)
	case key.Matches(msg, m.keys.Compare):
		return m, m.openCompare()
	case m.side == sideLayers && m.layerKey(msg):
		return m, nil
	case m.side == sideWasted && m.wastedKey(msg):
		return m, nil
	}
	m.treeKey(msg)
	return m, nil
}

// treeKey handles the keys of the tree panes, and those that apply
// whatever list has the keys: the toggles, the filter, the layer keys.
func (m *Model) treeKey(msg tea.KeyPressMsg) {
	p := &m.panes[m.focus]
	k := m.keys
	switch {
	case key.Matches(msg, k.Explain):
		m.openExplain()
	case key.Matches(msg, k.Up):
		p.move(-1)
	case key.Matches(msg, k.Down):
		p.move(1)
	case key.Matches(msg, k.PageUp):
		p.move(-p.height)
	case key.Matches(msg, k.PageDown):
		p.move(p.height)
	case key.Matches(msg, k.Top):
		p.move(-len(p.rows))
	case key.Matches(msg, k.Bottom):
		p.move(len(p.rows))
	case key.Matches(msg, k.Left):
		p.fold(true, m.opts)
	case key.Matches(msg, k.Right):
		p.fold(false, m.opts)
	case key.Matches(msg, k.Collapse):
		if r, ok := p.selected(); ok {
			p.fold(!p.tree.Folded(r), m.opts)
		}
	case key.Matches(msg, k.NextPane):
		m.cycle(1)
	case key.Matches(msg, k.PrevPane):
		m.cycle(-1)
	case key.Matches(msg, k.Filter):
		m.filter = m.filter.SetValue(m.opts.Filter.String()).Focus()
	case key.Matches(msg, k.Back) && m.opts.Filter != nil:
		m.filter = m.filter.SetValue("")
		m.opts.Filter, m.filterErr = nil, ""
		m.refresh()
	default:
		m.optionKey(msg)
	}
}

// optionKey handles the keys that change what the trees show: the
// toggles, the sort order, the legend and the layer keys.
func (m *Model) optionKey(msg tea.KeyPressMsg) {
	k := m.keys
	switch {
	case key.Matches(msg, k.ChangedOnly):
		m.opts.ChangedOnly = !m.opts.ChangedOnly
		m.refresh()
	case key.Matches(msg, k.Sort):
		m.opts.SortBySize = !m.opts.SortBySize
		m.refresh()
	case key.Matches(msg, k.HideAdded):
		m.toggle(overlay.Added)
	case key.Matches(msg, k.HideModified):
		m.toggle(overlay.Modified)
	case key.Matches(msg, k.HideRemoved):
		m.toggle(overlay.Removed)
	case key.Matches(msg, k.HideUnmodified):
		m.toggle(overlay.Unmodified)
	case key.Matches(msg, k.PrevLayer):
		m.selectLayer(m.layer-1, m.alone)
	case key.Matches(msg, k.NextLayer):
		m.selectLayer(m.layer+1, m.alone)
	case key.Matches(msg, k.Aggregate):
		m.selectLayer(m.layer, !m.alone)
	case key.Matches(msg, k.Legend):
		m.legend = !m.legend
		m.layout()
		m.refresh()
	}
}

// cycle moves the keys to the next pane: for a container, between its
// panes on screen; for an image, from the layer list to the wasted list
// to the tree.
func (m *Model) cycle(d int) {
	if !m.Container() {
		m.side = (m.side + d + 3) % 3
		return
	}
	shown := m.shown()
	at := 0
	for i, p := range shown {
		if p == m.focus {
			at = i
		}
	}
	m.focus = shown[(at+d+len(shown))%len(shown)]
}

func (m *Model) toggle(k overlay.DiffKind) {
	m.opts.Hide = cloneHide(m.opts.Hide)
	m.opts.Hide[k] = !m.opts.Hide[k]
	m.refresh()
}

func cloneHide(h map[overlay.DiffKind]bool) map[overlay.DiffKind]bool {
	out := make(map[overlay.DiffKind]bool, len(h)+1)
	for k, v := range h {
		out[k] = v
	}
	return out
}

func (m Model) paneAt(x int) int {
	if !m.Container() {
		return lowerPane
	}
	shown := m.shown()
	return shown[min(max(x/(m.panes[upperPane].width+2), 0), len(shown)-1)]
}

// click focuses what is under the pointer: a pane's row, or, for an
// image, a layer or a wasted path of the left column.
func (m *Model) click(ms tea.Mouse) {
	if !m.Container() && ms.X < m.leftWidth() {
		m.clickColumn(ms.Y - 1)
		return
	}
	i := m.paneAt(ms.X)
	m.focus, m.side = i, sideNone
	p := &m.panes[i]
	if row := ms.Y - 2; row >= 0 && row < p.height {
		p.cursor = p.offset + row
		p.clamp()
	}
}

// ShortHelp returns the bindings the footer shows for the view.
func (m Model) ShortHelp() []key.Binding {
	k := m.keys
	switch {
	case m.Filtering():
		return []key.Binding{k.Enter, k.Back}
	case m.explaining:
		return []key.Binding{k.Up, k.Down, k.Back}
	case m.cmp.open:
		return []key.Binding{k.Up, k.Down, k.PageDown, k.Back}
	case m.side == sideLayers:
		return []key.Binding{k.NextPane, k.Up, k.Down, k.Aggregate, k.Filter, k.ChangedOnly, k.Legend}
	case m.side == sideWasted:
		return []key.Binding{k.NextPane, k.Up, k.Down, k.Enter, k.Filter}
	}
	b := []key.Binding{k.NextPane, k.Up, k.Down, k.Explain, k.Compare, k.Collapse, k.Filter, k.ChangedOnly, k.Sort, k.Aggregate, k.PrevLayer, k.NextLayer}
	return append(b, k.Legend, k.HideAdded, k.HideModified, k.HideRemoved, k.HideUnmodified)
}
