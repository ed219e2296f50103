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

// Model is one input line.
type Model struct{ ti textinput.Model }

// New returns an empty, unfocused input showing placeholder while empty.
func New(th theme.Theme, placeholder string) Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	// A paste arrives from the terminal as tea.PasteMsg; ctrl+v would
	// read the clipboard through a tool a server rarely has.
	ti.KeyMap.Paste.SetEnabled(false)
	ti.SetStyles(th.Input())
	return Model{ti: ti}
}

// Init does nothing: the cursor does not blink.
func (m Model) Init() tea.Cmd { return nil }

// Focus gives the input the keys and shows its cursor.
func (m Model) Focus() Model {
	_ = m.ti.Focus() // a steady cursor: no blink command
	return m
}

// Blur takes the keys away and hides the cursor.
func (m Model) Blur() Model {
	m.ti.Blur()
	return m
}

// Focused reports whether the input takes the keys.
func (m Model) Focused() bool { return m.ti.Focused() }

// Value returns the text.
func (m Model) Value() string { return m.ti.Value() }

// SetValue replaces the text, made safe as typed text is, and puts the
// cursor at its end.
func (m Model) SetValue(s string) Model {
	m.ti.SetValue(strings.Map(keep, s))
	m.ti.CursorEnd()
	return m
}

// SetWidth shows at most w cells of text; a longer text scrolls with the
// cursor. 0 shows it all.
func (m Model) SetWidth(w int) Model {
	m.ti.SetWidth(max(w, 0))
	return m
}

// Update edits the text on keys and pastes while focused.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.ti, cmd = m.ti.Update(msg)
	if v := m.ti.Value(); strings.ContainsFunc(v, human.NeedsEscape) {
		// textinput drops control characters; the invisible ones that
		// reorder or hide text go too, the cursor staying after what it
		// was after.
		r := []rune(v)
		pos := min(m.ti.Position(), len(r))
		m.ti.SetValue(strings.Map(keep, v))
		m.ti.SetCursor(len([]rune(strings.Map(keep, string(r[:pos])))))
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
func (m Model) View() string { return strings.TrimRight(m.ti.View(), " ") }
