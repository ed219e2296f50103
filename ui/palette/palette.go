// Package palette is the command palette, as k9s's ":" prompt: one line
// to type into and the actions and items it matches, ranked by a fuzzy
// match that highlights the letters it used. Enter answers with the
// chosen item; esc closes it.
package palette

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/ui/input"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// Item is one line of the palette.
type Item struct {
	// Kind says what it is ("action", "container", "image"), shown
	// before it and matched with it.
	Kind string
	// Text is what it is called, already safe to print, and what the
	// typed text is matched against.
	Text string
	// Hint is shown after it, faint: an action's key, a container's state.
	Hint string
	// ID names it to whoever opened the palette.
	ID string
}

// DoneMsg is the palette's answer: the chosen item, or OK false when it
// was closed without one.
type DoneMsg struct {
	Item Item
	OK   bool
}

// Model is the open palette.
type Model struct {
	th      theme.Theme
	keys    keys.Map
	input   input.Model
	items   []Item
	shown   []hit
	cursor  int
	offset  int
	width   int // of the box, border included
	rows    int // of items on screen
	lastVal string
}

// hit is an item the typed text matches, and where.
type hit struct {
	item  Item
	score int
	pos   []int // runes of item.Text the match used
}

// New opens the palette over items, in the order given while nothing is
// typed.
func New(th theme.Theme, km keys.Map, items []Item) Model {
	m := Model{th: th, keys: km, items: items, input: input.New(th, "an action, a container or an image").Focus()}
	return m.filter().SetSize(80, 24)
}

// SetSize fits the palette to a w×h screen.
func (m Model) SetSize(w, h int) Model {
	m.width = max(min(w-4, 76), 24)
	// The frame, the title, the input, a blank line and the keys line.
	m.rows = max(min(h-8, 12), 1)
	m.input = m.input.SetWidth(m.width - 6)
	return m.clamp()
}

// Init does nothing.
func (m Model) Init() tea.Cmd { return nil }

// Update edits the typed text, moves the cursor, and answers on enter or
// esc.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, isKey := msg.(tea.KeyPressMsg)
	switch {
	case isKey && key.Matches(k, m.keys.Back):
		return m, answer(Item{}, false)
	case isKey && key.Matches(k, m.keys.Enter):
		if m.cursor < len(m.shown) {
			return m, answer(m.shown[m.cursor].item, true)
		}
		return m, nil
	// Letters are typed: only arrows and tab move the cursor.
	case isKey && (k.Code == tea.KeyDown || key.Matches(k, m.keys.NextPane)):
		m.cursor++
		return m.clamp(), nil
	case isKey && (k.Code == tea.KeyUp || key.Matches(k, m.keys.PrevPane)):
		m.cursor--
		return m.clamp(), nil
	case isKey && (k.Code == tea.KeyPgDown || k.Code == tea.KeyPgUp):
		if k.Code == tea.KeyPgDown {
			m.cursor += m.rows
		} else {
			m.cursor -= m.rows
		}
		return m.clamp(), nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if m.input.Value() != m.lastVal {
		m = m.filter()
	}
	return m, cmd
}

func answer(it Item, ok bool) tea.Cmd {
	return func() tea.Msg { return DoneMsg{Item: it, OK: ok} }
}

// filter ranks the items the typed text matches, best first; ties keep
// the given order.
func (m Model) filter() Model {
	q := strings.TrimSpace(m.input.Value())
	m.lastVal = m.input.Value()
	m.shown = m.shown[:0:0]
	for _, it := range m.items {
		if s, pos, ok := match(q, it); ok {
			m.shown = append(m.shown, hit{it, s, pos})
		}
	}
	slices.SortStableFunc(m.shown, func(a, b hit) int { return cmp.Compare(b.score, a.score) })
	m.cursor, m.offset = 0, 0
	return m.clamp()
}

// match matches q against an item's text, or, when q has a space,
// against its kind and text ("image base", "c web"): letters scattered
// over "action" would match too much.
func match(q string, it Item) (int, []int, bool) {
	if s, pos, ok := Match(q, it.Text); ok || !strings.Contains(q, " ") {
		return s, pos, ok
	}
	whole := it.Kind + " " + it.Text
	s, pos, ok := Match(q, whole)
	if !ok {
		return 0, nil, false
	}
	// Only the letters in the text are highlighted.
	skip := len([]rune(it.Kind)) + 1
	var in []int
	for _, p := range pos {
		if p >= skip {
			in = append(in, p-skip)
		}
	}
	return s, in, true
}

func (m Model) clamp() Model {
	m.cursor = max(min(m.cursor, len(m.shown)-1), 0)
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+m.rows {
		m.offset = m.cursor - m.rows + 1
	}
	return m
}

// Selected returns the item under the cursor.
func (m Model) Selected() (Item, bool) {
	if m.cursor >= len(m.shown) {
		return Item{}, false
	}
	return m.shown[m.cursor].item, true
}

// Len returns the number of items the typed text matches.
func (m Model) Len() int { return len(m.shown) }

// View draws the palette's box.
func (m Model) View() string {
	inner := m.width - 4 // the double frame and its padding
	var b strings.Builder
	count := m.th.Subtle.Render(" " + strconv.Itoa(len(m.shown)) + "/" + strconv.Itoa(len(m.items)))
	b.WriteString(m.th.Title.Render(":") + " " + m.input.View() + "\n")
	b.WriteString(m.th.Subtle.Render(strings.Repeat("─", max(inner-ansi.StringWidth(count), 0))) + count + "\n")
	end := min(m.offset+m.rows, len(m.shown))
	for i := m.offset; i < m.offset+m.rows; i++ {
		if i < end {
			b.WriteString(m.row(m.shown[i], i == m.cursor, inner))
		} else if i == m.offset && len(m.shown) == 0 {
			b.WriteString(theme.Fit(m.th.Subtle.Render("nothing matches"), inner))
		} else {
			b.WriteString(strings.Repeat(" ", inner))
		}
		b.WriteByte('\n')
	}
	b.WriteString(m.th.Key.Render("enter") + " open/run  " + m.th.Key.Render("↑/↓") + " select  " + m.th.Key.Render("esc") + " close")
	return m.th.Dialog.Width(m.width).Render(b.String())
}

// row draws one item: its kind, its text with the matched letters
// marked, and its hint at the right.
func (m Model) row(h hit, selected bool, w int) string {
	kind := m.th.Subtle.Render(pad(h.item.Kind, 10))
	hint := ""
	if h.item.Hint != "" {
		hint = " " + m.th.Subtle.Render(h.item.Hint)
	}
	room := max(w-10-ansi.StringWidth(hint), 4)
	text := theme.Fit(mark(m.th, h.item.Text, h.pos), room)
	line := kind + text + hint
	if selected {
		return m.th.Selected.Render(ansi.Strip(theme.Fit(line, w)))
	}
	return theme.Fit(line, w)
}

// mark draws the runes of s at pos in the key style.
func mark(th theme.Theme, s string, pos []int) string {
	if len(pos) == 0 {
		return s
	}
	var b strings.Builder
	r := []rune(s)
	at := 0
	for i := 0; i < len(r); {
		if at < len(pos) && pos[at] == i {
			j := i
			for at < len(pos) && pos[at] == j {
				at++
				j++
			}
			b.WriteString(th.Key.Render(string(r[i:j])))
			i = j
			continue
		}
		b.WriteRune(r[i])
		i++
	}
	return b.String()
}

func pad(s string, n int) string { return s + strings.Repeat(" ", max(n-lipgloss.Width(s), 1)) }
