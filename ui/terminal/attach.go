package terminal

import (
	"bytes"
	"io"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/cancelreader"
	"golang.org/x/term"
)

// DetachKey is the byte that ends a full-screen attach: ctrl+], as telnet.
const DetachKey = 0x1d

// AttachHint is the line under a full-screen shell.
const AttachHint = "ctrl+] returns to the UI · minidocker, full-screen shell"

// fitHint cuts or pads the hint to w cells.
func fitHint(s string, w int) string {
	s = ansi.Truncate(s, w, "")
	return s + strings.Repeat(" ", max(w-ansi.StringWidth(s), 0))
}

// DetachedMsg says a full-screen attach returned.
type DetachedMsg struct{ Err error }

// Attach hands the whole terminal to the program until ctrl+] is typed or
// the program ends, then gives it back to the UI (tea.Exec).
func (m Model) Attach() tea.Cmd {
	return tea.Exec(m.AttachCommand(), func(err error) tea.Msg { return DetachedMsg{Err: err} })
}

// AttachCommand is what Attach runs while the program is paused.
func (m Model) AttachCommand() tea.ExecCommand { return &attach{m: m} }

type attach struct {
	m              Model
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (a *attach) SetStdin(r io.Reader)  { a.stdin = r }
func (a *attach) SetStdout(w io.Writer) { a.stdout = w }
func (a *attach) SetStderr(w io.Writer) { a.stderr = w }

// Run copies the keyboard to the program and its output to the screen.
// The emulator keeps being fed, so the pane is current on return.
func (a *attach) Run() error {
	if a.stdin == nil {
		a.stdin = os.Stdin
	}
	if a.stdout == nil {
		a.stdout = os.Stdout
	}
	// The one raw-terminal path, golang.org/x/term, as the CLI's run and
	// exec use it.
	if f, ok := a.stdin.(fder); ok && term.IsTerminal(int(f.Fd())) {
		st, err := term.MakeRaw(int(f.Fd()))
		if err == nil {
			defer term.Restore(int(f.Fd()), st)
		}
	}
	w, h := a.m.width, a.m.height
	if f, ok := a.stdout.(fder); ok {
		if fw, fh, err := term.GetSize(int(f.Fd())); err == nil {
			w, h = fw, fh
		}
	}
	// The last row says how to come back; the program gets the rows above
	// it, and a scroll region keeps its output off that row.
	rows := h
	if h >= 3 {
		rows = h - 1
	}
	a.m.emu.Resize(w, rows)
	_ = a.m.pty.Resize(w, rows)
	// Draw what the program has drawn so far, then follow its output.
	snap := strings.ReplaceAll(a.m.emu.Render(), "\n", "\r\n")
	c := a.m.emu.CursorPosition()
	var b strings.Builder
	b.WriteString(ansi.EraseEntireScreen + ansi.CursorHomePosition + snap)
	if rows < h {
		b.WriteString(ansi.SetTopBottomMargins(1, rows) + ansi.CursorPosition(1, h) +
			ansi.SGR(ansi.ReverseAttr) + fitHint(AttachHint, w) + ansi.ResetStyle)
		defer io.WriteString(a.stdout, ansi.SetTopBottomMargins(0, 0))
	}
	b.WriteString(ansi.CursorPosition(c.X+1, c.Y+1))
	_, _ = io.WriteString(a.stdout, b.String())
	a.m.tee.Store(&a.stdout)
	defer a.m.tee.Store(nil)

	cr, err := cancelreader.NewReader(a.stdin)
	if err != nil {
		return err
	}
	defer cr.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-a.m.done: // the program ended: give the screen back
			cr.Cancel()
		case <-stop:
		}
	}()
	buf := make([]byte, 1024)
	for {
		n, err := cr.Read(buf)
		if i := bytes.IndexByte(buf[:n], DetachKey); i >= 0 {
			_, werr := a.m.pty.Write(buf[:i])
			cr.Cancel()
			return werr
		}
		if n > 0 {
			if _, err := a.m.pty.Write(buf[:n]); err != nil {
				return err
			}
		}
		if err != nil {
			if err == cancelreader.ErrCanceled {
				return nil
			}
			return err
		}
	}
}

// fder is a file with a descriptor, such as *os.File.
type fder interface{ Fd() uintptr }
