// Package terminal is a container's terminal in a pane: the bytes of its
// pty feed an x/vt emulator, whose screen the pane draws; keys typed while
// the pane has focus go back through the emulator, which encodes them as
// the program's terminal modes ask.
package terminal

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"

	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// Pty is a container's terminal as the UI needs it: the program's output
// to read, its input to write, and its window size.
type Pty interface {
	io.ReadWriteCloser
	Resize(cols, rows int) error
}

// OutputMsg says the screen changed; Ch is the stream to wait on next.
type OutputMsg struct{ Ch <-chan struct{} }

// ExitedMsg says the pty whose stream was Ch closed: the program ended or
// detached.
type ExitedMsg struct {
	Ch  <-chan struct{}
	Err error
}

// Model is the terminal pane.
type Model struct {
	keys    keys.Map
	th      theme.Theme
	title   string
	emu     *vt.SafeEmulator
	pty     Pty
	changed chan struct{}
	done    chan struct{}
	tee     *atomic.Pointer[io.Writer]
	exited  bool
	err     error
	width   int
	height  int
	focused bool
}

// New starts copying p's output into an emulator of w×h cells and the
// emulator's replies (cursor reports, device attributes) back to p. The
// reader never waits for the program: it tells it of new output through a
// channel of one slot that a slow program simply finds full.
func New(th theme.Theme, km keys.Map, title string, p Pty, w, h int) Model {
	w, h = max(w, 2), max(h, 1)
	m := Model{
		keys: km, th: th, title: title, pty: p,
		emu:     vt.NewSafeEmulator(w, h),
		changed: make(chan struct{}, 1),
		done:    make(chan struct{}),
		tee:     &atomic.Pointer[io.Writer]{},
		width:   w, height: h,
	}
	_ = p.Resize(w, h)
	go replies(m.emu, p)
	go output(p, m.emu, m.changed, m.done, m.tee)
	return m
}

// output copies the program's output into the emulator until the pty
// closes, then closes changed.
func output(p io.Reader, emu *vt.SafeEmulator, changed, done chan struct{}, tee *atomic.Pointer[io.Writer]) {
	defer close(done)
	defer close(changed)
	buf := make([]byte, 32*1024)
	for {
		n, err := p.Read(buf)
		if n > 0 {
			_, _ = emu.Write(buf[:n])
			if w := tee.Load(); w != nil {
				_, _ = (*w).Write(buf[:n])
			}
			select {
			case changed <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

// replies copies what the emulator answers and the keys it encodes back to
// the program. The emulator writes them into a pipe while it holds its
// lock, so this loop must always be reading: a reply left unread would
// stop the emulator, and with it the output copy, while the program waits
// for the answer (vi asking for the cursor position). Writes to the pty go
// through a queue so a program that reads no input cannot stall the pipe.
func replies(emu *vt.SafeEmulator, p io.Writer) {
	var (
		mu      sync.Mutex
		pending []byte
		done    bool
		wake    = make(chan struct{}, 1)
	)
	go func() {
		for range wake {
			mu.Lock()
			b, end := pending, done
			pending = nil
			mu.Unlock()
			if len(b) > 0 {
				if _, err := p.Write(b); err != nil {
					end = true
				}
			}
			if end {
				return
			}
		}
	}()
	buf := make([]byte, 4096)
	for {
		n, err := emu.Read(buf)
		mu.Lock()
		pending = append(pending, buf[:n]...)
		if err != nil {
			done = true
		}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
		if err != nil {
			close(wake)
			return
		}
	}
}

// Init waits for the first output.
func (m Model) Init() tea.Cmd { return Wait(m.changed) }

// Wait returns the next OutputMsg of ch, or ExitedMsg once it closes.
func Wait(ch <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		if _, ok := <-ch; !ok {
			return ExitedMsg{Ch: ch}
		}
		return OutputMsg{Ch: ch}
	}
}

// SetFocus says whether keys go to the program.
func (m Model) SetFocus(f bool) Model { m.focused = f; return m }

// Focused reports whether keys go to the program.
func (m Model) Focused() bool { return m.focused }

// SetSize resizes the emulator and the pty to w×h cells inside the frame.
func (m Model) SetSize(w, h int) Model {
	w, h = max(w-2, 2), max(h-2, 1)
	m.width, m.height = w, h
	keepCursorRow(m.emu, h)
	m.emu.Resize(w, h)
	_ = m.pty.Resize(w, h)
	return m
}

// keepCursorRow scrolls the screen up before it shrinks to h rows, as a
// terminal does, so that the cursor's row and the rows above it (the
// newest output, the prompt) stay on screen. The emulator cuts a shrunk
// screen at the bottom and only moves the cursor up to its last row, so
// the shell then wrote its next lines over old ones. A full-screen
// program (the alternate screen) redraws itself on SIGWINCH instead.
func keepCursorRow(emu *vt.SafeEmulator, h int) {
	y := emu.CursorPosition().Y
	if emu.IsAltScreen() || y < h {
		return
	}
	shift, w := y+1-h, emu.Width()
	// Rows are copied top down, each from one below it not yet written.
	for row := 0; row < h; row++ {
		for x := 0; x < w; x++ {
			// SetCell copies the cell, and writes a wide character's
			// second cell with its first.
			if c := emu.CellAt(x, row+shift); c == nil || c.Width > 0 || c.Content != "" {
				emu.SetCell(x, row, c)
			}
		}
	}
}

// Update feeds keys and pastes to the program and re-arms the stream.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case OutputMsg:
		if msg.Ch != m.changed {
			return m, nil // a shell this pane no longer shows
		}
		return m, Wait(msg.Ch)
	case ExitedMsg:
		if msg.Ch == m.changed {
			m.exited, m.err = true, msg.Err
		}
	case tea.KeyPressMsg:
		if m.focused && !m.exited {
			m.emu.SendKey(uv.KeyPressEvent(msg))
		}
	case tea.PasteMsg:
		if m.focused && !m.exited {
			m.emu.Paste(msg.Content)
		}
	}
	return m, nil
}

// Close closes the pty and the emulator's reply pipe, which ends the
// reply loop. (vt's own Close sets a flag its Read checks without a lock,
// a data race with the reply loop; closing the pipe is enough.)
func (m Model) Close() error {
	err := m.pty.Close()
	if pw, ok := m.emu.InputPipe().(*io.PipeWriter); ok {
		err = errors.Join(err, pw.CloseWithError(io.EOF))
	}
	return err
}

// Screen returns the emulator's screen as plain text; for tests.
func (m Model) Screen() string {
	var b strings.Builder
	for y := 0; y < m.emu.Height(); y++ {
		for x := 0; x < m.emu.Width(); x++ {
			switch c := m.emu.CellAt(x, y); {
			case c == nil || c.Content == "" && c.Width > 0:
				b.WriteByte(' ')
			case c.Width == 0:
				// the second cell of a wide character
			default:
				b.WriteString(c.Content)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// View draws the screen in a frame, with the cursor in reverse video when
// the pane has focus.
func (m Model) View() string {
	lines := strings.Split(m.emu.Render(), "\n")
	if m.focused && !m.emu.CursorHidden() {
		c := m.emu.CursorPosition()
		if c.Y >= 0 && c.Y < len(lines) {
			l := theme.Fit(lines[c.Y], m.width)
			lines[c.Y] = ansi.Cut(l, 0, c.X) + m.th.Selected.Render(orSpace(ansi.Strip(ansi.Cut(l, c.X, c.X+1)))) + ansi.Cut(l, c.X+1, m.width)
		}
	}
	title := m.title
	switch {
	case m.exited:
		title += " · exited"
	case m.focused:
		title += " · typing here · " + m.keys.FocusShell.Help().Key + " to leave"
	default:
		title += " · " + m.keys.FocusShell.Help().Key + " to type · " + m.keys.Attach.Help().Key + " full screen"
	}
	return m.th.Box(title, strings.Join(lines, "\n"), m.width, m.height, m.focused)
}

func orSpace(s string) string {
	if s == "" {
		return " "
	}
	return s
}

// ShortHelp returns the footer's bindings.
func (m Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.FocusShell, m.keys.Attach}
}
