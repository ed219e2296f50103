package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Monitor is a monitor process started before its container is chosen,
// so that its start-up overlaps the caller's own work (resolving an image,
// creating the container). Hand it to StartWith, or Close it.
type Monitor struct {
	pid   int
	start uint64
	ctl   *os.File // the container directory and mode go here, one line
	sync  *os.File // the startResult comes back here
	// client is the caller's end of a socket pair whose other end the
	// monitor holds: the session of a start with attach, without a dial
	// of the container's socket.
	client *os.File
	// handed says the monitor was given a container; exited is closed
	// when the process ends.
	handed bool
	exited chan struct{}
}

// NewMonitor starts a monitor that waits to be told its container.
func (e *Engine) NewMonitor() (*Monitor, error) {
	hier, err := json.Marshal(e.cg)
	if err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	// One P is all a monitor needs, and setting it spares the runtime
	// reading cgroup files for a CPU limit at start-up.
	env := append([]string{roleEnv + "=" + roleMonitor, "GOMAXPROCS=1"}, traceEnviron()...)
	if dirs := earlyDirs(e.cg); dirs != "" {
		env = append(env, earlyEnv+"="+dirs)
	}
	var ours, theirs [3]*os.File // sync, control, client
	closeAll := func(fs *[3]*os.File) {
		for _, f := range fs {
			if f != nil {
				f.Close()
			}
		}
	}
	defer closeAll(&theirs)
	if err := monitorPipes(&ours, &theirs); err != nil {
		closeAll(&ours)
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		closeAll(&ours)
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	defer null.Close()
	// syscall.ForkExec rather than os/exec, whose first start of a
	// process forks one more, to probe for pidfd support. setsid(2): a
	// session of its own, so that the terminal's hangup and the starter's
	// process group signals do not reach the monitor.
	files := []uintptr{null.Fd(), null.Fd(), null.Fd(), theirs[0].Fd(), theirs[1].Fd(), theirs[2].Fd()} // syncFd, ctlFd, clientFd
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"minidocker-monitor", string(hier)},
		&syscall.ProcAttr{Env: env, Files: files, Sys: &syscall.SysProcAttr{Setsid: true}})
	if err != nil {
		closeAll(&ours)
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	m := &Monitor{pid: pid, start: procStart(pid), sync: ours[0], ctl: ours[1], client: ours[2], exited: make(chan struct{})}
	go m.reap()
	return m, nil
}

// monitorPipes makes the sync pipe (theirs writes), the control pipe
// (ours writes) and the client socket pair.
func monitorPipes(ours, theirs *[3]*os.File) error {
	var err error
	if ours[0], theirs[0], err = os.Pipe(); err != nil {
		return err
	}
	if theirs[1], ours[1], err = os.Pipe(); err != nil {
		return err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	ours[2], theirs[2] = os.NewFile(uintptr(fds[0]), "attach"), os.NewFile(uintptr(fds[1]), "attach")
	return nil
}

// Close lets go of the monitor. One never given a container exits, with
// its early init and cgroup, and Close waits for that.
func (m *Monitor) Close() error {
	err := errors.Join(m.ctl.Close(), m.sync.Close(), m.closeClient())
	if !m.handed {
		<-m.exited
	}
	return err
}

func (m *Monitor) closeClient() error {
	if m.client == nil {
		return nil
	}
	err := m.client.Close()
	m.client = nil
	return err
}

// Start starts a created or exited container through a new monitor. With
// attach the caller's session is the monitor's first client, before the
// container starts, so that no output is missed; it is returned.
func (e *Engine) Start(ref string, attach bool) (*Session, error) {
	m, err := e.NewMonitor()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return e.StartWith(m, ref, attach)
}

// StartWith is Start with a monitor from NewMonitor.
func (e *Engine) StartWith(m *Monitor, ref string, attach bool) (*Session, error) {
	st, err := e.Get(ref)
	if err != nil {
		return nil, err
	}
	// Claim the container for this monitor under its lock, so that two
	// starts at once cannot both run it; CreateFor has claimed it already.
	if st.Status != Created || st.MonitorPid != m.pid || st.MonitorStart != m.start {
		st, err = updateState(st.Dir, atomicOnly, func(s *State) error {
			if s.Status == Running || alive(s.MonitorPid, s.MonitorStart) {
				return fmt.Errorf("start %s: %w", s.Name(), ErrRunning)
			}
			s.MonitorPid, s.MonitorStart = m.pid, m.start
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	mode := modeDetach
	var sess *Session
	if attach {
		mode = modeAttach
		c, err := net.FileConn(m.client)
		if err != nil {
			return nil, fmt.Errorf("start %s: monitor: %w", st.Name(), err)
		}
		sess = newSession(c)
	}
	m.closeClient()
	hier, err := json.Marshal(e.cg)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start %s: %w", st.Name(), err), closeOnError(sess, err))
	}
	_, err = fmt.Fprintf(m.ctl, "%s\t%s\t%s\n", st.Dir, mode, hier)
	m.ctl.Close()
	m.handed = true
	if err != nil {
		return nil, errors.Join(fmt.Errorf("start %s: monitor: %w", st.Name(), err), closeOnError(sess, err))
	}
	line, err := bufio.NewReader(m.sync).ReadBytes('\n')
	if err == nil {
		err = monitorResult(st, line)
	} else {
		err = fmt.Errorf("start %s: monitor: %w", st.Name(), err)
	}
	if err != nil {
		return nil, errors.Join(err, closeOnError(sess, err))
	}
	return sess, nil
}

// monitorResult reads the monitor's startResult line.
func monitorResult(st State, line []byte) error {
	var res startResult
	if err := json.Unmarshal(line, &res); err != nil {
		return fmt.Errorf("start %s: monitor: %w", st.Name(), err)
	}
	if res.Error != nil {
		return res.Error
	}
	return nil
}

func closeOnError(sess *Session, err error) error {
	if err != nil && sess != nil {
		return sess.Close()
	}
	return nil
}

// Attach connects to a running container's monitor.
func (e *Engine) Attach(ref string) (*Session, error) {
	st, err := e.Get(ref)
	if err != nil {
		return nil, err
	}
	if st.Status != Running {
		return nil, fmt.Errorf("attach %s: %w", st.Name(), ErrNotRunning)
	}
	return dialMonitor(st.Dir)
}
