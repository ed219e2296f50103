package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"minidocker/internal/human"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// nsenterEnv asks the C constructor of nsenter.go to join a container.
const nsenterEnv = "_MINIDOCKER_NSENTER"

// Stdio is where an exec's streams go. With a tty, Size is the first
// window size (unless the Process has one; 24x80 when neither does) and
// Resize carries the next ones until it is closed.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Size           Winsize
	Resize         <-chan Winsize
}

// Winsize is a terminal's size.
type Winsize struct{ Rows, Cols uint16 }

// Exec runs p in a running container's namespaces and cgroup, with the
// container's environment under p's, and returns its exit code. With a
// tty, the helper opens the pty in the container's devpts and sends the
// master back (as the init does for the monitor).
func (e *Engine) Exec(ref string, p Process, stdio Stdio) (int, error) {
	if !nsenterAvailable {
		return 0, errors.New("exec: minidocker was built without cgo")
	}
	st, err := e.Get(ref)
	if err != nil {
		return 0, err
	}
	if st.Status != Running || !alive(st.Pid, st.PidStart) {
		return 0, fmt.Errorf("exec in %s: %w", st.Name(), ErrNotRunning)
	}
	if st.Paused { // its process would join the frozen cgroup, and wait there
		return 0, refuse(ErrPaused, st, "is paused, unpause the container before exec")
	}
	if len(p.Args) == 0 {
		return 0, fmt.Errorf("exec in %s: %w: no command", st.Name(), ErrInvalid)
	}
	if c := p.Cwd; c != "" && !filepath.IsAbs(c) { // as run -w: see validate
		return 0, fmt.Errorf(`exec in %s: %w: working directory "%s" is not absolute`, st.Name(), ErrInvalid, human.Visible(c))
	}
	p.Env = processEnv(append(slices.Clone(st.Spec.Process.Env), p.Env...), st.Spec.Hostname, p.Tty)
	if p.Cwd == "" {
		p.Cwd = st.Spec.Process.Cwd
	}
	if p.User == "" {
		p.User = st.Spec.Process.User
	}
	if p.ConsoleSize == (Winsize{}) {
		p.ConsoleSize = stdio.Size
	}
	// An exec is confined as the container is, with the filter its init
	// loaded (from the store's cache).
	sec, err := securityOf(st)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", st.Name(), err)
	}
	if p.Privileged {
		sec.Caps = allCaps(lastCap()) & permittedCaps()
	}
	h, err := startExecHelper(st, p.Tty, stdio)
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", st.Name(), err)
	}
	code, err := h.run(st, p, sec, stdio)
	if err != nil {
		return code, fmt.Errorf("exec in %s: %w", st.Name(), err)
	}
	return code, nil
}

// execHelper is minidocker started again to enter a container; the C
// constructor of nsenter.go does the entering.
type execHelper struct {
	cmd   *exec.Cmd
	conn  *os.File // config out; the pty master back, with a tty
	errR  *os.File
	syncW *os.File // one byte once the helper is in the cgroup
}

func startExecHelper(st State, tty bool, stdio Stdio) (*execHelper, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	conn, theirs := os.NewFile(uintptr(fds[0]), "exec-config"), os.NewFile(uintptr(fds[1]), "exec-config")
	defer theirs.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		conn.Close()
		return nil, err
	}
	defer errW.Close()
	syncR, syncW, err := os.Pipe()
	if err != nil {
		conn.Close()
		errR.Close()
		return nil, err
	}
	defer syncR.Close()
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"minidocker-exec"}
	// fds 3, 4, 5 in the helper: config, errors, the cgroup sync.
	enter := strconv.Itoa(st.Pid) + ",5"
	if st.Spec.Root != RootPivot {
		enter += ",1" // and the init's root: see nsenter.go
	}
	cmd.Env = []string{roleEnv + "=" + roleExec, nsenterEnv + "=" + enter}
	cmd.ExtraFiles = []*os.File{theirs, errW, syncR}
	if !tty {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.Stdin, stdio.Stdout, stdio.Stderr
	}
	if err := cmd.Start(); err != nil {
		conn.Close()
		errR.Close()
		syncW.Close()
		return nil, err
	}
	return &execHelper{cmd: cmd, conn: conn, errR: errR, syncW: syncW}, nil
}

// run puts the helper in the container's cgroup, sends it p, and copies
// the pty until it ends.
func (h *execHelper) run(st State, p Process, sec processSecurity, stdio Stdio) (int, error) {
	defer h.conn.Close()
	defer h.errR.Close()
	fail := func(err error) (int, error) {
		h.syncW.Close()
		h.conn.Close()
		h.cmd.Process.Kill()
		h.cmd.Wait()
		return 0, err
	}
	// setns(2) the helper does itself; the cgroup it is put in first,
	// so that the container's limits hold from its first instruction.
	if err := st.Cgroup.Join(h.cmd.Process.Pid); err != nil {
		return fail(err)
	}
	h.syncW.Write([]byte{0})
	h.syncW.Close()
	enc := json.NewEncoder(h.conn)
	if err := enc.Encode(p); err != nil {
		return fail(fmt.Errorf("send config: %w", err))
	}
	if err := sec.send(h.conn); err != nil {
		return fail(fmt.Errorf("send config: %w", err))
	}
	var master *os.File
	var termErr error
	if p.Tty {
		fds, err := receiveFds(int(h.conn.Fd()), 1)
		if err == nil {
			master = os.NewFile(uintptr(fds[0]), "pty-master")
			defer master.Close()
		}
		termErr = err
	}
	h.conn.Close()
	if b, _ := io.ReadAll(h.errR); len(b) > 0 {
		h.cmd.Wait()
		var se StartError
		if json.Unmarshal(b, &se) != nil {
			return 0, fmt.Errorf("%s", b)
		}
		return se.Code, &se
	}
	if termErr != nil {
		return fail(fmt.Errorf("receive terminal: %w", termErr))
	}
	var copies sync.WaitGroup
	if master != nil {
		copies.Add(1)
		go func() { defer copies.Done(); copyTerminal(master, stdio) }()
	}
	err := h.cmd.Wait()
	copies.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 0, err
	}
	return exitCode(h.cmd.ProcessState), nil
}

// copyTerminal connects a pty master to stdio until the pty closes.
func copyTerminal(master *os.File, stdio Stdio) {
	if stdio.Stdin != nil {
		go io.Copy(master, stdio.Stdin)
	}
	if stdio.Resize != nil {
		go func() {
			for ws := range stdio.Resize {
				pty.Setsize(master, &pty.Winsize{Rows: ws.Rows, Cols: ws.Cols})
			}
		}()
	}
	out := stdio.Stdout
	if out == nil {
		out = io.Discard
	}
	io.Copy(out, master) // ends with EIO when the last slave closes
}

// execMain is the exec helper once the constructor of nsenter.go has put
// it in the container: it runs the process it reads from configFd.
func execMain() int {
	runtime.LockOSThread()
	cfg := os.NewFile(configFd, "config")
	var p Process
	var sec processSecurity
	var u execUser
	dec := json.NewDecoder(cfg)
	err := dec.Decode(&p)
	if err == nil {
		sec, _, err = receiveSecurity(dec, cfg)
	}
	if err == nil {
		u, err = lookupUser(p.User)
	}
	if err == nil && p.Tty {
		err = ptyInside(configFd, p.ConsoleSize, u.Uid)
	}
	cfg.Close()
	if err == nil {
		err = execProcess(p, u, sec)
	}
	return reportStart(err)
}

// controllingTerminal makes this process a session leader with stdin, the
// pty, as its controlling terminal: setsid(2), then TIOCSCTTY (ioctl_tty(2)).
func controllingTerminal() error {
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("ioctl TIOCSCTTY on stdin: %w", err)
	}
	return nil
}
