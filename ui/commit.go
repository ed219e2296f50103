package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui/commit"
	"minidocker/ui/layers"
)

// Results of the commit dialog's work.
type (
	commitPreviewMsg struct {
		id      string
		entries []overlay.PackEntry
		err     error
	}
	commitDoneMsg struct {
		id  string
		img Image
		err error
	}
)

// openCommit opens the commit dialog over the container view and reads
// the preview of the layer.
func (m Model) openCommit() (Model, tea.Cmd) {
	d, c := m.detail, m.src.Committer
	if c == nil {
		m.status = "commit: " + orWhy(m.src.NoRun, "not available here")
		return m, nil
	}
	what := d.id[:min(12, len(d.id))]
	for _, c := range m.containers {
		if c.ID == d.id {
			what = human.Visible(c.Name) + " (" + c.ShortID + ")"
		}
	}
	cd := commit.New(m.th, m.keys, "Commit "+what+": its upper directory as a new layer").SetSize(m.width, m.height)
	m.commit = &cd
	id := d.id
	return m, func() tea.Msg {
		es, err := c.CommitPreview(id)
		return commitPreviewMsg{id, es, err}
	}
}

// commitMsg takes the dialog's messages and the commit's results; ok is
// false for any other message.
func (m Model) commitMsg(msg tea.Msg) (Model, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case commitPreviewMsg:
		if m.commit != nil && m.detail != nil && m.detail.id == msg.id {
			cd := m.commit.SetEntries(msg.entries).SetError(msg.err)
			m.commit = &cd
		}
	case commit.CancelMsg:
		m.commit = nil
	case commit.SubmitMsg:
		if m.commit == nil || m.detail == nil {
			return m, nil, true
		}
		cd := m.commit.SetBusy(true)
		m.commit = &cd
		c, id := m.src.Committer, m.detail.id
		spec := CommitSpec{Name: msg.Name, Message: msg.Message}
		return m, func() tea.Msg {
			img, err := c.Commit(id, spec)
			return commitDoneMsg{id, img, err}
		}, true
	case commitDoneMsg:
		return m.committed(msg)
	default:
		return m, nil, false
	}
	return m, nil, true
}

// committed shows the commit's error in the dialog, or opens the new
// image on its top layer, the one just made.
func (m Model) committed(msg commitDoneMsg) (Model, tea.Cmd, bool) {
	if m.commit == nil {
		return m, nil, true
	}
	if msg.err != nil {
		cd := m.commit.SetError(msg.err)
		m.commit = &cd
		return m, nil, true
	}
	m.commit = nil
	m.status = "committed " + msg.img.ShortID
	if len(msg.img.Names) > 0 {
		m.status += " as " + strings.Join(msg.img.Names, ", ")
	}
	is, id := m.src.Images, msg.img.ID
	m, cmd := m.openImage(msg.img, func() (layers.Stack, error) { return is.ImageStack(id) })
	return m, tea.Batch(cmd, loadImages(m.src.Images)), true
}

// openImage opens the image view of img, its layers read by load, on its
// top layer; esc goes back to the build view when one is open, else home.
func (m Model) openImage(img Image, load func() (layers.Stack, error)) (Model, tea.Cmd) {
	if m.detail != nil {
		m.detail.close()
	}
	title := img.ShortID
	if len(img.Names) > 0 {
		title = img.Names[0]
	}
	d := newDetail(m, kindImage, img.ID, title, false)
	d.image, d.onTop = &img, true
	d = d.resize(m.width, max(m.height-2, 3))
	m.detail = &d
	return m.start("reading the layers", openStack(img.ID, load))
}

func orWhy(why, dflt string) string {
	if why != "" {
		return why
	}
	return dflt
}
