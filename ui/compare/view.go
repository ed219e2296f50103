package compare

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// Model shows a Doc in a frame: a head that stays (the two sides, the
// message, the summary) over a body that scrolls (the diff, the hex rows,
// the entries).
type Model struct {
	th   theme.Theme
	keys keys.Map
	doc  Doc
	top  int // the body's first row on screen
	w, h int // inside the frame
}

// New returns the view of d.
func New(th theme.Theme, km keys.Map, d Doc) Model { return Model{th: th, keys: km, doc: d} }

// SetSize gives the view w×h cells inside its frame.
func (m Model) SetSize(w, h int) Model {
	m.w, m.h = w, h
	m.top = m.clampTop(m.top)
	return m
}

// SetDoc shows d in place of the comparison shown, keeping the scroll:
// the same comparison made again after a change.
func (m Model) SetDoc(d Doc) Model {
	m.doc = d
	m.top = m.clampTop(m.top)
	return m
}

// Scroll moves the body n rows down, or up for n < 0.
func (m Model) Scroll(n int) Model {
	m.top = m.clampTop(m.top + n)
	return m
}

// Update scrolls the body.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	page := max(m.bodyHeight()-1, 1)
	switch {
	case key.Matches(k, m.keys.Up):
		m.top--
	case key.Matches(k, m.keys.Down):
		m.top++
	case key.Matches(k, m.keys.PageUp):
		m.top -= page
	case key.Matches(k, m.keys.PageDown):
		m.top += page
	case key.Matches(k, m.keys.Top):
		m.top = 0
	case key.Matches(k, m.keys.Bottom):
		m.top = m.rows()
	}
	m.top = m.clampTop(m.top)
	return m, nil
}

func (m Model) clampTop(t int) int { return max(min(t, m.rows()-m.bodyHeight()), 0) }

// View draws the frame and what fits in it; only the rows on screen are
// styled.
func (m Model) View() string {
	title := "compare " + human.Visible(m.doc.in.Path)
	if m.rows() > m.bodyHeight() {
		title += fmt.Sprintf(" · %d/%d ↑↓", m.top+1, m.rows())
	}
	lines := m.head()
	end := min(m.top+m.bodyHeight(), m.rows())
	for i := m.top; i < end; i++ {
		lines = append(lines, m.row(i))
	}
	return m.th.Box(title+" · esc closes", strings.Join(lines, "\n"), m.w, m.h, true)
}

// head is the lines over the body: each side, the message, what could
// not be read, the summary, and the hex view's column names.
func (m Model) head() []string {
	in := m.doc.in
	nw := max(len(in.Lower.Name), len(in.Upper.Name))
	side := func(s Side) string {
		return m.th.Bold.Render(fmt.Sprintf("%-*s", nw, s.Name)) + "  " + s.Label + " · " + s.What
	}
	out := []string{side(in.Lower), side(in.Upper)}
	// The message and the errors are one line each where they fit; a
	// narrow screen wraps them rather than cut what they say.
	wrap := func(st lipgloss.Style, text string) {
		for _, l := range strings.Split(ansi.Wordwrap(text, max(m.w, 1), ""), "\n") {
			out = append(out, st.Render(l))
		}
	}
	if in.Message != "" {
		wrap(m.th.Warn, in.Message)
	}
	for _, s := range []Side{in.Lower, in.Upper} {
		if s.Err != nil {
			wrap(m.th.Error, "cannot read the "+s.Name+" version: "+human.Line(s.Err.Error()))
		}
	}
	if m.doc.summary != "" {
		out = append(out, m.th.Subtle.Render(m.doc.summary))
	}
	if m.doc.body == hexBody && m.doc.at >= 0 {
		sw := m.sideWidth()
		out = append(out, "", theme.Fit(m.th.Bold.Render(in.Lower.Name), sw)+" │ "+m.th.Bold.Render(in.Upper.Name))
	} else if m.rows() > 0 {
		out = append(out, "")
	}
	for i := range out {
		out[i] = theme.Fit(out[i], m.w)
	}
	return out
}

func (m Model) bodyHeight() int { return max(m.h-len(m.head()), 1) }

// sideWidth is the cells of one side of the hex view.
func (m Model) sideWidth() int { return max((m.w-3)/2, 1) }

// rows is how many rows the body has at this width.
func (m Model) rows() int {
	switch m.doc.body {
	case textBody:
		return len(m.doc.lines)
	case dirBody:
		return max(len(m.doc.in.Entries), 1)
	case hexBody:
		if m.doc.at < 0 {
			return 0
		}
		s0, n := m.hexStart()
		last := min(max(len(m.doc.in.Lower.Data), len(m.doc.in.Upper.Data)), m.doc.at+hexWindow)
		return (last-s0)/n + 1
	}
	return 0
}

// hexStart is the offset of the hex view's first row, one row before the
// row of the first difference, and the bytes of a row.
func (m Model) hexStart() (int, int) {
	n := hexWidth(m.sideWidth())
	s0 := m.doc.at / n * n
	if s0 >= n {
		s0 -= n
	}
	return s0, n
}

// row draws row i of the body.
func (m Model) row(i int) string {
	switch m.doc.body {
	case textBody:
		return m.textRow(m.doc.lines[i])
	case dirBody:
		es := m.doc.in.Entries
		if len(es) == 0 {
			return m.th.Subtle.Render("no entry added, removed or changed")
		}
		e := es[i]
		return theme.Fit(m.th.Kind[e.Kind].Render(theme.Marker(e.Kind)+" "+human.Visible(e.Name))+"  "+m.th.Subtle.Render(e.Note), m.w)
	case hexBody:
		s0, n := m.hexStart()
		off := s0 + i*n
		lo, up := m.doc.in.Lower.Data, m.doc.in.Upper.Data
		hl := m.th.Kind[overlay.Modified]
		sw := m.sideWidth()
		return theme.Fit(theme.Fit(hexRow(lo, up, off, n, m.th.Subtle, hl), sw)+" │ "+hexRow(up, lo, off, n, m.th.Subtle, hl), m.w)
	}
	return ""
}

// textRow draws a line of the unified diff: both line numbers, then the
// line marked and coloured by what happened to it.
func (m Model) textRow(l Line) string {
	if l.Kind == Header {
		return theme.Fit(m.th.Key.Render(l.Text), m.w)
	}
	num := func(n int) string {
		if n == 0 {
			return strings.Repeat(" ", m.doc.numW)
		}
		return fmt.Sprintf("%*d", m.doc.numW, n)
	}
	nums := m.th.Subtle.Render(num(l.A) + " " + num(l.B) + " │ ")
	line := "  " + l.Text
	switch l.Kind {
	case Removed:
		line = m.th.Error.Render("- " + l.Text)
	case Added:
		line = m.th.Kind[overlay.Added].Render("+ " + l.Text)
	}
	if l.NoEOL {
		line += m.th.Subtle.Render(" ⏎ no newline at end")
	}
	return theme.Fit(nums+line, m.w)
}
