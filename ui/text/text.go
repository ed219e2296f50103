// Package text is a scrolling pane of text — logs, inspect output, image
// history and config, file previews — with control characters made
// visible, carriage returns drawn as a terminal draws them, a search
// (/, n, N) that marks its matches, and only the lines on screen drawn.
package text

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/internal/human"
	"minidocker/ui/input"
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
	find          search
}

// New returns an empty pane.
func New(th theme.Theme, km keys.Map) Model {
	return Model{th: th, keys: km, find: search{line: input.New(th, "text to find")}}
}

// Init does nothing.
func (m Model) Init() tea.Cmd { return nil }

// SetText replaces the content and scrolls to the top.
func (m Model) SetText(s string) Model {
	m.lines, m.partial, m.offset = nil, "", 0
	m.find.hits, m.find.cur = nil, 0
	return m.Append(s)
}

// SetFollow keeps the pane at its bottom as text arrives, unless it was
// scrolled up from there.
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
	bottom := m.offset >= m.maxOffset()
	s = m.partial + s
	parts := strings.Split(s, "\n")
	m.partial = parts[len(parts)-1]
	for _, p := range parts[:len(parts)-1] {
		l := clean(p)
		if m.find.query != "" && m.find.matches(l) {
			m.find.hits = append(m.find.hits, len(m.lines))
		}
		m.lines = append(m.lines, l)
	}
	if m.follow && bottom {
		m.offset = m.maxOffset()
	}
	return m
}

// Len returns the number of lines.
func (m Model) Len() int { return len(m.lines) + min(len(m.partial), 1) }

// SetSize gives the pane w×h cells.
func (m Model) SetSize(w, h int) Model {
	m.width, m.height = max(w, 1), max(h, 1)
	m.find.line = m.find.line.SetWidth(max(m.width-20, 4))
	m.offset = min(m.offset, m.maxOffset())
	return m
}

// rows is the height left for the text under the search line.
func (m Model) rows() int { return max(m.height-m.find.height(), 1) }

func (m Model) maxOffset() int { return max(m.Len()-m.rows(), 0) }

// Update scrolls on keys and the mouse wheel, and searches once
// SetSearch turned the search on.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	if m.find.line.Focused() {
		return m.searchUpdate(msg)
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		k := m.keys
		switch {
		case m.find.on && key.Matches(msg, k.Search):
			m.find.line = m.find.line.Focus()
		case m.find.query != "" && key.Matches(msg, k.NextMatch):
			m = m.jump(1)
		case m.find.query != "" && key.Matches(msg, k.PrevMatch):
			m = m.jump(-1)
		case m.find.query != "" && key.Matches(msg, k.Back):
			m.find = m.find.clear()
		case key.Matches(msg, k.Up):
			m.offset--
		case key.Matches(msg, k.Down):
			m.offset++
		case key.Matches(msg, k.PageUp):
			m.offset -= m.rows()
		case key.Matches(msg, k.PageDown):
			m.offset += m.rows()
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

// View draws the visible lines, each cut to the width, the matches of the
// search marked, and the search line under them.
func (m Model) View() string {
	rows := m.rows()
	cur := -1
	if len(m.find.hits) > 0 {
		cur = m.find.hits[m.find.cur]
	}
	var out []string
	for i := m.offset; i < m.offset+rows && i < m.Len(); i++ {
		l := m.partial
		if i < len(m.lines) {
			l = m.lines[i]
		} else {
			l = clean(l)
		}
		out = append(out, m.find.mark(m.th, theme.Fit(l, m.width), i == cur))
	}
	if m.find.height() > 0 {
		for len(out) < rows {
			out = append(out, "")
		}
		out = append(out, theme.Fit(m.find.view(m.th), m.width))
	}
	return strings.Join(out, "\n")
}

// clean makes a line of output safe to print as a terminal would show it:
// what follows a carriage return writes over the line from its start
// (a progress counter shows its last state), tabs become spaces, and
// other control characters are shown as escapes. A backslash is the
// program's own and shows once.
func clean(l string) string {
	return human.Line(strings.ReplaceAll(overwrite(l), "\t", "    "))
}

// overwrite applies the carriage returns of l: each part after one is
// written over the line from column 0, cell by cell, as a terminal does,
// so "50%\r100%" reads "100%", "abcdef\rXY" reads "XYcdef", and a wide
// character half overwritten leaves a blank.
func overwrite(l string) string {
	if !strings.Contains(l, "\r") {
		return l
	}
	var cells []rune // one a cell; rightHalf marks the second of a wide rune
	for _, part := range strings.Split(l, "\r") {
		col := 0
		for _, r := range part {
			w := 1
			if ansi.StringWidth(string(r)) == 2 {
				w = 2
			}
			cells = put(cells, col, r, w)
			col += w
		}
	}
	var b strings.Builder
	for _, c := range cells {
		if c != rightHalf {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// rightHalf marks the cell a wide rune's second half takes.
const rightHalf = -1

// put writes r, w cells wide, at col, blanking what it leaves of a wide
// rune it overwrites in part.
func put(cells []rune, col int, r rune, w int) []rune {
	for len(cells) < col+w {
		cells = append(cells, ' ')
	}
	if cells[col] == rightHalf {
		cells[col-1] = ' '
	}
	if end := col + w; end < len(cells) && cells[end] == rightHalf {
		cells[end] = ' '
	}
	cells[col] = r
	if w == 2 {
		cells[col+1] = rightHalf
	}
	return cells
}
