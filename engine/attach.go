package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
)

// The attach protocol between a client and a container's monitor, over the
// unix socket in the container's directory: frames of a type byte, a
// big-endian uint32 length and the payload.
const (
	frameStdin      = 'i' // client: bytes for the container's stdin
	frameStdinClose = 'c' // client: end of stdin
	frameResize     = 'r' // client: rows, cols as two uint16
	frameStdout     = 'o' // monitor: container output
	frameStderr     = 'e' // monitor: container error output
	frameExit       = 'x' // monitor: exit code as int32; the last frame
)

const maxFrame = 1 << 20

func writeFrame(w io.Writer, typ byte, p []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	if _, err := w.Write(append(hdr[:], p...)); err != nil {
		return fmt.Errorf("write attach frame: %w", err)
	}
	return nil
}

func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("attach frame of %d bytes: too large", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, fmt.Errorf("read attach frame: %w", err)
	}
	return hdr[0], p, nil
}

// ErrMonitorGone is an attach connection that ended without an exit code.
var ErrMonitorGone = errors.New("container monitor closed the connection")

// Session is a connection to a container's monitor: input goes to the
// container's stdin, Wait copies its output until it exits.
type Session struct {
	conn net.Conn
	r    *bufio.Reader
	mu   sync.Mutex
}

// dialMonitor connects to the socket in dir. The path goes through the
// directory's fd, because a container directory's full path can be longer
// than a unix socket address allows (108 bytes).
func dialMonitor(dir string) (*Session, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("attach: %w", err)
	}
	defer d.Close()
	c, err := net.Dial("unix", "/proc/self/fd/"+strconv.Itoa(int(d.Fd()))+"/"+socketFile)
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", dir, err)
	}
	return newSession(c), nil
}

func newSession(c net.Conn) *Session {
	return &Session{conn: c, r: bufio.NewReaderSize(c, 32<<10)}
}

func (s *Session) send(typ byte, p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return writeFrame(s.conn, typ, p)
}

// Write sends p to the container's stdin.
func (s *Session) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n := min(len(p)-done, maxFrame)
		if err := s.send(frameStdin, p[done:done+n]); err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// CloseStdin closes the container's stdin (not with a tty, as docker).
func (s *Session) CloseStdin() error { return s.send(frameStdinClose, nil) }

// Resize sets the window size of the container's tty.
func (s *Session) Resize(rows, cols uint16) error {
	var p [4]byte
	binary.BigEndian.PutUint16(p[:], rows)
	binary.BigEndian.PutUint16(p[2:], cols)
	return s.send(frameResize, p[:])
}

// Wait copies the container's output to stdout and stderr until it exits
// and returns its exit code.
func (s *Session) Wait(stdout, stderr io.Writer) (int, error) {
	for {
		t, p, err := readFrame(s.r)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, ErrMonitorGone
		}
		if err != nil {
			return 0, err
		}
		switch t {
		case frameStdout:
			stdout.Write(p)
		case frameStderr:
			stderr.Write(p)
		case frameExit:
			if len(p) != 4 {
				return 0, fmt.Errorf("attach: exit frame of %d bytes", len(p))
			}
			return int(int32(binary.BigEndian.Uint32(p))), nil
		}
	}
}

// Close ends the session, detaching from a running container.
func (s *Session) Close() error { return s.conn.Close() }
