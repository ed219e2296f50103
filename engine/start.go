package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Monitor is a monitor process started before its container is chosen,
// so that its start-up overlaps the caller's own work (resolving an image,
// creating the container). Hand it to StartWith, or Close it.
type Monitor struct {
	pid   int
	start uint64
	ctl   *os.File // the container directory and mode go here, one line
	sync  *os.File // "listening", then a startResult, come back here
	// handed says the monitor was given a container; exited is closed
	// when the process ends.
	handed bool
	exited chan struct{}
}

// NewMonitor starts a monitor that waits to be told its container.
func (e *Engine) NewMonitor() (*Monitor, error) {
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		syncR.Close()
		syncW.Close()
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	hier, err := json.Marshal(e.cg)
	if err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"minidocker-monitor", string(hier)}
	cmd.Env = append([]string{roleEnv + "=" + roleMonitor}, traceEnviron()...)
	if dirs := earlyDirs(e.cg); dirs != "" {
		cmd.Env = append(cmd.Env, earlyEnv+"="+dirs)
	}
	cmd.ExtraFiles = []*os.File{syncW, ctlR} // syncFd, ctlFd
	// setsid(2): a session of its own, so that the terminal's hangup and
	// the starter's process group signals do not reach the monitor.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	syncW.Close()
	ctlR.Close()
	if err != nil {
		syncR.Close()
		ctlW.Close()
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	pid := cmd.Process.Pid
	m := &Monitor{pid: pid, start: procStart(pid), ctl: ctlW, sync: syncR, exited: make(chan struct{})}
	go func() { // reap it if it ends while we still run
		cmd.Wait()
		close(m.exited)
	}()
	return m, nil
}

// Close lets go of the monitor. One never given a container exits, with
// its early init and cgroup, and Close waits for that.
func (m *Monitor) Close() error {
	err := errors.Join(m.ctl.Close(), m.sync.Close())
	if !m.handed {
		<-m.exited
	}
	return err
}

// Start starts a created or exited container through a new monitor. With
// attach the monitor waits for this caller's session before it starts the
// container, so that no output is missed; the session is returned.
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
	if attach {
		mode = modeAttach
	}
	_, err = fmt.Fprintf(m.ctl, "%s\t%s\n", st.Dir, mode)
	m.ctl.Close()
	m.handed = true
	if err != nil {
		return nil, fmt.Errorf("start %s: monitor: %w", st.Name(), err)
	}
	br := bufio.NewReader(m.sync)
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("start %s: monitor: %w", st.Name(), err)
	}
	if line != "listening\n" {
		return nil, monitorResult(st, []byte(line), nil)
	}
	var sess *Session
	if attach {
		if sess, err = dialMonitor(st.Dir); err != nil {
			return nil, err
		}
	}
	b, err := br.ReadBytes('\n')
	return sess, monitorResult(st, b, errors.Join(err, closeOnError(sess, err)))
}

// monitorResult reads the monitor's startResult line.
func monitorResult(st State, line []byte, readErr error) error {
	var res startResult
	if err := json.Unmarshal(line, &res); err != nil {
		return fmt.Errorf("start %s: monitor: %w", st.Name(), errors.Join(readErr, err))
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
