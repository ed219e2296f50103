package engine

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// initProc is a container's init, started by the monitor as soon as the
// monitor itself starts, before it knows its container: the clone into new
// namespaces and the Go runtime's start-up then overlap with the starter's
// own work. What depends on the container comes later over a socket pair
// on configFd: first the stdin, stdout and stderr to use (SCM_RIGHTS,
// unix(7)), then the JSON configuration, then the go-ahead byte.
type initProc struct {
	pid  int
	conn *os.File // our end of the socket pair
	errR *os.File // the init's start error, or EOF at its execve
}

// spawnInit starts minidocker again as an init, in new PID, mount, UTS,
// IPC and network namespaces. It is the fallback of the constructor in
// spawn_cgo.go, which does the same before the monitor's runtime starts.
func spawnInit() (*initProc, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("start init: socketpair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "init-config"), os.NewFile(uintptr(fds[1]), "init-config")
	defer theirs.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		ours.Close()
		return nil, fmt.Errorf("start init: %w", err)
	}
	defer errW.Close()
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"minidocker-init"}
	// Two Ps, for the thread that loads the seccomp filter and the
	// goroutine that builds the root meanwhile (initConfig.start); setting
	// it spares the runtime reading cgroup files for a CPU limit at
	// start-up. (With one, the init was some 2 ms slower here.)
	cmd.Env = append([]string{roleEnv + "=" + roleInit, "GOMAXPROCS=2", "GOGC=off"}, traceEnviron()...)
	cmd.ExtraFiles = []*os.File{theirs, errW} // configFd, errorFd
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET,
	}
	if err := cmd.Start(); err != nil {
		ours.Close()
		errR.Close()
		return nil, fmt.Errorf("start init: %w", err)
	}
	// wait4(2) waits for it, as for the constructor's init.
	pid := cmd.Process.Pid
	cmd.Process.Release()
	return &initProc{pid: pid, conn: ours, errR: errR}, nil
}

// sendStdio hands the init the files that become its fds 0, 1 and 2.
func (p *initProc) sendStdio(stdio [3]*os.File) error {
	rights := unix.UnixRights(int(stdio[0].Fd()), int(stdio[1].Fd()), int(stdio[2].Fd()))
	if err := unix.Sendmsg(int(p.conn.Fd()), []byte{'F'}, rights, nil, 0); err != nil {
		return fmt.Errorf("send stdio to init: sendmsg (SCM_RIGHTS): %w", err)
	}
	return nil
}

// abandon ends an init that will not get a container.
func (p *initProc) abandon() {
	p.conn.Close()
	p.errR.Close()
	p.wait()
}

// kill ends the init with SIGKILL.
func (p *initProc) kill() { unix.Kill(p.pid, unix.SIGKILL) }

// wait reaps the init. It is done with wait4(2) rather than os.Process,
// whose first use probes pidfd support by forking a child.
func (p *initProc) wait() (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(p.pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ws, fmt.Errorf("wait for init %d: %w", p.pid, err)
		}
		return ws, nil
	}
}

// errAbandoned is an init whose monitor closed the socket before sending
// anything: there was no container for it.
var errAbandoned = errors.New("init abandoned")

// receiveStdio is the init's side of sendStdio: it puts the three files
// it receives on fds 0, 1 and 2.
func receiveStdio(fd int) error {
	fds, err := receiveFds(fd, 3)
	if err != nil {
		return fmt.Errorf("receive stdio: %w", err)
	}
	for i, f := range fds {
		if err := unix.Dup3(f, i, 0); err != nil {
			return fmt.Errorf("receive stdio: dup3 %d to %d: %w", f, i, err)
		}
		unix.Close(f)
	}
	return nil
}

// receiveFds reads a one-byte message carrying n file descriptors; a
// closed socket is errAbandoned.
func receiveFds(fd, n int) ([]int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(n*4))
	got, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("recvmsg: %w", err)
	}
	if got == 0 {
		return nil, errAbandoned
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("recvmsg: no file descriptors (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != n {
		for _, f := range fds {
			unix.Close(f)
		}
		return nil, fmt.Errorf("recvmsg: want %d file descriptors, got %d (%v)", n, len(fds), err)
	}
	return fds, nil
}

// receiveTerminal is the monitor's side of ptyInside: the master of the
// pty the init made in the container's devpts.
func (p *initProc) receiveTerminal() (*os.File, error) {
	fds, err := receiveFds(int(p.conn.Fd()), 1)
	if err != nil {
		return nil, fmt.Errorf("receive the container's terminal: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// ptyInside gives the init a terminal from the container's own devpts
// instance, so that ttyname(3) works in it, and sends the master to the
// monitor over fd (the console socket of runc). Order, from pty(7) and
// ioctl_tty(2): open /dev/ptmx, unlock, open the peer, send the master,
// make the peer fds 0-2, then setsid and TIOCSCTTY.
func ptyInside(fd int, size Winsize, uid int) error {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("ioctl TIOCSPTLCK /dev/ptmx: %w", err)
	}
	n, err := unix.IoctlGetUint32(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("ioctl TIOCGPTN /dev/ptmx: %w", err)
	}
	if size.Rows == 0 || size.Cols == 0 {
		size = Winsize{24, 80}
	}
	if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, &unix.Winsize{Row: size.Rows, Col: size.Cols}); err != nil {
		return fmt.Errorf("ioctl TIOCSWINSZ /dev/ptmx: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	slave, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer unix.Close(slave)
	// The terminal belongs to the user that runs in it (group tty stays).
	if err := unix.Fchown(slave, uid, -1); err != nil {
		return fmt.Errorf("chown %s to %d: %w", name, uid, err)
	}
	// The master goes first: were it closed here after the slave became
	// the controlling terminal, the hangup would kill this process before
	// it could report why.
	if err := unix.Sendmsg(fd, []byte{'T'}, unix.UnixRights(master), nil, 0); err != nil {
		return fmt.Errorf("send terminal to monitor: sendmsg (SCM_RIGHTS): %w", err)
	}
	for i := range 3 {
		if err := unix.Dup3(slave, i, 0); err != nil {
			return fmt.Errorf("dup3 %s to %d: %w", name, i, err)
		}
	}
	return controllingTerminal()
}
