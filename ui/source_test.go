package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// browseOnly is a container source that lists containers and reads their
// layers, and nothing more.
type browseOnly struct {
	ContainerLister
	StackWatcher
}

// TestPartialRoles checks that the roles stand alone: with containers
// listed and their layers read but no lifecycle, terminal, logs or stats,
// the actions say why they cannot run and the tabs stay empty, and
// nothing reaches the missing roles.
func TestPartialRoles(t *testing.T) {
	fc := &fakeContainers{}
	why := "containers are read-only here"
	src := Sources{Images: &fakeImages{}, Mounts: fakeMounts{}, NoRun: why}
	b := browseOnly{fc, fc}
	src.ContainerList, src.ContainerStacks = b, b
	m := New(src, Options{Dark: true})
	m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m = send(t, m, loadImages(src.Images)())
	m = send(t, m, loadContainers(src.ContainerList)())
	// The actions' keys are off: nothing runs and no question is asked.
	m = press(t, m, "2", "s", "S", "D", "e")
	if m.dialog.Active() || m.detail != nil {
		t.Errorf("an action key did something: dialog %v, detail %v", m.dialog.Active(), m.detail != nil)
	}
	m = press(t, m, "enter", "2")
	if got := ansi.Strip(m.render()); !strings.Contains(got, why) {
		t.Errorf("the shell tab without terminals does not say why:\n%s", got)
	}
	m = press(t, m, "3", "4", "1")
	if !m.detail.loaded || len(fc.calls) != 0 {
		t.Errorf("layers loaded %v, calls %q", m.detail.loaded, fc.calls)
	}
	m.detail.close()
}
