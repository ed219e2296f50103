// Package text is a scrolling pane of text — logs, inspect output, image
// history and config, file previews — with control characters made
// visible and only the lines on screen drawn.
package text

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// Model is the pane.
type Model struct {
	keys          keys.Map
	th            theme.Theme
	lines         []string
	partial       string // a last line still being written
	offset        int
	follow        bool // stay at the bottom as lines arrive
	width, height int
}

// New returns an empty pane.
func New(th theme.Theme, km keys.Map) Model { return Model{th: th, keys: km} }

// Init does nothing.
func (m Model) Init() tea.Cmd { return nil }

// SetText replaces the content and scrolls to the top.
func (m Model) SetText(s string) Model {
	m.lines, m.partial, m.offset = nil, "", 0
	return m.Append(s)
}

// SetFollow keeps the pane at its bottom as text arrives.
func (m Model) SetFollow(f bool) Model {
	m.follow = f
	if f {
		m.offset = m.maxOffset()
	}
	return m
}

// Append adds text at the end; a last line without a newline waits for
// the rest of it.
func (m Model) Append(s string) Model {
	s = m.partial + s
	parts := strings.Split(s, "\n")
	m.partial = parts[len(parts)-1]
	for _, p := range parts[:len(parts)-1] {
		m.lines = append(m.lines, clean(p))
	}
	if m.follow {
		m.offset = m.maxOffset()
	}
	return m
}

// Len returns the number of lines.
func (m Model) Len() int { return len(m.lines) + min(len(m.partial), 1) }

// SetSize gives the pane w×h cells.
func (m Model) SetSize(w, h int) Model {
	m.width, m.height = max(w, 1), max(h, 1)
	m.offset = min(m.offset, m.maxOffset())
	return m
}

func (m Model) maxOffset() int { return max(m.Len()-m.height, 0) }

// Update scrolls on keys and the mouse wheel.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		k := m.keys
		switch {
		case key.Matches(msg, k.Up):
			m.offset--
		case key.Matches(msg, k.Down):
			m.offset++
		case key.Matches(msg, k.PageUp):
			m.offset -= m.height
		case key.Matches(msg, k.PageDown):
			m.offset += m.height
		case key.Matches(msg, k.Top):
			m.offset = 0
		case key.Matches(msg, k.Bottom):
			m.offset = m.maxOffset()
		}
	case tea.MouseWheelMsg:
		if msg.Button == tea.MouseWheelUp {
			m.offset -= 3
		} else {
			m.offset += 3
		}
	}
	m.offset = max(min(m.offset, m.maxOffset()), 0)
	return m, nil
}

// View draws the visible lines, each cut to the width.
func (m Model) View() string {
	var b strings.Builder
	for i := m.offset; i < m.offset+m.height && i < m.Len(); i++ {
		if i > m.offset {
			b.WriteByte('\n')
		}
		l := m.partial
		if i < len(m.lines) {
			l = m.lines[i]
		} else {
			l = clean(l)
		}
		b.WriteString(theme.Fit(l, m.width))
	}
	return b.String()
}

// clean makes a line of output safe to print: tabs become spaces, a
// trailing carriage return goes, other control characters are shown.
func clean(l string) string {
	return human.Visible(strings.ReplaceAll(strings.TrimSuffix(l, "\r"), "\t", "    "))
}
