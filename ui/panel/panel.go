// Package panel is a titled side list, as lazydocker's panels: one line an
// item, a cursor, scrolling that draws only the lines on screen.
package panel

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/input"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// Item is one line of a panel: its text, already safe to print, and a
// short label the main panel keys on.
type Item struct {
	ID    string
	Text  string
	Faint bool
	// Tail keeps the end of a text too long for the panel (a path)
	// rather than its start.
	Tail bool
}

// Model is one panel.
type Model struct {
	keys           keys.Map
	th             theme.Theme
	Title          string
	Number         int
	all            []Item // every item; items are those the filter keeps
	items          []Item
	filter         input.Model
	empty          string
	cursor, offset int
	width, height  int // inside the frame
	focused        bool
}

// New returns an empty panel titled title, jumped to with number.
func New(th theme.Theme, km keys.Map, number int, title, empty string) Model {
	return Model{th: th, keys: km, Title: title, Number: number, empty: empty, filter: input.New(th, "")}
}

// Init does nothing.
func (m Model) Init() tea.Cmd { return nil }

// SetItems replaces the items, keeping the cursor on the same ID.
func (m Model) SetItems(items []Item) Model {
	m.all = items
	return m.apply()
}

// apply keeps the items whose text holds the filter, case-insensitively,
// and the cursor on the same ID.
func (m Model) apply() Model {
	id := ""
	if it, ok := m.Selected(); ok {
		id = it.ID
	}
	m.items = m.all
	if f := strings.ToLower(m.filter.Value()); f != "" {
		m.items = nil
		for _, it := range m.all {
			if strings.Contains(strings.ToLower(it.Text), f) {
				m.items = append(m.items, it)
			}
		}
	}
	for i, it := range m.items {
		if it.ID == id {
			m.cursor = i
		}
	}
	m.clamp()
	return m
}

// Filtering reports whether the filter line takes the keys.
func (m Model) Filtering() bool { return m.filter.Focused() }

// HasFilter reports whether a filter is set.
func (m Model) HasFilter() bool { return m.filter.Value() != "" }

// Filter returns the filter's text.
func (m Model) Filter() string { return m.filter.Value() }

// SetSize gives the panel w×h cells, frame included.
func (m Model) SetSize(w, h int) Model {
	m.width, m.height = max(w-2, 1), max(h-2, 0)
	// The filter shares the title line with "[n] Title /" and a count.
	m.filter = m.filter.SetWidth(max(m.width-len(m.Title)-16, 4))
	m.clamp()
	return m
}

// Selected returns the item under the cursor.
func (m Model) Selected() (Item, bool) {
	if m.cursor < 0 || m.cursor >= len(m.items) {
		return Item{}, false
	}
	return m.items[m.cursor], true
}

// Select puts the cursor on the item id, dropping a filter that hides
// it; ok is false when no item is id.
func (m Model) Select(id string) (Model, bool) {
	is := func(it Item) bool { return it.ID == id }
	if !slices.ContainsFunc(m.all, is) {
		return m, false
	}
	if !slices.ContainsFunc(m.items, is) {
		m.filter = m.filter.SetValue("").Blur()
		m = m.apply()
	}
	m.cursor = slices.IndexFunc(m.items, is)
	m.clamp()
	return m, true
}

// Len returns the number of items.
func (m Model) Len() int { return len(m.items) }

func (m *Model) clamp() {
	m.cursor = max(min(m.cursor, len(m.items)-1), 0)
	h := max(m.height, 1)
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(min(m.offset, len(m.items)-h), 0)
}

// Update moves the cursor on keys and clicks; y of a click is relative to
// the panel's top edge.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	if m.filter.Focused() {
		return m.filterUpdate(msg)
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		k := m.keys
		switch {
		case key.Matches(msg, k.Filter):
			m.filter = m.filter.Focus()
		case key.Matches(msg, k.Back) && m.HasFilter():
			m.filter = m.filter.SetValue("")
			return m.apply(), nil
		case key.Matches(msg, k.Up):
			m.cursor--
		case key.Matches(msg, k.Down):
			m.cursor++
		case key.Matches(msg, k.PageUp):
			m.cursor -= max(m.height, 1)
		case key.Matches(msg, k.PageDown):
			m.cursor += max(m.height, 1)
		case key.Matches(msg, k.Top):
			m.cursor = 0
		case key.Matches(msg, k.Bottom):
			m.cursor = len(m.items) - 1
		}
	case tea.MouseClickMsg:
		if row := msg.Y - 1; row >= 0 && row < m.height {
			m.cursor = m.offset + row
		}
	case tea.MouseWheelMsg:
		if msg.Button == tea.MouseWheelUp {
			m.cursor--
		} else {
			m.cursor++
		}
	}
	m.clamp()
	return m, nil
}

// filterUpdate edits the filter line: enter keeps the filter, esc drops
// it, anything else (keys, pastes) goes to the input.
func (m Model) filterUpdate(msg tea.Msg) (Model, tea.Cmd) {
	k, isKey := msg.(tea.KeyPressMsg)
	switch {
	case isKey && key.Matches(k, m.keys.Back):
		m.filter = m.filter.SetValue("").Blur()
	case isKey && key.Matches(k, m.keys.Enter):
		m.filter = m.filter.Blur()
	case isKey, isPaste(msg):
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		return m.apply(), cmd
	default:
		return m, nil
	}
	return m.apply(), nil
}

func isPaste(msg tea.Msg) bool {
	_, ok := msg.(tea.PasteMsg)
	return ok
}

// SetFocus says whether the panel has the keys; it is then framed in the
// accent colour.
func (m Model) SetFocus(f bool) Model { m.focused = f; return m }

// View draws the panel.
func (m Model) View() string {
	focused := m.focused
	var b strings.Builder
	switch {
	case len(m.items) == 0 && m.HasFilter():
		b.WriteString(m.th.Warn.Render(theme.Fit("nothing matches \""+human.Visible(m.filter.Value())+"\"", m.width)))
	case len(m.items) == 0:
		b.WriteString(m.th.Subtle.Render(m.empty))
	}
	end := min(m.offset+m.height, len(m.items))
	for i := m.offset; i < end; i++ {
		if i > m.offset {
			b.WriteByte('\n')
		}
		it := m.items[i]
		text := it.Text
		if it.Tail {
			text = theme.Tail(text, m.width)
		}
		line := theme.Fit(text, m.width)
		switch {
		case i == m.cursor && focused:
			line = m.th.Selected.Render(line)
		case i == m.cursor:
			line = m.th.SelectedBlur.Render(line)
		case it.Faint:
			line = m.th.Subtle.Render(line)
		}
		b.WriteString(line)
	}
	title := fmt.Sprintf("[%d] %s", m.Number, m.Title)
	if m.Filtering() || m.HasFilter() {
		title += " /" + m.filter.View()
	}
	if len(m.items) > m.height && m.height > 0 {
		title += fmt.Sprintf(" %d/%d", m.cursor+1, len(m.items))
	}
	return m.th.Box(title, b.String(), m.width, m.height, focused)
}
