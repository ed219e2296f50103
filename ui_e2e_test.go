package main

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
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
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
	if out, err := exec.Command(bin, "ui", "--help").CombinedOutput(); err != nil {
		t.Skipf("minidocker ui is not wired into main.go yet: %s", out)
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
	tm("send-keys", "-t", "ui", "rm /etc/hosts; echo gone-$((6*7))", "Enter")
	waitFor("gone-42")
	screen := waitFor("⊘ whiteout")
	if !strings.Contains(screen, "hosts") {
		t.Errorf("the whiteout is not the deleted file's:\n%s", screen)
	}
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
