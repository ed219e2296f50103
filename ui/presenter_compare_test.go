package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestPresenterCompare checks that the compare key, which only reads,
// works in presenter mode, and that esc closes the comparison rather than
// the container.
func TestPresenterCompare(t *testing.T) {
	m, _, _ := newPresenter(t, 80, 24)
	m = press(t, m, "2", "enter")
	for range 20 {
		if n, ok := m.detail.layers.Selected(); ok && n.Path == "/etc/hosts" {
			break
		}
		m = press(t, m, "j")
	}
	m = press(t, m, "d")
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "compare /etc/hosts") || strings.Contains(screen, "presenter)") {
		t.Fatalf("d did not open the comparison in presenter mode:\n%s", screen)
	}
	checkScreen(t, m.render(), 80, 24)
	m = press(t, m, "esc")
	if m.detail == nil || m.detail.layers.Comparing() {
		t.Fatal("esc did not close the comparison alone")
	}
}
