package engine

// The monitor's attach clients: the socket later clients connect to, the
// frames they send (stdin, its end, window sizes), and the container's
// output sent to each and logged.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/creack/pty"
)

// listen makes the container's attach socket, for the clients after the
// first.
func (m *monitor) listen() error {
	os.Remove(socketFile)
	ln, err := net.Listen("unix", socketFile)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	m.ln = ln
	return nil
}

func (m *monitor) addClient(c net.Conn) {
	m.mu.Lock()
	m.conns[c] = true
	m.mu.Unlock()
	go m.client(c)
}

// serve accepts attach clients until the monitor exits.
func (m *monitor) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		m.addClient(c)
	}
}

// client applies one client's frames: stdin, its end, window sizes.
func (m *monitor) client(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		typ, p, err := readFrame(r)
		if err != nil {
			m.mu.Lock()
			delete(m.conns, c)
			m.mu.Unlock()
			c.Close()
			return
		}
		switch typ {
		case frameStdin:
			if m.stdin != nil {
				m.stdin.Write(p)
			}
		case frameStdinClose:
			if m.stdin != nil && m.tty == nil {
				m.stdin.Close()
			}
		case frameResize:
			if m.tty != nil && len(p) == 4 {
				pty.Setsize(m.tty, &pty.Winsize{Rows: binary.BigEndian.Uint16(p), Cols: binary.BigEndian.Uint16(p[2:])})
			}
		}
	}
}

// broadcast logs output and sends it to every client; a client that
// cannot keep up within a second is dropped.
func (m *monitor) broadcast(typ byte, p []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.logOutput(p)
	for c := range m.conns {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if writeFrame(c, typ, p) != nil {
			delete(m.conns, c)
			c.Close()
		}
	}
}

// logOutput appends p to the container's log, which is made on the first
// output: a container that prints nothing costs no file. m.mu is held.
func (m *monitor) logOutput(p []byte) {
	if m.log == nil && m.logErr == nil {
		m.log, m.logErr = os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if m.logErr != nil {
			m.logf("container log: %v", m.logErr)
		}
	}
	if m.log != nil {
		if _, err := m.log.Write(p); err != nil && m.lostErr == nil {
			m.lostErr = err
			m.logf("container log: %v", err)
		}
	}
}

// closeClients sends every client the exit code and closes it.
func (m *monitor) closeClients(code int) {
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], uint32(int32(code)))
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := range m.conns {
		// A client that went away or does not read is no longer waiting
		// for the code: its errors are not the container's.
		c.SetWriteDeadline(time.Now().Add(time.Second))
		writeFrame(c, frameExit, p[:])
		c.Close()
	}
	m.conns = map[net.Conn]bool{}
}
