package terminal_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/creack/pty"

	"minidocker/internal/testutil"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/terminal"
	"minidocker/ui/theme"
)

// hostPty is /bin/sh on a pty of the host: no container needed.
type hostPty struct {
	*os.File
	cmd *exec.Cmd
}

func (p hostPty) Resize(cols, rows int) error {
	return pty.Setsize(p.File, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
}

// rows is the height the pty's program sees.
func (p hostPty) rows() int {
	r, _, err := pty.Getsize(p.File)
	if err != nil {
		return -1
	}
	return r
}

func (p hostPty) Close() error {
	err := p.File.Close()
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	return err
}

func startShell(t *testing.T, script string) hostPty {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Env = []string{"PS1=$ ", "TERM=xterm-256color", "PATH=/usr/bin:/bin"}
	f, err := pty.Start(cmd)
	if err != nil {
		testutil.Unavailable(t, "no pty: "+err.Error())
	}
	p := hostPty{f, cmd}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// pump delivers output messages until the screen holds want.
func pump(t *testing.T, m terminal.Model, want string) terminal.Model {
	t.Helper()
	cmd := m.Init()
	deadline := time.After(5 * time.Second)
	for !strings.Contains(m.Screen(), want) {
		got := make(chan tea.Msg, 1)
		go func() { got <- cmd() }()
		select {
		case msg := <-got:
			m, cmd = m.Update(msg)
			if cmd == nil {
				if !strings.Contains(m.Screen(), want) {
					t.Fatalf("stream ended; screen:\n%s", m.Screen())
				}
				return m
			}
		case <-deadline:
			t.Fatalf("screen never showed %q:\n%s", want, m.Screen())
		}
	}
	return m
}

func TestShellEchoesTypedKeys(t *testing.T) {
	p := startShell(t, "exec /bin/sh -i")
	m := terminal.New(theme.New(true, false), keys.Default(), "shell", p, 60, 12).SetFocus(true)
	m = pump(t, m, "$")
	for _, r := range "echo hi-$((40+2))" {
		m, _ = m.Update(uitest.Key(string(r)))
	}
	m, _ = m.Update(uitest.Key("enter"))
	m = pump(t, m, "hi-42")
}

// TestRepliesReachTheProgram asks the emulator for the cursor position,
// as vi does, and checks the answer comes back on the pty. Without the
// reply loop the emulator blocks and this hangs.
func TestRepliesReachTheProgram(t *testing.T) {
	p := startShell(t, `stty raw -echo; printf 'ab\033[6n'; r=$(dd bs=1 count=6 2>/dev/null | od -An -c | tr -d ' \n'); printf '\r\nreply:%s\r\n' "$r"; sleep 5`)
	m := terminal.New(theme.New(true, false), keys.Default(), "shell", p, 40, 5)
	m = pump(t, m, "reply:")
	m = pump(t, m, `[1;3R`)
}

func TestViewGolden(t *testing.T) {
	p := startShell(t, `printf 'hello \033[31mred\033[0m\r\n\033]52;c;aGk=\007done\r\n'; sleep 5`)
	m := terminal.New(theme.New(true, false), keys.Default(), "shell", p, 30, 4)
	m = pump(t, m, "done")
	m = m.SetSize(32, 6)
	uitest.Golden(t, "terminal", m.View())
}

// TestAttachDetach runs the full-screen attach as tea.Exec would: what is
// typed goes to the program until ctrl+], and the program's output goes to
// the screen while the emulator keeps up.
func TestAttachDetach(t *testing.T) {
	p := startShell(t, "stty -echo; exec cat")
	m := terminal.New(theme.New(true, false), keys.Default(), "shell", p, 40, 5)
	a := m.AttachCommand()
	var screen syncBuffer
	a.SetStdin(strings.NewReader("ping\n\x1dlost"))
	a.SetStdout(&screen)
	if err := a.Run(); err != nil {
		t.Fatal(err)
	}
	m = pump(t, m, "ping")
	if strings.Contains(m.Screen(), "lost") {
		t.Error("keys after ctrl+] reached the program")
	}
	// The tee stopped at the detach; what reached the screen before it
	// is the snapshot and, maybe, the echo.
	if !strings.Contains(screen.String(), "\x1b[2J") {
		t.Errorf("the attach did not draw the screen first: %q", screen.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAttachSaysHowToComeBack checks the full-screen shell keeps its last
// row for the way back, and gives the program the rows above it.
func TestAttachSaysHowToComeBack(t *testing.T) {
	p := startShell(t, "stty -echo; exec cat")
	m := terminal.New(theme.New(true, false), keys.Default(), "shell", p, 40, 6)
	a := m.AttachCommand()
	var screen syncBuffer
	a.SetStdin(strings.NewReader("\x1d"))
	a.SetStdout(&screen)
	if err := a.Run(); err != nil {
		t.Fatal(err)
	}
	out := screen.String()
	for _, want := range []string{"ctrl+] returns to the UI", "\x1b[1;5r", "\x1b[6;1H"} {
		if !strings.Contains(out, want) {
			t.Errorf("the full-screen shell's screen lacks %q: %q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\x1b[;r") {
		t.Errorf("the scroll region is not reset on the way back: %q", out)
	}
	if p.rows() != 5 {
		t.Errorf("the program got %d rows, want 5 (the last is the hint's)", p.rows())
	}
}

// TestShrinkKeepsNewestLines fills a 120×40 pane, shrinks it to 80×24 and
// checks the newest lines and the prompt stay on screen, and that what
// the shell writes next goes below them, not over older rows.
func TestShrinkKeepsNewestLines(t *testing.T) {
	p := startShell(t, `i=1; while [ $i -le 45 ]; do echo line-$i; i=$((i+1)); done; PS1='end$ ' exec /bin/sh -i`)
	m := terminal.New(theme.New(true, false), keys.Default(), "shell", p, 118, 38).SetFocus(true)
	m = m.SetSize(120, 40)
	m = pump(t, m, "end$")
	m = m.SetSize(80, 24)
	uitest.Golden(t, "shrunk_80x24", m.View())
	screen := m.Screen()
	for _, want := range []string{"line-45", "line-25", "end$"} {
		if !strings.Contains(screen, want) {
			t.Errorf("after the shrink the screen lacks %q:\n%s", want, screen)
		}
	}
	for _, r := range "echo after-$((6*7))" {
		m, _ = m.Update(uitest.Key(string(r)))
	}
	m, _ = m.Update(uitest.Key("enter"))
	m = pump(t, m, "after-42")
	lines := strings.Split(strings.TrimRight(m.Screen(), "\n"), "\n")
	at := func(s string) int {
		for i, l := range lines {
			if strings.TrimSpace(l) == s {
				return i
			}
		}
		return -1
	}
	if l45, after := at("line-45"), at("after-42"); l45 < 0 || after < l45 {
		t.Errorf("the shell's next output is not below the newest line (line-45 at %d, after-42 at %d):\n%s", l45, after, m.Screen())
	}
}
