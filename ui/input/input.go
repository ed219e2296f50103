// Package input is the one-line text input of the UI — the filter lines
// and the fields of a form: bubbles' textinput with a cursor that moves
// (←/→, home/end, word jumps and deletes), bracketed pastes, the theme's
// styles and a steady cursor, so no timer runs while it is open. What
// would act on the terminal (control and invisible format characters)
// never enters its value, typed or pasted.
package input

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/theme"
)

// Model is one input line. The textinput it wraps is large (its styles
// and key map): it is kept behind a pointer and copied on each change, so
// that models holding an input stay cheap to copy — the root model is
// copied at every message — and a copy never sees another's edits.
type Model struct{ ti *textinput.Model }

// New returns an empty, unfocused input showing placeholder while empty.
func New(th theme.Theme, placeholder string) Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	// A paste arrives from the terminal as tea.PasteMsg; ctrl+v would
	// read the clipboard through a tool a server rarely has.
	ti.KeyMap.Paste.SetEnabled(false)
	ti.SetStyles(th.Input())
	return Model{ti: &ti}
}

// edit returns a copy of the input for a change.
func (m Model) edit() (Model, *textinput.Model) {
	if m.ti == nil {
		m.ti = new(textinput.New())
	}
	ti := *m.ti
	return Model{ti: &ti}, &ti
}

// Init does nothing: the cursor does not blink.
func (m Model) Init() tea.Cmd { return nil }

// Focus gives the input the keys and shows its cursor.
func (m Model) Focus() Model {
	m, ti := m.edit()
	_ = ti.Focus() // a steady cursor: no blink command
	return m
}

// Blur takes the keys away and hides the cursor.
func (m Model) Blur() Model {
	if !m.Focused() {
		return m
	}
	m, ti := m.edit()
	ti.Blur()
	return m
}

// Focused reports whether the input takes the keys.
func (m Model) Focused() bool { return m.ti != nil && m.ti.Focused() }

// Value returns the text.
func (m Model) Value() string {
	if m.ti == nil {
		return ""
	}
	return m.ti.Value()
}

// SetValue replaces the text, made safe as typed text is, and puts the
// cursor at its end.
func (m Model) SetValue(s string) Model {
	m, ti := m.edit()
	ti.SetValue(strings.Map(keep, s))
	ti.CursorEnd()
	return m
}

// SetWidth shows at most w cells of text; a longer text scrolls with the
// cursor. 0 shows it all.
func (m Model) SetWidth(w int) Model {
	if m.ti != nil && m.ti.Width() == max(w, 0) {
		return m
	}
	m, ti := m.edit()
	ti.SetWidth(max(w, 0))
	return m
}

// Update edits the text on keys and pastes while focused.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	if !m.Focused() {
		return m, nil
	}
	m, ti := m.edit()
	var cmd tea.Cmd
	*ti, cmd = ti.Update(msg)
	if v := ti.Value(); strings.ContainsFunc(v, human.NeedsEscape) {
		// textinput drops control characters; the invisible ones that
		// reorder or hide text go too, the cursor staying after what it
		// was after.
		r := []rune(v)
		pos := min(ti.Position(), len(r))
		ti.SetValue(strings.Map(keep, v))
		ti.SetCursor(len([]rune(strings.Map(keep, string(r[:pos])))))
	}
	return m, cmd
}

func keep(r rune) rune {
	if human.NeedsEscape(r) {
		return -1
	}
	return r
}

// View draws the text and the cursor, without the padding up to the width.
func (m Model) View() string {
	if m.ti == nil {
		return ""
	}
	return strings.TrimRight(m.ti.View(), " ")
}
