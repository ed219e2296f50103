package engine

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Kill sends sig to a running container's init.
func (e *Engine) Kill(ref string, sig unix.Signal) error {
	st, err := e.Get(ref)
	if err != nil {
		return err
	}
	if st.Status != Running || !alive(st.Pid, st.PidStart) {
		return fmt.Errorf("kill %s: %w", st.Name(), ErrNotRunning)
	}
	if err := unix.Kill(st.Pid, sig); errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill %s: %w", st.Name(), ErrNotRunning) // it ended meanwhile
	} else if err != nil {
		return fmt.Errorf("kill %s (%s): %w", st.Name(), unix.SignalName(sig), err)
	}
	if st.Paused {
		// Thawed after any signal, as docker does when the image sets no
		// stop signal: the container then handles the signal first, and on
		// cgroup v1 even a SIGKILLed process lives until thawed.
		return e.unpauseSignalled(st)
	}
	return nil
}

// Stop sends SIGTERM, then SIGKILL after timeout, and waits for the exit.
// A container that ends and is removed during the call (run with
// AutoRemove, its monitor removes it) has stopped, as docker has it: its
// last state is returned, marked exited.
func (e *Engine) Stop(ref string, timeout time.Duration) (State, error) {
	st, err := e.Get(ref)
	if err != nil {
		return State{}, err
	}
	if st.Status != Running {
		return st, nil
	}
	s, err := e.stop(st, timeout)
	if errors.Is(err, ErrNotFound) {
		return removedMeanwhile(st), nil
	}
	return s, err
}

// stop is Stop of a container found running.
func (e *Engine) stop(st State, timeout time.Duration) (State, error) {
	if err := e.Kill(st.ID, unix.SIGTERM); err != nil && !errors.Is(err, ErrNotRunning) {
		return st, err
	}
	s, err := e.Wait(st.ID, timeout)
	if !errors.Is(err, ErrRunning) {
		return s, err
	}
	return e.killWait(st)
}

// killWait sends SIGKILL to a running container and waits for its end.
func (e *Engine) killWait(st State) (State, error) {
	if err := e.Kill(st.ID, unix.SIGKILL); err != nil && !errors.Is(err, ErrNotRunning) {
		return st, err
	}
	return e.Wait(st.ID, 10*time.Second)
}

// removedMeanwhile is the last state of a container that ended and was
// removed while a call waited for it.
func removedMeanwhile(st State) State {
	st.Status, st.Pid, st.PidStart = Exited, 0, 0
	st.MonitorPid, st.MonitorStart = 0, 0
	return st
}

// Wait waits up to timeout for a container to stop running.
func (e *Engine) Wait(ref string, timeout time.Duration) (State, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := e.Get(ref)
		if err != nil || st.Status != Running {
			return st, err
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("wait for %s: %w after %s", st.Name(), ErrRunning, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Remove deletes a container that is not running (with force, it kills it
// first). It never deletes through a mount: a directory that still has
// one is refused, so a volume's host files survive.
func (e *Engine) Remove(ref string, force bool) (State, error) {
	st, err := e.Get(ref)
	if err != nil {
		return State{}, err
	}
	if st.Status == Running {
		if !force {
			return st, fmt.Errorf("remove %s: %w; stop it first or use force", st.Name(), ErrRunning)
		}
		s, err := e.killWait(st)
		if errors.Is(err, ErrNotFound) { // run with AutoRemove, its monitor removed it
			return removedMeanwhile(st), nil
		}
		if err != nil {
			return s, err
		}
		st = s
	}
	if err := st.Cgroup.Remove(); err != nil {
		return st, fmt.Errorf("remove %s: %w", st.Name(), err)
	}
	return st, removeFiles(st)
}

// removeFiles deletes a container's directory, never through a mount.
func removeFiles(st State) error {
	if m := mountsUnder(st.Dir); len(m) > 0 {
		return fmt.Errorf("remove %s: %w: %s", st.Name(), ErrMounted, strings.Join(m, ", "))
	}
	if err := os.RemoveAll(st.Dir); err != nil {
		return fmt.Errorf("remove %s: %w", st.Name(), err)
	}
	return nil
}

// mountsUnder lists the host's mount points at or below dir.
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/thread-self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 {
			mp := unescapeMountinfo(f[4])
			if mp == dir || strings.HasPrefix(mp, dir+"/") {
				out = append(out, mp)
			}
		}
	}
	return out
}

// Stats reads a running container's cgroup usage.
func (e *Engine) Stats(ref string) (Usage, error) {
	st, err := e.Get(ref)
	if err != nil {
		return Usage{}, err
	}
	if st.Status != Running {
		return Usage{}, fmt.Errorf("stats %s: %w", st.Name(), ErrNotRunning)
	}
	return st.Cgroup.Usage()
}
