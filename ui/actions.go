package ui

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/dialog"
	"minidocker/ui/layers"
)

// The dialogs, by ID.
const (
	askRun     = "run"
	askStop    = "stop"
	askRemove  = "rm"
	askLoad    = "load"
	askPrune   = "prune"
	askExtract = "extract"
)

// action handles the action keys of the home screen; ok is false for a
// key that is not one.
func (m Model) action(msg tea.KeyPressMsg) (Model, tea.Cmd, bool) {
	k := m.keys
	it, sel := m.panels[m.focus].Selected()
	switch {
	case key.Matches(msg, k.Build):
		m = m.buildForm()
	case key.Matches(msg, k.Load) && m.focus == imagesPanel:
		m.dialog = dialog.Form(m.th, k, askLoad, "Load an image", "An image archive: docker save, OCI layout or tar.", []dialog.Field{{Label: "file", Hint: "/path/to/image.tar"}})
	case key.Matches(msg, k.Prune) && m.focus == imagesPanel:
		m.dialog = dialog.Confirm(m.th, k, askPrune, "Prune", "Delete the blobs and layers that no image or container uses?")
	case key.Matches(msg, k.Run) && m.focus == imagesPanel && sel:
		// The container records the name it was run by, as ps shows it.
		img, _ := m.image(it.ID)
		ref := imageName(img)
		m.dialog = dialog.Form(m.th, k, askRun+":"+ref, "Run a container", "from "+human.Visible(ref), []dialog.Field{
			{Label: "command", Hint: "/bin/sh"},
			{Label: "-v", Hint: "/host:/ctr[:ro], comma separated"},
			{Label: "memory", Hint: "e.g. 256m"},
			{Label: "cpus", Hint: "e.g. 0.5"},
			{Label: "pids", Hint: "e.g. 100"},
			{Label: "name", Hint: "generated when empty"},
		})
	case key.Matches(msg, k.Remove, k.Tag, k.Save) && m.focus == imagesPanel:
		if sel {
			m = m.imageAction(msg, it.ID)
		}
	case key.Matches(msg, k.Pull) && m.focus == imagesPanel:
		m = m.pullForm()
	case key.Matches(msg, k.Push) && m.focus == imagesPanel:
		if sel {
			m = m.pushForm(it.ID)
		}
	case !key.Matches(msg, k.Start, k.Stop, k.Restart, k.Kill, k.Remove, k.Exec):
		return m, nil, false
	case key.Matches(msg, k.Exec) && m.src.Terminals == nil:
		m.status = m.src.NoRun
	case !key.Matches(msg, k.Exec) && m.src.Lifecycle == nil:
		m.status = m.src.NoRun
	case m.focus != containersPanel || !sel:
	case key.Matches(msg, k.Start, k.Stop, k.Restart, k.Kill, k.Remove):
		c, _ := m.container(it.ID)
		mm, cmd := m.containerAction(msg, it.ID, c.Name)
		return mm, cmd, true
	case key.Matches(msg, k.Exec):
		mm, cmd := m.open()
		if mm.detail != nil {
			d, c2 := mm.detail.key(msg, mm)
			mm.detail = &d
			return mm, tea.Batch(cmd, c2), true
		}
		return m, cmd, true
	}
	return m, nil, true
}

// answer acts on a dialog's answer.
func (m Model) answer(d dialog.DoneMsg) (tea.Model, tea.Cmd) {
	if !d.OK {
		return m, nil
	}
	what, id, _ := strings.Cut(d.ID, ":")
	c, is := m.src.Lifecycle, m.src.Images
	switch what {
	case askBuild, askCancelBuild, askQuitBuild:
		return m.buildAnswer(what, d.Values)
	case askLoad:
		p := strings.TrimSpace(d.Values[0])
		return m.start("loading "+path.Base(p), func() tea.Msg {
			names, err := is.Load(p)
			return doneMsg{"loaded " + strings.Join(names, ", "), err}
		})
	case askPrune:
		return m.start("pruning", func() tea.Msg {
			s, err := is.Prune()
			return doneMsg{s, err}
		})
	case askStop, askKill, askRemove:
		return m.ctrAnswer(what, id)
	case askRmImage, askTag, askSave:
		return m.imageAnswer(what, id, d.Values)
	case askRun:
		spec, err := runSpec(id, d.Values)
		if err != nil {
			m.status = "error: " + err.Error()
			return m, nil
		}
		return m.start("running", func() tea.Msg {
			cid, err := c.Run(spec)
			return doneMsg{"started " + cid[:min(12, len(cid))], err}
		})
	case askExtract:
		return m.extractAnswer(d.Values)
	}
	return m, nil
}

// runSpec reads the run form.
func runSpec(image string, v []string) (RunSpec, error) {
	s := RunSpec{Image: image, Command: strings.Fields(v[0]), Memory: strings.TrimSpace(v[2]), Name: strings.TrimSpace(v[5])}
	for _, vol := range strings.Split(v[1], ",") {
		if vol = strings.TrimSpace(vol); vol != "" {
			s.Volumes = append(s.Volumes, vol)
		}
	}
	var err error
	if t := strings.TrimSpace(v[3]); t != "" {
		if s.CPUs, err = strconv.ParseFloat(t, 64); err != nil {
			return s, fmt.Errorf("cpus %q: not a number", t)
		}
	}
	if t := strings.TrimSpace(v[4]); t != "" {
		if s.Pids, err = strconv.ParseInt(t, 10, 64); err != nil {
			return s, fmt.Errorf("pids %q: not a number", t)
		}
	}
	return s, nil
}

// open opens the selection of the focused panel.
func (m Model) open() (Model, tea.Cmd) {
	it, ok := m.panels[m.current()].Selected()
	if !ok {
		return m, nil
	}
	var (
		d    detail
		load func() (layers.Stack, error)
	)
	switch m.current() {
	case imagesPanel:
		s := m.src.Images
		d = newDetail(m, kindImage, it.ID, strings.SplitN(it.Text, " ", 2)[0], false)
		load = func() (layers.Stack, error) { return s.ImageStack(it.ID) }
	case containersPanel:
		s := m.src.ContainerStacks
		if s == nil {
			m.status = m.src.NoRun
			return m, nil
		}
		c, _ := m.container(it.ID)
		d = newDetail(m, kindContainer, it.ID, c.Name, c.Running)
		d.mounts = c.Mounts
		load = func() (layers.Stack, error) { return s.ContainerStack(it.ID) }
	case mountsPanel:
		s := m.src.Mounts
		var mt Mount
		for _, x := range m.mounts {
			if x.Point == it.ID {
				mt = x
			}
		}
		d = newDetail(m, kindMount, it.ID, it.ID, false)
		load = func() (layers.Stack, error) { return s.MountStack(mt) }
	}
	d, meterCmd := d.withMeter(m)
	d = d.resize(m.width, max(m.height-2, 3))
	m.detail = &d
	return m.start("reading the layers", tea.Batch(openStack(it.ID, load), meterCmd))
}

// itemText is the text of a tab of the item id.
func (m Model) itemText(kind, id, tab string) string {
	switch kind {
	case kindImage:
		for _, img := range m.images {
			if img.ID == id {
				return imageText(img, tab)
			}
		}
		if m.detail != nil && m.detail.image != nil && m.detail.image.ID == id {
			return imageText(*m.detail.image, tab)
		}
	case kindContainer:
		for _, c := range m.containers {
			if c.ID == id {
				return c.Inspect
			}
		}
	}
	return ""
}
