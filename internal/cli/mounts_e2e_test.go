package cli

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestUIMountsFollow runs the real binary's UI in tmux: a container run
// after the UI opened shows in the Host mounts panel by its name, without
// a key pressed; its mount's view, once the container is removed, says
// the mount is gone.
func TestUIMountsFollow(t *testing.T) {
	e := newE2E(t)
	e.open(e.bin + " --root " + e.root + " ui")
	e.waitFor("[3] Host mounts")
	e.keys("3")
	e.md("run", "-d", "--name", "followed", "base", "sleep", "600")
	t.Cleanup(func() { exec.Command(e.bin, "--root", e.root, "rm", "-f", "followed").Run() })
	e.waitFor("minidocker container followed (base)")
	screen := e.tm("capture-pane", "-p", "-t", "ui")
	for i := 0; !strings.Contains(selectedLine(screen), "followed") && i < 20; i++ {
		e.keys("j")
		time.Sleep(50 * time.Millisecond)
		screen = e.tm("capture-pane", "-p", "-t", "ui")
	}
	e.keys("Enter")
	e.waitFor("1 Layers")
	e.md("rm", "-f", "followed")
	if screen := e.waitFor("GONE"); !strings.Contains(screen, "(unmounted)") || !strings.Contains(screen, "is gone") {
		t.Errorf("the view of a mount gone does not say so:\n%s", screen)
	}
}

// selectedLine is the Host mounts panel's line the cursor is on, as
// the main panel's Owner line shows it.
func selectedLine(screen string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "Owner ") {
			return l
		}
	}
	return ""
}
