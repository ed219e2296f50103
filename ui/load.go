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
		if m.openOnLoad && len(msg.items) > 0 {
			return m.openFirstImage()
		}
	case containersMsg:
		m.containers = msg.items
		m.setErr(msg.err)
		m.panels[containersPanel] = m.panels[containersPanel].SetItems(containerItems(msg.items, m.acting))
		if m.detail != nil && m.detail.kind == kindContainer {
			d, cmd := m.detail.setRunning(m, running(msg.items, m.detail.id))
			m.detail = &d
			m.main = m.main.SetText(m.mainText())
			return m, cmd, true
		}
	case mountsMsg:
		m.mounts = msg.items
		m.setErr(msg.err)
		if msg.err == nil {
			m = m.mountsGone(msg.items)
		}
		m.panels[mountsPanel] = m.panels[mountsPanel].SetItems(mountItems(msg.items))
	case mountWatchMsg, mountsChangedMsg:
		return m.mountWatch(msg)
	case refreshMsg:
		if m.status != "" && !m.statusAt.IsZero() && m.now().Sub(m.statusAt) >= StatusFor {
			m.status = ""
		}
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
