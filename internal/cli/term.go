package cli

import (
	"errors"
	"io"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"minidocker/engine"
)

// The client's side of a container's terminal: raw mode, window size, and
// the detach keys, through golang.org/x/term as the UI's attach does. The
// container's side is the pty the monitor (or Exec) opens.

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// checkTTY refuses -it when the input is no terminal, as docker does,
// rather than leaving a shell waiting on a pipe for a terminal it lacks.
func checkTTY(in io.Reader, interactive, tty bool) error {
	if !interactive || !tty {
		return nil
	}
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		return nil
	}
	return usageError{errors.New("the input device is not a TTY")}
}

// makeRaw puts the terminal fd in raw mode, as cfmakeraw(3) does, and
// returns how to restore it.
func makeRaw(fd int) (restore func(), err error) {
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	return func() { term.Restore(fd, old) }, nil
}

// terminalSize is the window size of the terminal fd.
func terminalSize(fd int) (engine.Winsize, error) {
	w, h, err := term.GetSize(fd)
	if err != nil {
		return engine.Winsize{}, err
	}
	return engine.Winsize{Rows: uint16(h), Cols: uint16(w)}, nil
}

// watchSize calls resize with the terminal's size now and after every
// SIGWINCH, until stop is called.
func watchSize(fd int, resize func(engine.Winsize)) (stop func()) {
	send := func() {
		if ws, err := terminalSize(fd); err == nil {
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

// errDetached is the detach sequence, ctrl-p ctrl-q, read from a terminal.
var errDetached = errors.New("detached")

// Detach keys, as docker has them.
const (
	ctrlP = 0x10
	ctrlQ = 0x11
)

// detachReader passes input through until ctrl-p ctrl-q, where it returns
// errDetached. A ctrl-p is held back until the next byte shows whether it
// starts the sequence; two in a row let the first one through.
type detachReader struct {
	r       io.Reader
	pending bool
	buf     []byte
}

func (d *detachReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if cap(d.buf) < len(p) {
		d.buf = make([]byte, len(p))
	}
	// Read one byte less than asked when a ctrl-p is pending, so that it
	// and what follows always fit.
	ask := len(p)
	if d.pending {
		ask--
	}
	n, err := d.r.Read(d.buf[:ask])
	out := p[:0]
	for _, b := range d.buf[:n] {
		switch {
		case d.pending && b == ctrlQ:
			return len(out), errDetached
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
