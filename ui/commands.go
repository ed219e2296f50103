package ui

import (
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/keys"
	"minidocker/ui/palette"
)

// The kinds of the palette's items.
const (
	itemAction    = "action"
	itemContainer = "container"
	itemImage     = "image"
)

// manageMsg takes the answers of the palette and the ends of container
// actions.
func (m Model) manageMsg(msg tea.Msg) (tea.Model, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case palette.DoneMsg:
		m.palette = nil
		if !msg.OK {
			return m, nil, true
		}
		m2, cmd := m.choose(msg.Item)
		return m2, cmd, true
	case ctrDoneMsg:
		m2, cmd := m.ctrDone(msg)
		return m2, cmd, true
	}
	return m, nil, false
}

// openPalette opens the command palette over the actions that apply where
// it is opened, then every container and image by name.
func (m Model) openPalette() Model {
	var items []palette.Item
	for _, b := range m.paletteActions() {
		items = append(items, palette.Item{Kind: itemAction, Text: b.Help().Desc, Hint: b.Help().Key, ID: b.Keys()[0]})
	}
	for _, c := range m.containers {
		state, _ := m.stateOf(c.ID)
		items = append(items, palette.Item{Kind: itemContainer, Text: human.Visible(c.Name), Hint: state, ID: c.ID})
	}
	for _, img := range m.images {
		names := img.Names
		if len(names) == 0 {
			names = []string{"<none>"}
		}
		for _, n := range names {
			items = append(items, palette.Item{Kind: itemImage, Text: human.Visible(n), Hint: img.ShortID, ID: img.ID})
		}
	}
	p := palette.New(m.th, m.keys, items).SetSize(m.width, m.height)
	m.palette = &p
	return m
}

// paletteActions are the bindings the footer offers here, with the
// container's actions in its view, less the moves of the cursor, which
// mean nothing from a list.
func (m Model) paletteActions() []key.Binding {
	k := m.keys
	head, tail := m.footerKeys()
	all := slices.Concat(head, tail)
	if m.detail != nil && m.detail.kind == kindContainer {
		all = append(append(all, m.detail.lifecycle()...), k.Exec, k.Commit)
	}
	skip := []key.Binding{k.Up, k.Down, k.Left, k.Right, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Jump, k.Palette}
	var out []key.Binding
	seen := map[key.Help]bool{}
	for _, b := range all {
		if !b.Enabled() || len(b.Keys()) == 0 || seen[b.Help()] || sameAny(b, skip) {
			continue
		}
		seen[b.Help()] = true
		out = append(out, b)
	}
	return out
}

func sameAny(b key.Binding, list []key.Binding) bool {
	for _, o := range list {
		if o.Help() == b.Help() {
			return true
		}
	}
	return false
}

// choose acts on the palette's choice: an action presses its key where
// the palette was opened; a container or an image opens.
func (m Model) choose(it palette.Item) (tea.Model, tea.Cmd) {
	switch it.Kind {
	case itemAction:
		return m.key(keys.Press(it.ID))
	case itemContainer:
		return m.openItem(containersPanel, it.ID)
	case itemImage:
		return m.openItem(imagesPanel, it.ID)
	}
	return m, nil
}

// openItem opens the item id of panel p, from wherever the UI is: the
// opened item closes first.
func (m Model) openItem(p int, id string) (Model, tea.Cmd) {
	if m.detail != nil {
		m.detail.close()
		m.detail = nil
	}
	m = m.focusPanel(p)
	var ok bool
	if m.panels[p], ok = m.panels[p].Select(id); !ok {
		m.status = "error: it is gone"
		return m, nil
	}
	m.main = m.main.SetText(m.mainText())
	return m.open()
}
