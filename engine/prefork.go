package engine

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// PreforkedMonitor returns the monitor that this process, a "minidocker
// run", forked before its Go runtime started (spawn_cgo.go), or nil. A
// run's three processes, the CLI, the monitor and the init, then start up
// side by side: a Go program's start-up, some 2 ms of CPU here, is the
// largest cost of a run, and a monitor started from the CLI's Go code
// would begin its own only once the CLI's had ended. The monitor's init
// waits for the early cgroup directories, which this sends it.
func (e *Engine) PreforkedMonitor() *Monitor {
	pid, sync, ctl, client, dirs := takePrefork()
	if pid == 0 {
		return nil
	}
	// A write error is the init gone already; the start then says why.
	fmt.Fprintf(dirs, "%s\n", earlyDirs(e.cg))
	dirs.Close()
	m := &Monitor{pid: pid, start: procStart(pid), sync: sync, ctl: ctl, client: client, exited: make(chan struct{})}
	go m.reap()
	return m
}

// reap waits for the monitor, a child of this process, if it ends while
// this one still runs.
func (m *Monitor) reap() {
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(m.pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	close(m.exited)
}

// monitorArgs are a monitor's arguments: none for a preforked one, whose
// argv is the CLI's (its hierarchies come with its container).
func monitorArgs() []string {
	if preforked() {
		return nil
	}
	return os.Args[1:]
}
