package layers

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/internal/human"
)

// The explain panel: on a key, the selected path's cause told at length in
// a box over the panes (overlay.Cause.Explain: what happened and which
// commands do it, the rule and its section, both forms of a whiteout or an
// opaque directory, what docker diff lists). The arrows scroll it; esc or
// the key again closes it.

// Explaining reports whether the explain panel is open; esc then closes it.
func (m Model) Explaining() bool { return m.explaining }

// UsesBack reports whether esc means something to the view: closing the
// explain panel or the compare view, or clearing the filter.
func (m Model) UsesBack() bool { return m.explaining || m.cmp.open || m.HasFilter() }

// openExplain opens the panel on the selected path, if any.
func (m *Model) openExplain() {
	if _, ok := m.Selected(); ok {
		m.explaining, m.explainTop = true, 0
	}
}

// explainKey handles a key while the panel is open.
func (m Model) explainKey(msg tea.KeyPressMsg) Model {
	k := m.keys
	switch {
	case key.Matches(msg, k.Back, k.Explain):
		m.explaining = false
	case key.Matches(msg, k.Up):
		m.explainTop = max(m.explainTop-1, 0)
	case key.Matches(msg, k.Down):
		m.explainTop++
	case key.Matches(msg, k.Top):
		m.explainTop = 0
	}
	return m
}

// explainView draws the panel in w×h inner cells.
func (m Model) explainView(w, h int) string {
	n, ok := m.Selected()
	if !ok {
		return m.th.Box("explain", "Nothing selected.", w, h, true)
	}
	lines := m.explainLines(w)
	top := min(m.explainTop, max(len(lines)-h, 0))
	end := min(top+h, len(lines))
	title := "explain " + human.Visible(n.Path)
	if len(lines) > h {
		title += " · ↑↓ scroll"
	}
	return m.th.Box(title+" · esc closes", strings.Join(lines[top:end], "\n"), w, h, true)
}

// explainLines is the panel's text wrapped to w cells.
func (m Model) explainLines(w int) []string {
	n, _ := m.Selected()
	c, ok := m.causeOf(n)
	lines := []string{m.th.Bold.Render(ansi.Truncate(m.what(n, c), w, "…"))}
	if !ok {
		return append(lines, "", "No cause is known for this entry: it comes from "+m.layerName(n.Layer)+".")
	}
	head := "cause: " + c.Kind.String() + " · difference: " + diffText(c.Diff)
	if c.Image {
		head += " · " + m.layerName(n.Layer)
	}
	lines = append(lines, head, "")
	for _, p := range c.Explain() {
		lines = append(lines, strings.Split(ansi.Wordwrap(p, w, ""), "\n")...)
		lines = append(lines, "")
	}
	return lines
}
