package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// The client's side of a container's terminal: raw mode, window size,
// and the detach keys. The container's side is the pty the monitor (or
// Exec) opens with github.com/creack/pty.

// MakeRaw puts the terminal fd in raw mode, as cfmakeraw(3) does, and
// returns how to restore it.
func MakeRaw(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, fmt.Errorf("ioctl TCGETS on fd %d: %w", fd, err)
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, fmt.Errorf("ioctl TCSETS (raw) on fd %d: %w", fd, err)
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// TerminalSize is the window size of the terminal fd.
func TerminalSize(fd int) (Winsize, error) {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return Winsize{}, fmt.Errorf("ioctl TIOCGWINSZ on fd %d: %w", fd, err)
	}
	return Winsize{Rows: ws.Row, Cols: ws.Col}, nil
}

// WatchSize calls resize with the terminal's size now and after every
// SIGWINCH, until stop is called.
func WatchSize(fd int, resize func(Winsize)) (stop func()) {
	send := func() {
		if ws, err := TerminalSize(fd); err == nil {
			resize(ws)
		}
	}
	send()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGWINCH)
	quit := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				send()
			case <-quit:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(quit) }
}

// ErrDetached is the detach sequence, ctrl-p ctrl-q, read from a terminal.
var ErrDetached = errors.New("detached")

// Detach keys, as docker has them.
const (
	ctrlP = 0x10
	ctrlQ = 0x11
)

// DetachReader passes input through until ctrl-p ctrl-q, where it returns
// ErrDetached. A ctrl-p is held back until the next byte shows whether it
// starts the sequence; two in a row let the first one through.
type DetachReader struct {
	R       io.Reader
	pending bool
	buf     []byte
}

func (d *DetachReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if cap(d.buf) < len(p) {
		d.buf = make([]byte, len(p))
	}
	// Read one byte less than asked when a ctrl-p is pending, so that it
	// and what follows always fit.
	n, err := d.R.Read(d.buf[:len(p)-boolInt(d.pending)])
	out := p[:0]
	for _, b := range d.buf[:n] {
		switch {
		case d.pending && b == ctrlQ:
			return len(out), ErrDetached
		case d.pending && b == ctrlP:
			out = append(out, ctrlP)
		case d.pending:
			out = append(out, ctrlP, b)
			d.pending = false
		case b == ctrlP:
			d.pending = true
		default:
			out = append(out, b)
		}
	}
	if err != nil && d.pending {
		out = append(out, ctrlP)
		d.pending = false
	}
	return len(out), err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
