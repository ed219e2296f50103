package ui

import tea "charm.land/bubbletea/v2"

// openFirstImage opens the image view of the first image listed, once:
// the UI started on one image (minidocker ui IMAGE|ARCHIVE), as dive
// opens on the image it is given.
func (m Model) openFirstImage() (Model, tea.Cmd, bool) {
	m.openOnLoad = false
	m.main = m.main.SetText(m.mainText())
	m = m.focusPanel(imagesPanel)
	m2, cmd := m.open()
	return m2, cmd, true
}
