package ui

import (
	"fmt"
	"maps"

	"charm.land/lipgloss/v2"

	"minidocker/ui/theme"
)

// State is the container's state in a few words, as docker ps's STATUS
// column says it: running, paused, created, exited (N), or OOM-killed (N)
// for one the kernel's OOM killer ended.
func (c Container) State() string {
	switch {
	case c.Running && c.Paused:
		return "paused"
	case c.Running:
		return "running"
	case c.OOMKilled:
		return fmt.Sprintf("OOM-killed (%d)", c.ExitCode)
	case c.Status == "exited":
		return fmt.Sprintf("exited (%d)", c.ExitCode)
	case c.Status == "":
		return "unknown"
	}
	return c.Status
}

// The states of an action under way on a container, shown until it ends.
const (
	actStarting   = "starting…"
	actStopping   = "stopping…"
	actKilling    = "killing…"
	actRestarting = "restarting…"
	actRemoving   = "removing…"
)

// stateOf is how the UI shows the container id: the action under way on
// it, else its last listed state, and the style that says whether all is
// well (running), waiting (paused, an action) or ended (exited; in error
// colours for a failure or an OOM kill).
func (m Model) stateOf(id string) (string, lipgloss.Style) {
	c, ok := m.container(id)
	return stateStyle(m.th, c, ok, m.acting[id])
}

func stateStyle(th theme.Theme, c Container, listed bool, acting string) (string, lipgloss.Style) {
	switch {
	case acting != "":
		return acting, th.Warn
	case !listed:
		return "", th.Subtle // not listed (yet): a lesson's new container
	case c.Running && c.Paused:
		return c.State(), th.Warn
	case c.Running:
		return c.State(), th.OK
	case c.OOMKilled || c.Status == "exited" && c.ExitCode != 0:
		return c.State(), th.Error
	}
	return c.State(), th.Subtle
}

// container returns the listed container id.
func (m Model) container(id string) (Container, bool) {
	for _, c := range m.containers {
		if c.ID == id {
			return c, true
		}
	}
	return Container{}, false
}

// setActing records (or, with an empty what, forgets) the action under
// way on the container id, and shows it in the list. The map is copied:
// an older model keeps its own.
func (m Model) setActing(id, what string) Model {
	m.acting = maps.Clone(m.acting)
	if m.acting == nil {
		m.acting = map[string]string{}
	}
	if what == "" {
		delete(m.acting, id)
	} else {
		m.acting[id] = what
	}
	m.panels[containersPanel] = m.panels[containersPanel].SetItems(containerItems(m.containers, m.acting))
	return m
}
