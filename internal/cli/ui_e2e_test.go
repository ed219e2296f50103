package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minidocker/internal/testutil"
)

// TestUIEndToEnd runs the real binary's UI in tmux over a real container:
// it opens the container, types into its shell, and watches the whiteout
// the shell's rm makes appear in the layer view.
func TestUIEndToEnd(t *testing.T) {
	testutil.RequireRoot(t)
	tmux := testutil.RequireTool(t, "tmux")
	testutil.CheckMounts(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "minidocker")
	if out, err := buildCmd(bin).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "store")
	md := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--root", root}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("minidocker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	md("image", "create-base")
	md("run", "-d", "-i", "-t", "--name", "e2e", "base", "/bin/sh")
	t.Cleanup(func() { exec.Command(bin, "--root", root, "rm", "-f", "e2e").Run() })

	sock := fmt.Sprintf("minidocker-e2e-%d", os.Getpid())
	tm := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	tm("new-session", "-d", "-s", "ui", "-x", "120", "-y", "40", bin+" --root "+root+" ui")
	t.Cleanup(func() { exec.Command(tmux, "-L", sock, "kill-server").Run() })
	waitFor := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		var screen string
		for time.Now().Before(deadline) {
			screen = tm("capture-pane", "-p", "-t", "ui")
			if strings.Contains(screen, want) {
				return screen
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("the screen never showed %q:\n%s", want, screen)
		return ""
	}

	waitFor("[1] Images")
	waitFor("● e2e running")
	tm("send-keys", "-t", "ui", "2", "Enter")
	waitFor("merged")
	tm("send-keys", "-t", "ui", "2")
	waitFor("ctrl+g to leave")
	// The three lessons of the issue: a copy-up, a whiteout, an opaque dir.
	// /bin is a link to usr/bin in base, and rm -rf /usr takes mkdir with
	// it, so a copy of busybox makes the directory again.
	tm("send-keys", "-t", "ui", "echo x > /etc/hosts; echo step-$((6*7))", "Enter")
	waitFor("step-42")
	screen := waitFor("hosts")
	if !strings.Contains(screen, "~") {
		t.Errorf("the changed /etc/hosts is not marked modified (~):\n%s", screen)
	}
	tm("send-keys", "-t", "ui", "rm /bin/sh; echo step-$((7*7))", "Enter")
	waitFor("step-49")
	screen = waitFor("⊘ whiteout")
	if !strings.Contains(screen, "sh ⊘ whiteout") {
		t.Errorf("the whiteout is not the deleted file's:\n%s", screen)
	}
	tm("send-keys", "-t", "ui", "cp /usr/bin/busybox /busybox; rm -rf /usr; /busybox mkdir /usr; /busybox echo step-$((8*8))", "Enter")
	waitFor("step-64")
	screen = waitFor("usr/ ◼ opaque")
	tm("send-keys", "-t", "ui", "C-g")
	tm("send-keys", "-t", "ui", "q")
	deadline := time.Now().Add(5 * time.Second)
	for exec.Command(tmux, "-L", sock, "has-session", "-t", "ui").Run() == nil {
		if time.Now().After(deadline) {
			t.Fatal("q did not quit the UI")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(md("ps"), "e2e") {
		t.Error("quitting the UI stopped the container")
	}
}

// buildCmd builds the minidocker binary, the repository's main package two
// directories up, into bin.
func buildCmd(bin string) *exec.Cmd {
	c := exec.Command("go", "build", "-o", bin, ".")
	c.Dir = filepath.Join("..", "..")
	return c
}
