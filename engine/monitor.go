package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// The monitor is a container's keeper, like conmon: minidocker re-executed
// in a session of its own, so that it outlives the command that started it.
// It starts the init, holds the pty master or the output pipes, logs the
// output, serves attach and records the exit code.

// The monitor's pipes: syncFd back to the starter (a JSON startResult, one
// line), ctlFd from it (the container directory and the mode, one line,
// once the starter knows them), clientFd the starter's attach connection.
const (
	syncFd   = 3
	ctlFd    = 4
	clientFd = 5 // a socket pair's end: the starter's session, with attach
)

// startResult is what the monitor reports once the container started or not.
type startResult struct {
	Pid   int         `json:"pid,omitempty"`
	Error *StartError `json:"error,omitempty"`
}

// Monitor modes: wait for the first client before starting, or not.
const (
	modeAttach = "attach"
	modeDetach = "detach"
)

type monitor struct {
	dir     string
	st      State
	log     *os.File // made on the first output, under mu
	logErr  error    // why there is no log, under mu
	lostErr error    // the first write to the log that failed, under mu
	mu      sync.Mutex
	conns   map[net.Conn]bool
	ln      net.Listener // the attach socket, once made
	stdin   io.WriteCloser
	tty     *os.File
	proc    *initProc // the init, once started
	outputs []pump
	// init is started with the monitor (see initProc); initErr says why
	// when it could not be.
	init    *initProc
	initErr error
	early   *earlyCgroup
}

// errLogClosed keeps a finished monitor from making its log again.
var errLogClosed = errors.New("log closed")

// pump is an output of the container and the frame type it is sent as.
type pump struct {
	r   *os.File
	typ byte
}

// monitorMain is the monitor's body. Its one argument, when NewMonitor
// started it, is the cgroup hierarchies, as JSON, for the early cgroup;
// the container directory, the mode and the hierarchies again come on
// ctlFd.
func monitorMain(args []string) int {
	Trace("monitor: main")
	if preforked() {
		runtime.GOMAXPROCS(1) // as NewMonitor's environment has it
	}
	init, join, initErr, adopted := adoptInit()
	if !adopted {
		init, initErr = spawnInit()
	}
	var early *earlyCgroup
	if len(args) == 1 {
		early = startEarly(args[0], init, join)
	}
	ctl := os.NewFile(ctlFd, "control")
	line, err := bufio.NewReader(ctl).ReadString('\n')
	ctl.Close()
	if err != nil {
		os.NewFile(clientFd, "attach").Close()
		if init != nil {
			init.abandon()
		}
		if join != nil && early == nil {
			join.Close()
		}
		early.discard()
		return 0 // never given a container
	}
	f := strings.SplitN(strings.TrimSuffix(line, "\n"), "\t", 3)
	for len(f) < 3 {
		f = append(f, "")
	}
	dir, mode := f[0], f[1]
	if len(args) != 1 {
		early = startEarly(f[2], init, join)
	}
	Trace("monitor: told its container")
	retitle("minidocker-monitor " + shortID(filepath.Base(dir)))
	// What the monitor itself has to say (a crash, most likely) goes to
	// one log of all the monitors of the store, so that a container costs
	// no file for it.
	if f, err := os.OpenFile(filepath.Join(filepath.Dir(dir), monitorLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err == nil {
		unix.Dup3(int(f.Fd()), 2, 0)
		f.Close()
	}
	sync := os.NewFile(syncFd, "sync")
	m := &monitor{dir: dir, conns: map[net.Conn]bool{}, init: init, initErr: initErr, early: early}
	res, err := m.run(mode, os.NewFile(clientFd, "attach"))
	if m.init != nil { // never handed its container
		m.init.abandon()
		m.early.discard()
	}
	if err != nil {
		res.Error = &StartError{Code: 125, Msg: err.Error()}
	}
	b, err := json.Marshal(res)
	if err == nil {
		_, err = sync.Write(append(b, '\n'))
	}
	if err = errors.Join(err, sync.Close()); err != nil {
		m.logf("report the start: %v", err) // the starter is gone, most likely
	}
	if res.Error != nil {
		m.closeClients(res.Error.Code)
		if err := syncState(m.dir); err != nil {
			m.logf("%v", err)
		}
		return 1
	}
	go m.serve(m.ln)
	m.wait()
	return 0
}

// startEarly starts the early cgroup of init: the one its init joined
// itself when it had directories to (join), else one made here.
func startEarly(hierarchies string, init *initProc, join *os.File) *earlyCgroup {
	if init == nil {
		return nil
	}
	var h Hierarchies
	if join != nil && json.Unmarshal([]byte(hierarchies), &h) == nil && earlyDirs(h) != "" {
		return adoptEarly(hierarchies, join, init.pid)
	}
	if join != nil {
		join.Close()
	}
	return joinEarly(hierarchies, init.pid)
}

// run prepares the monitor and starts the container.
func (m *monitor) run(mode string, client *os.File) (startResult, error) {
	st, err := readState(m.dir)
	if err != nil {
		client.Close()
		return startResult{}, err
	}
	m.st = st
	// The socket is made relative to the directory: see dialMonitor.
	if err := os.Chdir(m.dir); err != nil {
		client.Close()
		return startResult{}, err
	}
	// The starter's session, when it attaches, is the first client,
	// before the container can write anything.
	if mode == modeAttach {
		c, err := net.FileConn(client)
		if err != nil {
			client.Close()
			return startResult{}, fmt.Errorf("monitor: %w", err)
		}
		m.addClient(c)
	}
	client.Close()
	pid, err := m.start()
	if err != nil {
		var se *StartError
		if !errors.As(err, &se) {
			se = &StartError{Code: 125, Msg: err.Error()}
		}
		if ferr := m.finish(se.Code, se.Msg); ferr != nil {
			m.logf("%v", ferr)
			// The starter prints the error: it says so there too.
			se = &StartError{Code: se.Code, Msg: se.Msg + "; " + human.Line(ferr.Error())}
		}
		return startResult{Error: se}, nil
	}
	return startResult{Pid: pid}, nil
}

// start hands the init its stdio and configuration. The init builds its
// root file system while the cgroup is made and the init moved into it
// (slow on cgroup v1: each move waits for an RCU grace period); it waits
// for the go-ahead byte only before execve.
func (m *monitor) start() (int, error) {
	st, p := m.st, m.init
	if p == nil {
		return 0, m.initErr
	}
	m.init = nil
	defer p.errR.Close()
	fail := func(err error) (int, error) {
		p.conn.Close()
		p.kill()
		p.wait()
		m.early.discard()
		return 0, errors.Join(err, st.Cgroup.Remove())
	}
	stdio, err := m.stdio()
	if err == nil {
		err = p.sendStdio(stdio)
		for _, f := range stdio {
			f.Close()
		}
	}
	if err != nil {
		return fail(err)
	}
	Trace("monitor: stdio sent")
	if err := m.early.restrictDevices(deviceRules(st.Spec)); err != nil {
		return fail(err)
	}
	Trace("monitor: device rules set")
	err = json.NewEncoder(p.conn).Encode(initConfig{
		Rootfs: st.Rootfs, Mounts: st.Mounts, Process: st.Spec.Process, Hostname: st.Spec.Hostname,
		Devices: st.Spec.Devices, Root: st.Spec.Root,
	})
	Trace("monitor: config sent")
	if err != nil {
		return fail(fmt.Errorf("send init config: %w", err))
	}
	// While the init mounts: the device program, attached once the
	// cgroup is the container's.
	devs, err := loadDevicePolicy(st.Cgroup, st.Spec)
	if err != nil {
		return fail(err)
	}
	if devs != nil {
		Trace("monitor: device program loaded")
	}
	defer devs.close()
	// While the init mounts the root file system: the seccomp filter,
	// compiled or read from the store's cache.
	sec, err := securityOf(st)
	if err == nil {
		err = sec.send(p.conn)
	}
	Trace("monitor: security sent")
	if err != nil {
		return fail(fmt.Errorf("send init security: %w", err))
	}
	err = m.early.claim(st.Cgroup, st.Settings)
	if errors.Is(err, errNoEarlyCgroup) || (err != nil && !m.early.claimed) {
		// No early cgroup, or it failed: the container's own, the slow way.
		err = st.Cgroup.Create(st.Settings)
		if err == nil {
			err = st.Cgroup.Join(p.pid)
		}
		m.early.discard()
	}
	if err == nil {
		err = devs.attach(st.Cgroup.BPF)
	}
	Trace("monitor: cgroup ready")
	// An init that fails before sending its terminal closes the socket;
	// then what it wrote on errR says why.
	var termErr error
	if err == nil && st.Spec.Process.Tty {
		if m.tty, termErr = p.receiveTerminal(); termErr == nil {
			m.stdin = m.tty
			m.outputs = append(m.outputs, pump{m.tty, frameStdout})
		}
	}
	if err == nil && termErr == nil {
		p.conn.Write([]byte{goAhead}) // an init that failed already has said why on errR
		// Recorded while the init executes the command, which it does
		// only once it has pivoted into the container: an exec that reads
		// the pid from here joins namespaces that reach no host path.
		pid := p.pid
		_, err = updateState(m.dir, atomicOnly, func(s *State) error {
			s.Status, s.Pid, s.PidStart = Running, pid, procStart(pid)
			s.MonitorPid, s.MonitorStart = os.Getpid(), procStart(os.Getpid())
			s.Started = time.Now().UTC()
			return nil
		})
	}
	p.conn.Close()
	// While the init executes the command: clients after the first
	// attach here, once the start has been reported.
	if err == nil {
		err = m.listen()
	}
	b, _ := io.ReadAll(p.errR)
	if err != nil {
		return fail(err)
	}
	if len(b) > 0 {
		var se StartError
		if err := json.Unmarshal(b, &se); err != nil {
			return fail(fmt.Errorf("init: %s", b))
		}
		p.wait()
		return 0, errors.Join(&se, st.Cgroup.Remove())
	}
	if termErr != nil {
		return fail(termErr)
	}
	Trace("monitor: command started")
	m.proc = p
	return p.pid, nil
}

// stdio makes the init's stdin, stdout and stderr: pipes for output and,
// with -i, input (else /dev/null). It returns the init's ends.
func (m *monitor) stdio() ([3]*os.File, error) {
	if m.st.Spec.Process.Tty {
		// The init opens the pty itself, in the container (ptyInside).
		null, err := os.Open(os.DevNull)
		return [3]*os.File{null, null, null}, err
	}
	var theirs [3]*os.File
	for i, typ := range []byte{frameStdout, frameStderr} {
		r, w, err := os.Pipe()
		if err != nil {
			return [3]*os.File{}, err
		}
		theirs[i+1] = w
		m.outputs = append(m.outputs, pump{r, typ})
	}
	if m.st.Spec.OpenStdin {
		r, w, err := os.Pipe()
		if err != nil {
			return [3]*os.File{}, err
		}
		theirs[0], m.stdin = r, w
		return theirs, nil
	}
	null, err := os.Open(os.DevNull)
	theirs[0] = null
	return theirs, err
}

// logf writes a line about the container to the monitor's error output,
// which is the store's monitor.log.
func (m *monitor) logf(format string, args ...any) {
	id := filepath.Base(m.dir)
	fmt.Fprintf(os.Stderr, "monitor %d: container %.12s: %s\n", os.Getpid(), id, human.Line(fmt.Sprintf(format, args...)))
}

// wait copies output until the container is gone, then records its end.
func (m *monitor) wait() {
	var wg sync.WaitGroup
	for _, p := range m.outputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := p.r.Read(buf)
				if n > 0 {
					m.broadcast(p.typ, buf[:n])
				}
				if err != nil { // EOF, or EIO from a pty whose last slave closed
					return
				}
			}
		}()
	}
	ws, waitErr := m.proc.wait()
	Trace("monitor: command exited")
	wg.Wait()
	if m.stdin != nil {
		m.stdin.Close()
	}
	code := 255
	if waitErr == nil {
		code = waitCode(ws)
	} else {
		m.logf("wait for the command: %v", waitErr)
	}
	if err := m.finish(code, ""); err != nil {
		m.logf("%v", err)
	}
	Trace("monitor: finished")
	m.closeClients(code)
	if !m.st.Spec.AutoRemove {
		if err := syncState(m.dir); err != nil {
			m.logf("%v", err)
		}
	}
}

// waitCode is a wait status as a shell reports it.
func waitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// exitCode is a process's exit status as a shell reports it.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// finish releases the cgroup and records the container's end. A container
// run with --rm is removed instead, as docker's daemon does, unless that
// fails; then its record says why, as it does when the cgroup or the log
// could not be released. It returns what went wrong: when the record
// could not be written, the container stays "running" until the next
// command finds its monitor gone.
func (m *monitor) finish(code int, msg string) error {
	oom := m.st.Cgroup.OOMKilled()
	rmErr := m.st.Cgroup.Remove()
	logErr := m.closeLog()
	if m.st.Spec.AutoRemove && rmErr == nil && msg == "" {
		if rmErr = removeFiles(m.st); rmErr == nil {
			// The log, and what it lost, are gone with it; so are its
			// anonymous volumes, as docker's --rm removes them.
			return removeAnonymous(filepath.Dir(m.st.Dir), m.st)
		}
	}
	problems := errors.Join(rmErr, logErr)
	// Written before the clients hear the exit code, so that what they
	// do next sees the container exited; made durable after.
	_, err := updateState(m.dir, atomicOnly, func(s *State) error {
		s.Status, s.ExitCode, s.Pid, s.PidStart = Exited, code, 0, 0
		s.Paused = false                    // its cgroup is gone: Remove thaws a busy one
		s.MonitorPid, s.MonitorStart = 0, 0 // this monitor is done with it
		s.OOMKilled = oom
		s.Finished = time.Now().UTC()
		s.Error = msg
		if problems != nil {
			s.Error = strings.TrimPrefix(msg+"; "+human.Line(problems.Error()), "; ")
		}
		return nil
	})
	if err != nil {
		return errors.Join(fmt.Errorf("record exit %d: %w", code, err), problems)
	}
	return problems
}

// closeLog closes the container's log for good. It returns why output was
// lost, if it was: the log could not be made, or a write failed, or the
// close.
func (m *monitor) closeLog() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.logErr
	if m.log != nil {
		err = m.log.Close()
		m.log = nil
	}
	m.logErr = errLogClosed
	if err = errors.Join(err, m.lostErr); err != nil {
		return fmt.Errorf("container log: %w", err)
	}
	return nil
}

// shortID is the first 12 characters of a container's ID.
func shortID(id string) string { return id[:min(12, len(id))] }

// retitle makes ps show the monitor as title: it writes over the
// process's argument area in place, which is what /proc/PID/cmdline reads
// (setting the area anew would need CAP_SYS_RESOURCE). os.Args[0] starts
// that area; what does not fit is cut, and the rest is zeroed.
func retitle(title string) {
	b, err := os.ReadFile("/proc/self/cmdline")
	if err != nil || len(b) < 2 || len(os.Args) == 0 || os.Args[0] == "" {
		return
	}
	area := unsafe.Slice(unsafe.StringData(os.Args[0]), len(b)-1) // the last NUL stays
	n := copy(area, title)
	clear(area[n:])
}
