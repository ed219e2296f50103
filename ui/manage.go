package ui

import (
	"path/filepath"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/dialog"
)

// The dialogs of the manager's actions, by ID.
const (
	askKill     = "kill"
	askRmImage  = "rmi"
	askTag      = "tag"
	askSave     = "save"
	saveFormat  = "oci-archive"
	saveFormats = "oci-archive or docker-archive"
)

// ctrDoneMsg is the end of an action on the container id; removed says
// it was a remove, which closes the container's view once it succeeds.
type ctrDoneMsg struct {
	id, what string
	removed  bool
	err      error
}

// containerAction starts or restarts the container id, or asks before
// stopping, killing or removing it: a running one's remove is a force
// remove, and says so.
func (m Model) containerAction(msg tea.KeyPressMsg, id, label string) (Model, tea.Cmd) {
	k, c := m.keys, m.src.Lifecycle
	label = human.Visible(label)
	ctr, _ := m.container(id)
	switch {
	case c == nil:
		m.status = m.src.NoRun
	case m.acting[id] != "":
		m.status = label + " is " + strings.TrimSuffix(m.acting[id], "…") + ": wait for it"
	case key.Matches(msg, k.Start):
		return m.ctrAct(id, actStarting, "started", false, func() error { return c.Start(id) })
	case key.Matches(msg, k.Restart):
		return m.ctrAct(id, actRestarting, "restarted", false, func() error { return c.Restart(id) })
	case key.Matches(msg, k.Stop):
		m.dialog = dialog.Confirm(m.th, k, askStop+":"+id, "Stop", "Stop "+label+"? It gets SIGTERM, then SIGKILL after 10 seconds.")
	case key.Matches(msg, k.Kill):
		m.dialog = dialog.Confirm(m.th, k, askKill+":"+id, "Kill", "Kill "+label+" with SIGKILL? Its processes get no chance to clean up.")
	case key.Matches(msg, k.Remove) && ctr.Running:
		m.dialog = dialog.Confirm(m.th, k, askRemove+":"+id, "Force remove", "Force remove "+label+"? It is running: it is killed, then removed with its upper directory.")
	case key.Matches(msg, k.Remove):
		m.dialog = dialog.Confirm(m.th, k, askRemove+":"+id, "Remove", "Remove "+label+" and its upper directory?")
	}
	return m, nil
}

// ctrAct runs fn, an action on the container id, showing state while it
// runs and done when it ends well.
func (m Model) ctrAct(id, state, done string, removed bool, fn func() error) (Model, tea.Cmd) {
	m = m.setActing(id, state)
	return m.start(strings.TrimSuffix(state, "…")+" "+id[:min(12, len(id))], func() tea.Msg {
		return ctrDoneMsg{id: id, what: done, removed: removed, err: fn()}
	})
}

// ctrAnswer acts on a confirmed stop, kill or remove of the container id.
func (m Model) ctrAnswer(what, id string) (tea.Model, tea.Cmd) {
	c := m.src.Lifecycle
	if c == nil {
		return m, nil
	}
	// The status names the container: another action's word may still
	// be on screen.
	ctr, _ := m.container(id)
	name := human.Visible(ctr.Name)
	if name == "" {
		name = id[:min(12, len(id))]
	}
	switch what {
	case askStop:
		return m.ctrAct(id, actStopping, "stopped "+name, false, func() error { return c.Stop(id) })
	case askKill:
		return m.ctrAct(id, actKilling, "killed "+name, false, func() error { return c.Kill(id) })
	case askRemove:
		// A container that runs is removed with force: the dialog said so.
		force := ctr.Running
		return m.ctrAct(id, actRemoving, "removed "+name, true, func() error { return c.Remove(id, force) })
	}
	return m, nil
}

// ctrDone ends an action on a container: the state it showed goes, the
// lists are read again, and a removed container's view closes; after a
// failed action the view stays, the error in the header.
func (m Model) ctrDone(msg ctrDoneMsg) (Model, tea.Cmd) {
	m = m.setActing(msg.id, "")
	m.busy = ""
	m.status = msg.what
	if msg.err != nil {
		m.status = "error: " + human.Line(msg.err.Error())
	}
	if msg.removed && msg.err == nil && m.detail != nil && m.detail.id == msg.id {
		m.detail.close()
		m.detail = nil
	}
	return m, tea.Batch(loadImages(m.src.Images), loadContainers(m.src.ContainerList))
}

// imageAction asks before removing the selected image, or for the name to
// tag it with or the file to save it to.
func (m Model) imageAction(msg tea.KeyPressMsg, id string) Model {
	k := m.keys
	img, ok := m.image(id)
	if !ok {
		return m
	}
	if m.src.ImageManager == nil {
		m.status = "images: " + orWhy(m.src.NoRun, "not available here")
		return m
	}
	name := human.Visible(imageName(img))
	switch {
	case key.Matches(msg, k.Remove):
		m.dialog = dialog.Confirm(m.th, k, askRmImage+":"+id, "Remove image", m.removeQuestion(img))
	case key.Matches(msg, k.Tag):
		m.dialog = dialog.Form(m.th, k, askTag+":"+id, "Tag an image", name+" "+img.ShortID+" gets another name:",
			[]dialog.Field{{Label: "name", Hint: "repository:tag"}})
	case key.Matches(msg, k.Save):
		m.dialog = dialog.Form(m.th, k, askSave+":"+id, "Save an image", name+" "+img.ShortID+" to an archive file, as save writes it:",
			[]dialog.Field{{Label: "file", Value: filepath.Join("/tmp", fileName(img)+".tar")}, {Label: "format", Value: saveFormat, Hint: saveFormats}})
	}
	return m
}

// removeQuestion asks whether to remove img, naming what goes with it and
// the containers that use it: those keep their layers, and the image
// loses its names only.
func (m Model) removeQuestion(img Image) string {
	q := "Remove " + human.Visible(imageName(img)) + " " + img.ShortID + "?"
	if len(img.Names) > 1 {
		q += " Its names " + human.Visible(strings.Join(img.Names, ", ")) + " all go."
	}
	switch users := m.imageUsers(img); len(users) {
	case 0:
	case 1:
		q += " It is used by container " + human.Visible(users[0]) + ": it keeps its layers, the image loses its names."
	default:
		q += " It is used by containers " + human.Visible(strings.Join(users, ", ")) + ": they keep their layers, the image loses its names."
	}
	return q
}

// imageUsers names the containers made from img.
func (m Model) imageUsers(img Image) []string {
	var out []string
	for _, c := range m.containers {
		if c.ImageID == img.ID || c.ImageID == "" && (c.Image == img.ID || slices.Contains(img.Names, c.Image)) {
			out = append(out, c.Name)
		}
	}
	return out
}

// imageAnswer acts on a confirmed remove, or a tag or save form.
func (m Model) imageAnswer(what, id string, values []string) (tea.Model, tea.Cmd) {
	im := m.src.ImageManager
	img, ok := m.image(id)
	if im == nil || !ok {
		return m, nil
	}
	switch what {
	case askRmImage:
		force := len(img.Names) > 1 || len(m.imageUsers(img)) > 0
		return m.start("removing "+img.ShortID, func() tea.Msg {
			s, err := im.RemoveImage(id, force)
			return doneMsg{s, err}
		})
	case askTag:
		name := strings.TrimSpace(values[0])
		return m.start("tagging", do("tagged "+img.ShortID+" as "+name, func() error { return im.TagImage(id, name) }))
	case askSave:
		p, f := strings.TrimSpace(values[0]), strings.TrimSpace(values[1])
		return m.start("saving "+img.ShortID, do("saved "+img.ShortID+" to "+p, func() error { return im.SaveImage(id, p, f) }))
	}
	return m, nil
}

// image returns the listed image id.
func (m Model) image(id string) (Image, bool) {
	for _, img := range m.images {
		if img.ID == id {
			return img, true
		}
	}
	return Image{}, false
}

// imageName is the name an image goes by: its first, or its short ID
// when it has none, as docker ps shows a container of a nameless image.
func imageName(img Image) string {
	if len(img.Names) > 0 {
		return img.Names[0]
	}
	return img.ShortID
}

// fileName turns an image's name into a file name: base:latest is
// base_latest.
func fileName(img Image) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == '@' || r < ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, imageName(img))
}
