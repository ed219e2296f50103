package ui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"minidocker/ui/layers"
)

// Results of the loads, each with its own error.
type (
	imagesMsg struct {
		items []Image
		err   error
	}
	containersMsg struct {
		items []Container
		err   error
	}
	mountsMsg struct {
		items []Mount
		err   error
	}
	// stackMsg is the layer trees of the item opened as ref.
	stackMsg struct {
		ref   string
		stack layers.Stack
		err   error
	}
	// doneMsg is the end of an action: what it was and how it went.
	doneMsg struct {
		what string
		err  error
	}
	refreshMsg struct{}
)

// RefreshEvery is how often the container list is read again.
const RefreshEvery = 2 * time.Second

// StatusFor is how long the status line keeps a result or an error: about
// that long, as the refresh that clears it comes every RefreshEvery.
const StatusFor = 5 * time.Second

// ageStatus clears a status shown StatusFor already, so that an error does
// not stay on screen for minutes after it stopped being news. It needs no
// timer of its own: the container list's refresh calls it.
func (m Model) ageStatus() Model {
	now := m.now()
	switch {
	case m.status != m.statusSeen:
		m.statusSeen, m.statusAt = m.status, now
	case m.status != "" && now.Sub(m.statusAt) >= StatusFor:
		m.status, m.statusSeen = "", ""
	}
	return m
}

func refreshTick() tea.Cmd {
	return tea.Tick(RefreshEvery, func(time.Time) tea.Msg { return refreshMsg{} })
}

func loadImages(s ImageSource) tea.Cmd {
	if s == nil {
		return nil
	}
	return func() tea.Msg {
		items, err := s.Images()
		return imagesMsg{items, err}
	}
}

func loadContainers(s ContainerLister) tea.Cmd {
	if s == nil {
		return nil
	}
	return func() tea.Msg {
		items, err := s.Containers()
		return containersMsg{items, err}
	}
}

func loadMounts(s MountSource) tea.Cmd {
	if s == nil {
		return nil
	}
	return func() tea.Msg {
		items, err := s.Mounts()
		return mountsMsg{items, err}
	}
}

// report tells of an error of op, as an action's end does.
func report(op string, err error) tea.Cmd {
	return func() tea.Msg { return doneMsg{op, fmt.Errorf("%s: %w", op, err)} }
}

// do runs an action off the program's goroutine and reports its end.
func do(what string, fn func() error) tea.Cmd {
	return func() tea.Msg { return doneMsg{what, fn()} }
}

// loaded takes the results of loads and actions.
func (m Model) loaded(msg tea.Msg) (Model, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case imagesMsg:
		m.images = msg.items
		m.setErr(msg.err)
		m.panels[imagesPanel] = m.panels[imagesPanel].SetItems(imageItems(msg.items))
	case containersMsg:
		m.containers = msg.items
		m.setErr(msg.err)
		m.panels[containersPanel] = m.panels[containersPanel].SetItems(containerItems(msg.items))
		if m.detail != nil && m.detail.kind == kindContainer {
			d, cmd := m.detail.setRunning(m, running(msg.items, m.detail.id))
			m.detail = &d
			m.main = m.main.SetText(m.mainText())
			return m, cmd, true
		}
	case mountsMsg:
		m.mounts = msg.items
		m.setErr(msg.err)
		m.panels[mountsPanel] = m.panels[mountsPanel].SetItems(mountItems(msg.items))
	case refreshMsg:
		m = m.ageStatus()
		return m, tea.Batch(loadContainers(m.src.ContainerList), refreshTick()), true
	case doneMsg:
		m.busy = ""
		m.status = msg.what
		m.setErr(msg.err)
		return m, tea.Batch(loadImages(m.src.Images), loadContainers(m.src.ContainerList)), true
	default:
		return m, nil, false
	}
	m.main = m.main.SetText(m.mainText())
	return m, nil, true
}

func (m *Model) setErr(err error) {
	if err != nil {
		m.status = "error: " + err.Error()
	}
}

// start shows what is under way with a spinner.
func (m Model) start(what string, cmd tea.Cmd) (Model, tea.Cmd) {
	m.busy = what
	return m, tea.Batch(cmd, m.spin.Tick)
}
