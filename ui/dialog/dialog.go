// Package dialog is the modal box of the UI: a yes/no confirmation before
// anything destructive, or a small form of text fields (the run form, a
// path to load or extract to). It answers with a DoneMsg that names it.
package dialog

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"minidocker/internal/human"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// Field is one line of a form.
type Field struct {
	Label, Value, Hint string
}

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
	fields []Field
	focus  int
	active bool
	style  lipgloss.Style // the theme's dialog box at this dialog's width
}

// Confirm opens a yes/no question.
func Confirm(th theme.Theme, km keys.Map, id, title, question string) Model {
	return Model{th: th, keys: km, id: id, title: title, text: question, active: true, style: th.Dialog.Width(56)}
}

// Form opens a form of fields.
func Form(th theme.Theme, km keys.Map, id, title, text string, fields []Field) Model {
	return Model{th: th, keys: km, id: id, title: title, text: text, fields: fields, active: true, style: th.Dialog.Width(64)}
}

// Active reports whether the dialog is open.
func (m Model) Active() bool { return m.active }

// Init does nothing.
func (m Model) Init() tea.Cmd { return nil }

// Update edits the fields and answers on yes, no, enter or esc.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || !m.active {
		return m, nil
	}
	if len(m.fields) == 0 {
		switch {
		case key.Matches(k, m.keys.Yes), key.Matches(k, m.keys.Enter):
			return m.done(true)
		case key.Matches(k, m.keys.No):
			return m.done(false)
		}
		return m, nil
	}
	f := &m.fields[m.focus]
	switch {
	case key.Matches(k, m.keys.Back):
		return m.done(false)
	case key.Matches(k, m.keys.Enter):
		return m.done(true)
	case key.Matches(k, m.keys.NextPane), k.Code == tea.KeyDown:
		m.focus = (m.focus + 1) % len(m.fields)
	case key.Matches(k, m.keys.PrevPane), k.Code == tea.KeyUp:
		m.focus = (m.focus + len(m.fields) - 1) % len(m.fields)
	case k.Code == tea.KeyBackspace:
		if r := []rune(f.Value); len(r) > 0 {
			f.Value = string(r[:len(r)-1])
		}
	case k.Text != "":
		f.Value += k.Text
	}
	return m, nil
}

func (m Model) done(ok bool) (Model, tea.Cmd) {
	vals := make([]string, len(m.fields))
	for i, f := range m.fields {
		vals[i] = f.Value
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
	lw := 0
	for _, f := range m.fields {
		lw = max(lw, len(f.Label))
	}
	for i, f := range m.fields {
		val := human.Visible(f.Value)
		if i == m.focus {
			val = m.th.Selected.Render(val + "█")
		} else if val == "" {
			val = m.th.Subtle.Render(f.Hint)
		}
		b.WriteString(fmt.Sprintf("\n%-*s %s", lw, f.Label, val))
	}
	b.WriteString("\n\n")
	if len(m.fields) == 0 {
		b.WriteString(m.th.Key.Render("y") + " yes  " + m.th.Key.Render("n") + " no")
	} else {
		b.WriteString(m.th.Key.Render("enter") + " ok  " + m.th.Key.Render("tab") + " next field  " + m.th.Key.Render("esc") + " cancel")
	}
	return m.style.Render(b.String())
}
