package text

import (
	"fmt"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/ui/input"
	"minidocker/ui/theme"
)

// search is the pane's search: the line its text is typed on, the text,
// and the lines that hold it, ignoring case.
type search struct {
	on    bool // the pane takes / n N
	line  input.Model
	query string
	fold  []rune // query, lowered
	hits  []int  // lines holding it, in order
	cur   int    // the hit n and N are on
}

// SetSearch lets / search the pane, n and N move between the matches,
// and esc drop the search.
func (m Model) SetSearch(on bool) Model { m.find.on = on; return m }

// Searching reports whether the search line takes the keys.
func (m Model) Searching() bool { return m.find.line.Focused() }

// UsesBack reports whether esc means something to the pane: it drops the
// search.
func (m Model) UsesBack() bool { return m.find.query != "" || m.Searching() }

// Query returns the text searched for and the number of lines holding it.
func (m Model) Query() (string, int) { return m.find.query, len(m.find.hits) }

// searchUpdate edits the search line: each change searches again from the
// line on top, enter keeps the search, esc drops it.
func (m Model) searchUpdate(msg tea.Msg) (Model, tea.Cmd) {
	k, isKey := msg.(tea.KeyPressMsg)
	switch {
	case isKey && key.Matches(k, m.keys.Back):
		m.find = m.find.clear()
		return m, nil
	case isKey && key.Matches(k, m.keys.Enter):
		m.find.line = m.find.line.Blur()
		return m, nil
	}
	var cmd tea.Cmd
	m.find.line, cmd = m.find.line.Update(msg)
	if v := m.find.line.Value(); v != m.find.query {
		m = m.research(v)
	}
	return m, cmd
}

// research searches for q and shows the first line holding it at or
// below the top of the pane.
func (m Model) research(q string) Model {
	m.find.query, m.find.fold, m.find.hits, m.find.cur = q, fold(q), nil, 0
	if q == "" {
		return m
	}
	for i, l := range m.lines {
		if m.find.matches(l) {
			m.find.hits = append(m.find.hits, i)
		}
	}
	for i, h := range m.find.hits {
		if h >= m.offset {
			m.find.cur = i
			break
		}
	}
	return m.show()
}

// jump moves to the next (+1) or previous (-1) hit, round the end.
func (m Model) jump(by int) Model {
	if n := len(m.find.hits); n > 0 {
		m.find.cur = (m.find.cur + by + n) % n
	}
	return m.show()
}

// show scrolls so that the current hit is on screen, a third down.
func (m Model) show() Model {
	if len(m.find.hits) == 0 {
		return m
	}
	h := m.find.hits[m.find.cur]
	if h < m.offset || h >= m.offset+m.rows() {
		m.offset = h - m.rows()/3
	}
	m.offset = max(min(m.offset, m.maxOffset()), 0)
	return m
}

func (s search) clear() search {
	s.line = s.line.SetValue("").Blur()
	s.query, s.fold, s.hits, s.cur = "", nil, nil, 0
	return s
}

// height is the lines the search takes under the text.
func (s search) height() int {
	if s.line.Focused() || s.query != "" {
		return 1
	}
	return 0
}

func (s search) matches(l string) bool { return len(index(l, s.fold)) > 0 }

// view is the search line: what is typed, and how many lines hold it.
func (s search) view(th theme.Theme) string {
	count := th.Subtle.Render(fmt.Sprintf("  %d lines", len(s.hits)))
	switch {
	case s.query == "":
		count = ""
	case len(s.hits) == 0:
		count = th.Warn.Render("  not found")
	case len(s.hits) == 1:
		count = th.Subtle.Render("  1 line")
	case !s.line.Focused():
		count = th.Subtle.Render(fmt.Sprintf("  %d/%d lines", s.cur+1, len(s.hits)))
	}
	text := s.line.View()
	if !s.line.Focused() {
		text = s.query
	}
	return th.Key.Render("/") + text + count
}

// mark draws l with the matches of the search marked: the current line's
// in MatchCurrent, the others' in Match.
func (s search) mark(th theme.Theme, l string, current bool) string {
	spans := index(l, s.fold)
	if len(spans) == 0 {
		return l
	}
	st := th.Match
	if current {
		st = th.MatchCurrent
	}
	r := []rune(l)
	var b strings.Builder
	at := 0
	for _, sp := range spans {
		b.WriteString(string(r[at:sp]))
		b.WriteString(st.Render(string(r[sp : sp+len(s.fold)])))
		at = sp + len(s.fold)
	}
	b.WriteString(string(r[at:]))
	return b.String()
}

// index returns where q starts in l, in runes, ignoring case; matches do
// not overlap.
func index(l string, q []rune) []int {
	if len(q) == 0 {
		return nil
	}
	r := fold(l)
	var out []int
	for i := 0; i+len(q) <= len(r); {
		if equal(r[i:i+len(q)], q) {
			out = append(out, i)
			i += len(q)
			continue
		}
		i++
	}
	return out
}

func equal(a, b []rune) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fold lowers every rune, one for one, so indexes stay those of s.
func fold(s string) []rune {
	r := []rune(s)
	for i, c := range r {
		r[i] = unicode.ToLower(c)
	}
	return r
}
