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

// e2e is the real binary over a store of its own, and a tmux server of
// the test's own to run its UI in.
type e2e struct {
	t         *testing.T
	bin, root string
	tmux      string
	sock      string
}

// newE2E builds the binary and makes a store holding base.
func newE2E(t *testing.T) *e2e {
	t.Helper()
	testutil.RequireRoot(t)
	tmux := testutil.RequireTool(t, "tmux")
	testutil.CheckMounts(t)
	dir := t.TempDir()
	e := &e2e{t: t, bin: filepath.Join(dir, "minidocker"), root: filepath.Join(dir, "store"), tmux: tmux,
		sock: fmt.Sprintf("minidocker-e2e-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))}
	if out, err := buildCmd(e.bin).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	e.md("image", "create-base")
	return e
}

// md runs the binary over the test's store.
func (e *e2e) md(args ...string) string {
	e.t.Helper()
	out, err := exec.Command(e.bin, append([]string{"--root", e.root}, args...)...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("minidocker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (e *e2e) tm(args ...string) string {
	e.t.Helper()
	out, err := exec.Command(e.tmux, append([]string{"-L", e.sock}, args...)...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// open runs command in a 120×40 tmux session named ui.
func (e *e2e) open(command string) {
	e.t.Helper()
	e.tm("new-session", "-d", "-s", "ui", "-x", "120", "-y", "40", command)
	e.t.Cleanup(func() {
		exec.Command(e.tmux, "-L", e.sock, "kill-server").Run()
		e.removeAll()
	})
}

// removeAll removes every container of the test's store: a UI killed
// with its tmux server ends no lesson, and a failed test may leave the
// containers it made; the store's directory goes with the test.
func (e *e2e) removeAll() {
	out, err := exec.Command(e.bin, "--root", e.root, "ps", "-a", "-q").Output()
	if ids := strings.Fields(string(out)); err == nil && len(ids) > 0 {
		exec.Command(e.bin, append([]string{"--root", e.root, "rm", "-f"}, ids...)...).Run()
	}
}

func (e *e2e) keys(keys ...string) {
	e.t.Helper()
	e.tm(append([]string{"send-keys", "-t", "ui"}, keys...)...)
}

// waitFor waits for the screen to show want and returns it.
func (e *e2e) waitFor(want string) string {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = e.tm("capture-pane", "-p", "-t", "ui")
		if strings.Contains(screen, want) {
			return screen
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("the screen never showed %q:\n%s", want, screen)
	return ""
}

// waitGone waits for the session to end: the UI has quit.
func (e *e2e) waitGone(why string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for exec.Command(e.tmux, "-L", e.sock, "has-session", "-t", "ui").Run() == nil {
		if time.Now().After(deadline) {
			e.t.Fatal(why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestUIEndToEnd runs the real binary's UI in tmux over a real container:
// it opens the container, types into its shell, watches the whiteout the
// shell's rm makes appear in the layer view, then commits the container
// through the commit dialog.
func TestUIEndToEnd(t *testing.T) {
	e := newE2E(t)
	e.md("run", "-d", "-i", "-t", "--name", "e2e", "base", "/bin/sh")
	t.Cleanup(func() { exec.Command(e.bin, "--root", e.root, "rm", "-f", "e2e").Run() })
	e.open(e.bin + " --root " + e.root + " ui")

	e.waitFor("[1] Images")
	e.waitFor("● e2e running")
	e.keys("2", "Enter")
	e.waitFor("merged")
	e.keys("2")
	e.waitFor("ctrl+g to leave")
	// The three lessons of the issue: a copy-up, a whiteout, an opaque dir.
	// /bin is a link to usr/bin in base, and rm -rf /usr takes mkdir with
	// it, so a copy of busybox makes the directory again.
	e.keys("echo x > /etc/hosts; echo step-$((6*7))", "Enter")
	e.waitFor("step-42")
	screen := e.waitFor("hosts")
	if !strings.Contains(screen, "~") {
		t.Errorf("the changed /etc/hosts is not marked modified (~):\n%s", screen)
	}
	e.keys("rm /bin/sh; echo step-$((7*7))", "Enter")
	e.waitFor("step-49")
	screen = e.waitFor("⊘ whiteout")
	if !strings.Contains(screen, "sh ⊘ whiteout") {
		t.Errorf("the whiteout is not the deleted file's:\n%s", screen)
	}
	e.keys("cp /usr/bin/busybox /busybox; rm -rf /usr; /busybox mkdir /usr; /busybox echo step-$((8*8))", "Enter")
	e.waitFor("step-64")
	e.waitFor("usr/ ◼ opaque")
	e.keys("C-g")

	// The commit: the dialog previews the opaque /usr in both its forms.
	e.keys("C")
	e.waitFor("Commit e2e")
	// The preview is read after the dialog opens.
	screen = e.waitFor("usr/.wh..wh..opq")
	for _, want := range []string{"trusted.overlay.opaque=y", "usr/.wh..wh..opq", "etc/hosts"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the commit preview lacks %q:\n%s", want, screen)
		}
	}
	e.keys("e2e-commit:v1", "Tab", "from the UI", "Enter")
	e.waitFor("committed")
	e.waitFor("› e2e-commit:v1")
	if out := e.md("images"); !strings.Contains(out, "e2e-commit") {
		t.Errorf("the committed image is not listed:\n%s", out)
	}
	if out := e.md("history", "e2e-commit:v1"); !strings.Contains(out, "from the UI") {
		t.Errorf("the commit message is not in the history:\n%s", out)
	}

	e.keys("q")
	e.waitGone("q did not quit the UI")
	if !strings.Contains(e.md("ps"), "e2e") {
		t.Error("quitting the UI stopped the container")
	}
}

// TestUIPresenterEndToEnd runs minidocker --presenter in tmux over a real
// container: a destructive key is refused with a note and leaves the
// container as it was; a letter typed at the tree beside the shell says
// where the keys go; the full-screen shell says how to come back; and a
// shell pane shrunk from 120×40 to 80×24 keeps its newest lines.
func TestUIPresenterEndToEnd(t *testing.T) {
	e := newE2E(t)
	e.md("run", "-d", "-i", "-t", "--name", "e2e", "base", "/bin/sh")
	t.Cleanup(func() { exec.Command(e.bin, "--root", e.root, "rm", "-f", "e2e").Run() })
	e.open(e.bin + " --root " + e.root + " --presenter")

	e.waitFor("● e2e running")
	e.keys("2", "D")
	e.waitFor("D remove is off (presenter)")
	e.keys("S")
	e.waitFor("S stop is off (presenter)")
	if screen := e.tm("capture-pane", "-p", "-t", "ui"); strings.Contains(screen, "Remove e2e") || strings.Contains(screen, "Stop e2e") {
		t.Errorf("presenter mode asked to remove or stop:\n%s", screen)
	}
	if out := e.md("ps"); !strings.Contains(out, "e2e") {
		t.Errorf("the container is not running after the refused keys:\n%s", out)
	}

	e.keys("Enter")
	e.waitFor("merged")
	e.keys("2")
	e.waitFor("ctrl+g to leave")
	e.keys("i=0; while [ $i -lt 50 ]; do i=$((i+1)); echo row-$i; done; echo end-$((6*7))", "Enter")
	e.waitFor("end-42")
	e.keys("C-g")
	e.waitFor("ctrl+g to type")
	e.keys("w")
	e.waitFor("keys go to the tree; ctrl+g to type in the shell")

	e.tm("resize-window", "-t", "ui", "-x", "80", "-y", "24")
	screen := e.waitFor("end-42")
	if !strings.Contains(screen, "row-50") {
		t.Errorf("the shrunk shell pane lost its newest lines:\n%s", screen)
	}

	e.keys("F")
	e.waitFor("ctrl+] returns to the UI")
	e.keys("C-]")
	e.waitFor("ctrl+g to type")
	e.keys("q")
	e.waitGone("q did not quit the UI")
}

// TestUIBuildEndToEnd runs build --ui of a three-step Dockerfile: the RUN
// step's file shows in the live view, the build reaches its done state,
// and the image is stored under its tag.
func TestUIBuildEndToEnd(t *testing.T) {
	e := newE2E(t)
	ctx := t.TempDir()
	df := "FROM base\nCOPY a.txt /a.txt\nRUN echo made > /made-by-run && sleep 2\n"
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "a.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	status := filepath.Join(t.TempDir(), "status")
	e.open(fmt.Sprintf("%s --root %s build --ui -t e2e-built:1 %s; echo $? > %s", e.bin, e.root, ctx, status))

	e.waitFor("· running: its upper dir")
	e.waitFor("made-by-run")
	screen := e.waitFor("· built ")
	for _, want := range []string{"steps 3/3", "✓ 3/3 done", "· removed: its layers"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the ended build lacks %q:\n%s", want, screen)
		}
	}
	e.keys("q")
	e.waitGone("q did not quit the build's UI")
	if b, err := os.ReadFile(status); err != nil || strings.TrimSpace(string(b)) != "0" {
		t.Errorf("build --ui exited with %q (%v)", b, err)
	}
	if out := e.md("images"); !strings.Contains(out, "e2e-built") {
		t.Errorf("the built image is not listed:\n%s", out)
	}
	if out := e.md("ps", "-a"); strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("the build left containers:\n%s", out)
	}
}

// buildCmd builds the minidocker binary, the repository's main package two
// directories up, into bin.
func buildCmd(bin string) *exec.Cmd {
	c := exec.Command("go", "build", "-o", bin, ".")
	c.Dir = filepath.Join("..", "..")
	return c
}

// TestUIManagerEndToEnd runs the real binary's UI in tmux as a daily
// manager: the command palette opens an image; a container that exited
// with code 3 says so; a running container is killed, then removed, and
// another force-removed while it runs; a run from the Images panel
// records the image's name, as ps shows it.
func TestUIManagerEndToEnd(t *testing.T) {
	e := newE2E(t)
	e.md("run", "-d", "-i", "-t", "--name", "e2e", "base", "/bin/sh")
	e.md("run", "-d", "--name", "web", "base", "sleep", "1000")
	// Its exit code is the test's point: run's own error is expected.
	if err := exec.Command(e.bin, "--root", e.root, "run", "--name", "three", "base", "sh", "-c", "exit 3").Run(); err == nil {
		t.Fatal("run of exit 3 succeeded")
	}
	t.Cleanup(func() { exec.Command(e.bin, "--root", e.root, "rm", "-f", "e2e", "web", "three", "fromui").Run() })
	e.open(e.bin + " --root " + e.root + " ui")
	e.waitFor("● e2e running")
	e.waitFor("○ three exited (3)")

	// The palette: an image by a few letters of its name.
	e.keys(":")
	e.waitFor("an action, a container or an image")
	e.keys("bas")
	e.waitFor("image     base")
	e.keys("Enter")
	e.waitFor("› base")
	e.waitFor("merged")
	// The next key waits for the home screen: sent at once after esc, a
	// terminal reads the two as alt and that key.
	e.keys("Escape")
	e.waitFor("[1] Images")

	// Kill, then remove, the container opened from the palette.
	e.keys(":", "e2e", "Enter")
	e.waitFor("› e2e")
	e.keys("K")
	e.waitFor("Kill e2e with SIGKILL?")
	e.keys("y")
	e.waitFor("exited (137)")
	e.keys("D")
	e.waitFor("Remove e2e and its upper directory?")
	e.keys("y")
	e.waitFor("removed e2e")
	if screen := e.waitFor("[1] Images"); strings.Contains(screen, "› e2e") {
		t.Errorf("the removed container's view stayed open:\n%s", screen)
	}

	// A running container's remove is a force remove, asked as one.
	e.keys(":", "web", "Enter")
	e.waitFor("› web")
	e.keys("D")
	e.waitFor("Force remove web? It is running")
	e.keys("y")
	e.waitFor("removed web")
	if out := e.md("ps", "-a"); strings.Contains(out, " e2e") || strings.Contains(out, " web") {
		t.Errorf("removed containers are still there:\n%s", out)
	}

	// A run from the Images panel records the image's name.
	e.keys("1", "r")
	e.waitFor("Run a container")
	e.keys("sleep 1000", "Tab", "Tab", "Tab", "Tab", "Tab", "fromui", "Enter")
	e.waitFor("● fromui running")
	for _, l := range strings.Split(e.md("ps"), "\n") {
		if strings.HasSuffix(strings.TrimSpace(l), "fromui") && !strings.Contains(l, "base:latest") {
			t.Errorf("ps shows the run from the UI as %q, want the image's name", l)
		}
	}
	e.keys("q")
	e.waitGone("q did not quit the UI")
}
