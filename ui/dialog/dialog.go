// Package dialog is the modal box of the UI: a yes/no confirmation before
// anything destructive, or a small form of text fields (the run form, a
// path to load or extract to). It answers with a DoneMsg that names it.
package dialog

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"minidocker/ui/input"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// Field is one line of a form: its label, the text it starts with, and a
// hint shown while it is empty.
type Field struct {
	Label, Value, Hint string
}

// formWidth is the width of a form's box, border included.
const formWidth = 64

// DoneMsg is the answer of the dialog ID: OK for yes or submit, with the
// form's values in field order.
type DoneMsg struct {
	ID     string
	OK     bool
	Values []string
}

// Model is the dialog; the zero Model is closed.
type Model struct {
	keys   keys.Map
	th     theme.Theme
	id     string
	title  string
	text   string
	labels []string
	inputs []input.Model
	focus  int
	active bool
	style  lipgloss.Style // the theme's dialog box at this dialog's width
}

// Confirm opens a yes/no question.
func Confirm(th theme.Theme, km keys.Map, id, title, question string) Model {
	return Model{th: th, keys: km, id: id, title: title, text: question, active: true, style: th.Dialog.Width(56)}
}

// Form opens a form of fields, the first one focused.
func Form(th theme.Theme, km keys.Map, id, title, text string, fields []Field) Model {
	m := Model{th: th, keys: km, id: id, title: title, text: text, active: true, style: th.Dialog.Width(formWidth)}
	lw := 0
	for _, f := range fields {
		lw = max(lw, len(f.Label))
	}
	for _, f := range fields {
		m.labels = append(m.labels, fmt.Sprintf("%-*s ", lw, f.Label))
		// The box's border and padding take 4 cells, the label lw+1, the
		// cursor after the text 1.
		m.inputs = append(m.inputs, input.New(th, f.Hint).SetValue(f.Value).SetWidth(formWidth-4-lw-1-1))
	}
	if len(m.inputs) > 0 {
		m.inputs[0] = m.inputs[0].Focus()
	}
	return m
}

// Active reports whether the dialog is open.
func (m Model) Active() bool { return m.active }

// Init does nothing.
func (m Model) Init() tea.Cmd { return nil }

// Update edits the fields and answers on yes, no, enter or esc.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	if !m.active {
		return m, nil
	}
	if p, ok := msg.(tea.PasteMsg); ok && len(m.inputs) > 0 {
		return m.edit(p)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	if len(m.inputs) == 0 {
		switch {
		case key.Matches(k, m.keys.Yes), key.Matches(k, m.keys.Enter):
			return m.done(true)
		case key.Matches(k, m.keys.No):
			return m.done(false)
		}
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Back):
		return m.done(false)
	case key.Matches(k, m.keys.Enter):
		return m.done(true)
	case key.Matches(k, m.keys.NextPane), k.Code == tea.KeyDown:
		m.focusField((m.focus + 1) % len(m.inputs))
	case key.Matches(k, m.keys.PrevPane), k.Code == tea.KeyUp:
		m.focusField((m.focus + len(m.inputs) - 1) % len(m.inputs))
	default:
		return m.edit(k)
	}
	return m, nil
}

// edit hands a key or a paste to the focused field.
func (m Model) edit(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.inputs = slices.Clone(m.inputs) // the old model's fields stay its own
	m.inputs[m.focus], cmd = m.inputs[m.focus].Update(msg)
	return m, cmd
}

// focusField moves the cursor to field i.
func (m *Model) focusField(i int) {
	m.inputs = slices.Clone(m.inputs) // the old model's fields stay its own
	m.inputs[m.focus] = m.inputs[m.focus].Blur()
	m.focus = i
	m.inputs[i] = m.inputs[i].Focus()
}

func (m Model) done(ok bool) (Model, tea.Cmd) {
	vals := make([]string, len(m.inputs))
	for i, in := range m.inputs {
		vals[i] = in.Value()
	}
	id := m.id
	m.active = false
	return m, func() tea.Msg { return DoneMsg{ID: id, OK: ok, Values: vals} }
}

// View draws the dialog box.
func (m Model) View() string {
	var b strings.Builder
	b.WriteString(m.th.Title.Render(m.title))
	if m.text != "" {
		b.WriteString("\n" + m.text)
	}
	for i, in := range m.inputs {
		label := m.labels[i]
		if i == m.focus {
			label = m.th.Key.Render(label)
		}
		b.WriteString("\n" + label + in.View())
	}
	b.WriteString("\n\n")
	if len(m.inputs) == 0 {
		b.WriteString(m.th.Key.Render("y") + " yes  " + m.th.Key.Render("n") + " no")
	} else {
		b.WriteString(m.th.Key.Render("enter") + " ok  " + m.th.Key.Render("tab") + " next field  " + m.th.Key.Render("esc") + " cancel")
	}
	return m.style.Render(b.String())
}
