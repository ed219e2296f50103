package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/input"
)

// regForm is the pull or the push dialog: a registry reference, and a
// toggle that skips the check of the registry's TLS certificate (and
// allows plain HTTP), for a local registry.
type regForm struct {
	push  bool
	image string // the ID of the image a push sends
	name  string // its name as the panel shows it
	ref   input.Model
	// insecure is the toggle; onToggle says it has the keys rather than
	// the reference.
	insecure, onToggle bool
	// missing says enter came with no reference.
	missing bool
}

// regFormWidth is the width of the dialog's box, border included, as the
// other forms'.
const regFormWidth = 64

// regLabelWidth is the width of the reference's label, "destination ".
const regLabelWidth = 12

// pullForm opens the pull dialog.
func (m Model) pullForm() Model {
	f := regForm{ref: m.regInput("registry.example/name:tag")}
	m.regForm = &f
	return m
}

// pushForm opens the push dialog of the image id, its destination the
// image's name, the toggle as the last transfer with its host left it.
func (m Model) pushForm(id string) Model {
	img, ok := m.image(id)
	if !ok {
		return m
	}
	f := regForm{push: true, image: id, name: imageName(img), ref: m.regInput("host:port/name:tag")}
	if len(img.Names) > 0 {
		f.ref = f.ref.SetValue(img.Names[0])
		f.insecure = slices.Contains(m.insecure, registryHost(img.Names[0]))
	}
	m.regForm = &f
	return m
}

// regInput is the reference's input line, focused.
func (m Model) regInput(hint string) input.Model {
	return input.New(m.th, hint).SetWidth(regFormWidth - 4 - regLabelWidth - 1).Focus()
}

// regFormKey edits the dialog, and starts the transfer on enter.
func (m Model) regFormKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	f := *m.regForm
	k := m.keys
	switch {
	case key.Matches(msg, k.Back):
		m.regForm = nil
		return m, nil
	case key.Matches(msg, k.Enter):
		return m.submitRegForm(f)
	case key.Matches(msg, k.NextPane, k.PrevPane), msg.Code == tea.KeyDown, msg.Code == tea.KeyUp:
		f.onToggle = !f.onToggle
		if f.onToggle {
			f.ref = f.ref.Blur()
		} else {
			f.ref = f.ref.Focus()
		}
	case f.onToggle && key.Matches(msg, k.Collapse, k.Yes, k.No):
		// space flips it; y and n set it.
		switch {
		case key.Matches(msg, k.Yes):
			f.insecure = true
		case key.Matches(msg, k.No):
			f.insecure = false
		default:
			f.insecure = !f.insecure
		}
	case f.onToggle:
	default:
		var cmd tea.Cmd
		f.ref, cmd = f.ref.Update(msg)
		f.missing = false
		m.regForm = &f
		return m, cmd
	}
	m.regForm = &f
	return m, nil
}

// regFormPaste puts a paste in the reference.
func (m Model) regFormPaste(msg tea.PasteMsg) (Model, tea.Cmd) {
	f := *m.regForm
	var cmd tea.Cmd
	f.ref, cmd = f.ref.Update(msg)
	m.regForm = &f
	return m, cmd
}

// submitRegForm starts the pull or the push the dialog asks for; without
// a reference the dialog stays, saying so.
func (m Model) submitRegForm(f regForm) (Model, tea.Cmd) {
	ref := strings.TrimSpace(f.ref.Value())
	if ref == "" {
		f.missing = true
		m.regForm = &f
		return m, nil
	}
	m.regForm = nil
	if f.push {
		return m.startPush(PushSpec{Image: f.image, Dest: ref, Insecure: f.insecure}, f.name)
	}
	return m.startPull(PullSpec{Ref: ref, Insecure: f.insecure}, false)
}

// regFormView draws the dialog.
func (m Model) regFormView() string {
	f := m.regForm
	th := m.th
	var b strings.Builder
	label := "reference"
	if f.push {
		b.WriteString(th.Title.Render("Push an image to a registry") + "\n")
		b.WriteString(human.Visible(f.name) + " under this reference:\n")
		label = "destination"
	} else {
		b.WriteString(th.Title.Render("Pull an image from a registry") + "\n")
		b.WriteString("NAME[:TAG], HOST[:PORT]/NAME[:TAG] or NAME@DIGEST:\n")
	}
	label = padRight(label, regLabelWidth)
	if !f.onToggle {
		label = th.Key.Render(label)
	}
	b.WriteString(label + f.ref.View() + "\n")
	box := "[ ]"
	if f.insecure {
		box = "[x]"
	}
	if f.onToggle {
		box = th.Key.Render(box)
	}
	b.WriteString(box + " skip TLS verification: a local registry, plain HTTP too\n")
	if f.missing {
		b.WriteString(th.Error.Render("a reference is needed") + "\n")
	}
	verb := "pull"
	if f.push {
		verb = "push"
	}
	b.WriteString("\n" + th.Key.Render("enter") + " " + verb + "  " + th.Key.Render("tab") + " move  " +
		th.Key.Render("space") + " toggle  " + th.Key.Render("esc") + " cancel")
	return th.Dialog.Width(regFormWidth).Render(b.String())
}

// padRight pads s with spaces to w cells.
func padRight(s string, w int) string {
	return s + strings.Repeat(" ", max(w-len(s), 0))
}
