// Package commit is the dialog that makes an image of a container: the
// layer the commit would make, entry by entry — each whiteout and opaque
// directory in both its forms, as the upper directory holds it (a 0:0
// character device, an xattr) and as the layer's tar will (.wh.NAME,
// .wh..wh..opq) — then a name, a message, and confirm or cancel.
package commit

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui/input"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// SubmitMsg asks for the commit, with the name and message typed.
type SubmitMsg struct{ Name, Message string }

// CancelMsg closes the dialog without a commit.
type CancelMsg struct{}

// The fields, in tab order.
const (
	nameField = iota
	messageField
)

// Model is the dialog. Its preview is empty until SetEntries; while busy
// (the commit under way) it takes no keys.
type Model struct {
	keys    keys.Map
	th      theme.Theme
	title   string
	entries []overlay.PackEntry
	loaded  bool
	top     int // the first preview row shown
	fields  [2]input.Model
	focus   int
	err     string // one line, until the next key
	busy    bool

	width, height int // the box, border included
}

// New opens the dialog titled title, its name field focused.
func New(th theme.Theme, km keys.Map, title string) Model {
	m := Model{keys: km, th: th, title: title}
	m.fields[nameField] = input.New(th, "NAME[:TAG], empty for an unnamed image").Focus()
	m.fields[messageField] = input.New(th, "optional, kept in the image's history")
	return m.SetSize(80, 24)
}

// SetSize fits the box in a screen of w×h cells.
func (m Model) SetSize(w, h int) Model {
	m.width, m.height = max(min(w-4, 120), 40), max(h-2, 12)
	for i := range m.fields {
		m.fields[i] = m.fields[i].SetWidth(m.inner() - labelWidth - 1)
	}
	m.top = min(m.top, m.maxTop())
	return m
}

// inner is the width inside the border and padding.
func (m Model) inner() int { return m.width - 4 }

// labelWidth is the width of the fields' labels, "message" and a space.
const labelWidth = 8

// fixedLines are the box's lines besides the preview rows: the border,
// the title, the summary, the column heads, the scroll line, the two
// fields, the error line, a blank and the keys.
const fixedLines = 2 + 9

func (m Model) rows() int { return max(m.height-fixedLines, 1) }

func (m Model) maxTop() int { return max(len(m.entries)-m.rows(), 0) }

// SetEntries shows the preview.
func (m Model) SetEntries(es []overlay.PackEntry) Model {
	m.entries, m.loaded, m.top = es, true, 0
	return m
}

// SetError shows err on one line until the next key, and ends busy.
func (m Model) SetError(err error) Model {
	m.busy = false
	if err != nil {
		m.err = human.Line(err.Error())
	}
	return m
}

// SetBusy marks the commit under way.
func (m Model) SetBusy(b bool) Model {
	m.busy = b
	return m
}

// Update scrolls the preview (↑/↓, page keys), edits the fields, moves
// between them (tab) and answers: enter submits, esc cancels. Any key
// clears the error line.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	if m.busy {
		return m, nil
	}
	if p, ok := msg.(tea.PasteMsg); ok {
		return m.edit(p)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	m.err = ""
	km := m.keys
	switch {
	case key.Matches(k, km.Back):
		return m, func() tea.Msg { return CancelMsg{} }
	case key.Matches(k, km.Enter):
		if !m.loaded {
			return m, nil
		}
		name, msgText := strings.TrimSpace(m.fields[nameField].Value()), m.fields[messageField].Value()
		return m, func() tea.Msg { return SubmitMsg{Name: name, Message: msgText} }
	case key.Matches(k, km.NextPane), key.Matches(k, km.PrevPane):
		m.fields[m.focus] = m.fields[m.focus].Blur()
		m.focus = 1 - m.focus
		m.fields[m.focus] = m.fields[m.focus].Focus()
	case k.Code == tea.KeyUp:
		m.scroll(-1)
	case k.Code == tea.KeyDown:
		m.scroll(1)
	case key.Matches(k, km.PageUp):
		m.scroll(-m.rows())
	case key.Matches(k, km.PageDown):
		m.scroll(m.rows())
	default:
		return m.edit(k)
	}
	return m, nil
}

func (m *Model) scroll(d int) { m.top = max(min(m.top+d, m.maxTop()), 0) }

// edit hands a key or a paste to the focused field.
func (m Model) edit(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	m.fields[m.focus], cmd = m.fields[m.focus].Update(msg)
	return m, cmd
}

// View draws the box: its width and height are those SetSize gave, less
// the rows of a short preview.
func (m Model) View() string {
	w := m.inner()
	var b strings.Builder
	b.WriteString(m.th.Title.Render(theme.Cut(m.title, w)))
	b.WriteString("\n" + theme.Fit(m.summary(), w))
	b.WriteString("\n" + m.th.Subtle.Render(m.line("KIND", "SIZE", "PATH", "IN THE UPPER DIRECTORY", "IN THE LAYER TAR")))
	rows := m.previewRows()
	for _, r := range rows {
		b.WriteString("\n" + r)
	}
	b.WriteString("\n" + m.th.Subtle.Render(theme.Fit(m.scrollLine(len(rows)), w)))
	labels := [2]string{"name", "message"}
	for i, f := range m.fields {
		l := fmt.Sprintf("%-*s", labelWidth, labels[i])
		if i == m.focus {
			l = m.th.Key.Render(l)
		}
		b.WriteString("\n" + l + f.View())
	}
	b.WriteString("\n" + m.th.Error.Render(theme.Fit(m.err, w)))
	switch {
	case m.busy:
		b.WriteString("\n\n" + m.th.Warn.Render("committing…"))
	default:
		b.WriteString("\n\n" + m.th.Key.Render("enter") + " commit  " + m.th.Key.Render("tab") + " next field  " +
			m.th.Key.Render("↑/↓ pgup/pgdn") + " scroll  " + m.th.Key.Render("esc") + " cancel")
	}
	return m.th.Dialog.Width(m.width).Render(b.String())
}

// previewRows are the entries shown, or a line saying why there are none.
func (m Model) previewRows() []string {
	switch {
	case !m.loaded:
		return []string{m.th.Subtle.Render("reading the upper directory…")}
	case len(m.entries) == 0:
		return []string{m.th.Subtle.Render("the container changed nothing: the layer would be empty")}
	}
	end := min(m.top+m.rows(), len(m.entries))
	out := make([]string, 0, end-m.top)
	for _, e := range m.entries[m.top:end] {
		out = append(out, m.entryRow(e))
	}
	return out
}

// entryRow is one entry: the upper directory's form beside the layer's,
// which differ for whiteouts and opaque directories only.
func (m Model) entryRow(e overlay.PackEntry) string {
	size, upper, layer := "", "=", human.Visible(e.TarName)
	switch e.Kind {
	case overlay.PackFile:
		size = human.Size(e.Size)
	case overlay.PackSymlink:
		layer += " → " + human.Visible(e.Linkname)
	case overlay.PackHardlink:
		layer += " ⇒ " + human.Visible(e.Linkname)
	case overlay.PackWhiteout, overlay.PackOpaque:
		upper = e.Overlay
	}
	l := m.line(e.Kind.String(), size, human.Visible(e.Path), upper, layer)
	switch e.Kind {
	case overlay.PackWhiteout:
		return m.th.Kind[overlay.Whiteout].Render(l)
	case overlay.PackOpaque:
		return m.th.Kind[overlay.Opaque].Render(l)
	}
	return l
}

// line lays out the five columns in the box's width: the path and the
// layer's name share what the fixed columns leave.
func (m Model) line(kind, size, path, upper, layer string) string {
	const kindW, sizeW, upperW = 9, 7, 25
	rest := max(m.inner()-kindW-sizeW-upperW-3, 10)
	pathW := rest / 2
	l := theme.Fit(kind, kindW) + fmt.Sprintf("%*s ", sizeW-1, size) + " " + theme.Fit(path, pathW) + " " +
		theme.Fit(upper, upperW) + " " + layer
	return theme.Fit(l, m.inner())
}

// summary counts what the layer would hold.
func (m Model) summary() string {
	if !m.loaded {
		return ""
	}
	var files, dirs, wh, opq int
	var bytes int64
	for _, e := range m.entries {
		switch e.Kind {
		case overlay.PackFile:
			files++
			bytes += e.Size
		case overlay.PackDir:
			dirs++
		case overlay.PackWhiteout:
			wh++
		case overlay.PackOpaque:
			opq++
		}
	}
	return fmt.Sprintf("the new layer: %s · %s (%s) · %s · %s · %s", count(len(m.entries), "entry", "entries"),
		count(files, "file", "files"), human.Size(bytes), count(dirs, "dir", "dirs"),
		count(wh, "whiteout", "whiteouts"), count(opq, "opaque dir", "opaque dirs"))
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (m Model) scrollLine(shown int) string {
	if !m.loaded || len(m.entries) <= shown {
		return ""
	}
	return fmt.Sprintf("entries %d–%d of %d", m.top+1, m.top+shown, len(m.entries))
}
