package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"minidocker/ui/internal/uitest"
)

func TestContainerTabsGolden(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{"container_shell", []string{"2", "enter", "2"}},
		{"container_logs", []string{"2", "enter", "3"}},
		{"container_stats", []string{"2", "enter", "4"}},
		{"container_inspect", []string{"2", "enter", "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fc, _ := newTest(t, 120, 40, false)
			p := newFakePty("# ls\r\nbin  etc\r\n# ")
			fc.pty = p
			m = press(t, m, tt.keys...)
			if m.detail != nil {
				defer m.detail.close()
			}
			uitest.Golden(t, tt.name, m.render())
		})
	}
}

// TestShellFocus checks keys reach the shell while it has focus, and
// that ctrl+g gives them back to the UI.
func TestShellFocus(t *testing.T) {
	m, fc, _ := newTest(t, 120, 40, false)
	p := newFakePty("# ")
	fc.pty = p
	m = press(t, m, "2", "enter", "2", "l", "s", "q", "enter")
	defer m.detail.close()
	if got := p.Typed("lsq\r"); got != "lsq\r" {
		t.Errorf("the shell got %q, want %q", got, "lsq\r")
	}
	// j after ctrl+g moves the tree; x after a second ctrl+g is typed.
	m = press(t, m, "ctrl+g", "j", "ctrl+g", "x")
	if got := p.Typed("lsq\rx"); got != "lsq\rx" {
		t.Errorf("with the tree focused the shell got keys: %q", got)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cols == 0 {
		t.Error("the pty was never sized")
	}
}

func TestMouse(t *testing.T) {
	m, _, _ := newTest(t, 120, 40, false)
	// The containers panel starts at row 1+14; its first item one below.
	m = send(t, m, tea.MouseClickMsg{X: 5, Y: 1 + 14 + 2, Button: tea.MouseLeft})
	if m.focus != containersPanel {
		t.Fatalf("focus %d after a click on the containers panel", m.focus)
	}
	if it, _ := m.panels[containersPanel].Selected(); it.ID != "dead00beef001122" {
		t.Errorf("clicked the second container, selected %q", it.ID)
	}
	m = send(t, m, tea.MouseWheelMsg{X: 5, Y: 1 + 14 + 2, Button: tea.MouseWheelUp})
	if it, _ := m.panels[containersPanel].Selected(); it.ID != "c0ffee0123456789" {
		t.Errorf("wheel up selected %q", it.ID)
	}
}
