package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// roleEnv names the part a re-executed minidocker binary plays: the
// container's init, a container's monitor, or a process entering a running
// container for exec.
const roleEnv = "_MINIDOCKER_ROLE"

const (
	roleInit    = "init"
	roleMonitor = "monitor"
	roleExec    = "exec"
)

// Inherited file descriptors of the init and exec roles.
const (
	configFd = 3 // the JSON configuration, read to EOF
	errorFd  = 4 // a start error as JSON; closed by a successful execve
)

// IsInit reports whether this process is minidocker re-executed by the
// engine as a container's init, monitor or exec helper. main (and TestMain
// of a package that starts containers) must then call Init and nothing else.
func IsInit() bool { return os.Getenv(roleEnv) != "" || preforked() }

// Init runs the part this process was re-executed for and exits; it never
// returns.
func Init() {
	role := os.Getenv(roleEnv)
	os.Unsetenv(roleEnv)
	if preforked() {
		role = roleMonitor
	}
	var code int
	switch role {
	case roleInit:
		code = initMain()
	case roleMonitor:
		code = monitorMain(monitorArgs())
	case roleExec:
		code = execMain()
	default:
		fmt.Fprintf(os.Stderr, "minidocker: unknown role \"%s\"\n", human.Visible(role))
		code = 125
	}
	os.Exit(code)
}

// initConfig is what the monitor hands the container's init over configFd.
type initConfig struct {
	Rootfs   Overlay `json:"rootfs"`
	Mounts   []Mount `json:"mounts"`
	Process  Process `json:"process"`
	Hostname string  `json:"hostname"`
	// Devices are the --device nodes to make.
	Devices []Device `json:"devices,omitempty"`
	// Root is Spec.Root.
	Root RootEntry `json:"root,omitempty"`
}

// Process is the program a container or an exec runs.
type Process struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Cwd  string   `json:"cwd"`
	// User is docker's --user: "user[:group]", each a name looked up in
	// the container's /etc/passwd and /etc/group or a number; empty is
	// root.
	User string `json:"user,omitempty"`
	Tty  bool   `json:"tty,omitempty"`
	// ConsoleSize is the tty's first window size; 24x80 when zero.
	ConsoleSize Winsize `json:"console_size,omitzero"`
	// Privileged gives an exec every capability, under its container's
	// seccomp filter (docker exec --privileged); a container's own is
	// Spec.Privileged.
	Privileged bool `json:"privileged,omitempty"`
}

// StartError is a container or exec that could not start its program; Code
// is the exit status docker gives the case (127: not found, 126: not
// executable, 125: the engine's own failure).
type StartError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

func (e *StartError) Error() string { return e.Msg }

// Is makes a code-127 StartError match ErrCommandNotFound.
func (e *StartError) Is(target error) bool { return target == ErrCommandNotFound && e.Code == 127 }

// ErrCommandNotFound is a command that is not in the container's image.
var ErrCommandNotFound = errors.New("executable file not found")

// initMain is the container's init: it builds the root filesystem inside
// the new mount namespace, pivots into it and executes the command, which
// then is PID 1. Errors go to errorFd as a StartError.
func initMain() int {
	Trace("init: main")
	// Capabilities, no_new_privs, the bounding set and the seccomp filter
	// are per thread: everything up to execve that sets them happens on
	// this one.
	runtime.LockOSThread()
	err := receiveStdio(configFd)
	if errors.Is(err, errAbandoned) {
		return 0
	}
	cfg := os.NewFile(configFd, "config")
	dec := json.NewDecoder(cfg)
	var c initConfig
	if err == nil {
		err = dec.Decode(&c)
		Trace("init: config received")
	}
	if err == nil {
		// The rest of the pipe, after the JSON, is the process's security
		// (a JSON header, then the seccomp filter's bytes, which the
		// monitor compiles or reads from its cache meanwhile), then the
		// go-ahead: one byte the monitor sends once this process
		// is in the container's cgroup. Waiting for them only before
		// execve lets the mounts overlap with the filter's compilation and
		// the (slow, on cgroup v1) move into the cgroup.
		err = c.start(dec, cfg)
	}
	cfg.Close()
	return reportStart(err)
}

// goAhead is the byte the monitor sends when the init is in its cgroup.
const goAhead = 'G'

// awaitGo reads up to the monitor's go-ahead byte, past the white space
// that ends the JSON.
func awaitGo(r io.Reader) error {
	var b [1]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return fmt.Errorf("wait for the cgroup: %w", err)
		}
		switch b[0] {
		case goAhead:
			return nil
		case ' ', '\n', '\t', '\r':
			continue
		}
		return fmt.Errorf("wait for the cgroup: unexpected byte %q", b[0])
	}
}

// reportStart writes err to errorFd as a StartError and returns its code.
func reportStart(err error) int {
	var se *StartError
	if !errors.As(err, &se) {
		se = &StartError{Code: 125, Msg: err.Error()}
	}
	f := os.NewFile(errorFd, "errors")
	if json.NewEncoder(f).Encode(se) != nil {
		fmt.Fprintln(os.Stderr, se.Msg)
	}
	return se.Code
}

// start builds the container's root and executes its process. A seccomp
// filter belongs to a thread (seccomp(2)), the mounts, root and working
// directory to the process (Go's threads share them: CLONE_FS), so the
// two go side by side: a goroutine builds the root while this thread,
// the one that calls execve, receives the process's security and loads
// the filter, which takes the kernel most of a millisecond (it
// JIT-compiles the program: some 0.8 µs an instruction measured here, and
// docker's profile is a thousand of them for x86-64's three ABIs).
func (c initConfig) start(dec *json.Decoder, cfg io.Reader) error {
	type built struct {
		u   execUser
		err error
	}
	root := make(chan built, 1)
	go func() {
		u, err := c.buildRoot()
		root <- built{u, err}
	}()
	sec, rest, err := receiveSecurity(dec, cfg)
	if err == nil && !sec.NoNewPrivs {
		// Without no_new_privs, seccomp(2) asks for CAP_SYS_ADMIN,
		// which this thread has until execProcess drops it (runc's
		// order); with it, execProcess loads the filter last.
		err = loadFilter(sec.Filter)
		sec.Filter = nil
		Trace("init: filter loaded")
	}
	b := <-root
	if err != nil {
		return err
	}
	if b.err != nil {
		return b.err
	}
	if err := awaitGo(rest); err != nil {
		return err
	}
	Trace("init: go-ahead")
	return execProcess(c.Process, b.u, sec)
}

// buildRoot mounts the container's root file system, names the host,
// brings up lo, enters the root (by pivot_root, unless Root says),
// looks the user up and, with a tty, makes the terminal: all of it the
// process's, none of it a thread's.
func (c initConfig) buildRoot() (execUser, error) {
	// mount_namespaces(7): the new namespace starts as a copy whose mounts
	// still propagate to the host's; make every one private before the
	// first mount so that nothing done here is seen outside (slaves when a
	// volume is to receive the host's mounts: see rootPropagation).
	if err := mount("", "/", "", rootPropagation(c.Mounts), ""); err != nil {
		return execUser{}, err
	}
	rootfs, closeFds, err := coverWithScratch(filepath.Dir(c.Rootfs.Target), c.Rootfs, c.Mounts)
	if err != nil {
		return execUser{}, err
	}
	// The upper directory, hidden by the scratch, stays open by its
	// descriptor until setupRootfs has asked it what the image has.
	err = rootfs.Mount()
	if err == nil {
		err = setupRootfs(c.Rootfs.Target, rootfs, c.Mounts)
	}
	closeFds()
	if err != nil {
		return execUser{}, err
	}
	if err := makeDevices(c.Rootfs.Target, c.Devices); err != nil {
		return execUser{}, err
	}
	Trace("init: rootfs mounted")
	if err := sethostname(c.Hostname); err != nil {
		return execUser{}, err
	}
	if err := loopbackUp(); err != nil {
		return execUser{}, err
	}
	if err := enterRoot(c.Rootfs.Target, c.Root); err != nil {
		return execUser{}, err
	}
	u, err := lookupUser(c.Process.User)
	if err != nil {
		return execUser{}, err
	}
	if c.Process.Tty {
		if err := ptyInside(configFd, c.Process.ConsoleSize, u.Uid); err != nil {
			return execUser{}, err
		}
		if err := bindConsole(); err != nil {
			return execUser{}, err
		}
	}
	return u, nil
}

// execProcess replaces this process with p, inside the container, as u:
// working directory (see enterWorkdir), HOME, no inherited fds above 2,
// then sec: the capabilities, no_new_privs and the seccomp filter, around
// the user's ids.
func execProcess(p Process, u execUser, sec processSecurity) error {
	if err := enterWorkdir(p.Cwd); err != nil {
		return err
	}
	path, err := lookPath(p.Args[0], envValue(p.Env, "PATH"))
	if err != nil {
		return err
	}
	env := p.Env
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "HOME=") }) {
		env = append(slices.Clone(env), "HOME="+u.Home)
	}
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close_range 3 (CLOSE_RANGE_CLOEXEC): %w", err)
	}
	if err := confineSelf(sec, u); err != nil {
		return err
	}
	err = unix.Exec(path, p.Args, env)
	code := 126
	if errors.Is(err, unix.ENOENT) {
		code = 127
	}
	return &StartError{Code: code, Msg: fmt.Sprintf(`exec "%s": %v`, human.Visible(p.Args[0]), err)}
}

// enterWorkdir makes the working directory and enters it, resolved inside
// the container's root (this process's root, after pivot_root) as docker
// does: a symlink on the way, such as an image's /w → /data/w, leads
// within the root even when where it leads is not made yet, and what is
// missing is made there. The link is followed lexically first (docker's
// FollowSymlinkInScope: a dangling link cannot be opened); the directories
// are then made and opened through handles (openat2 with RESOLVE_IN_ROOT
// where the kernel has it), so a link changed meanwhile still cannot lead
// out of the root.
func enterWorkdir(cwd string) error {
	if cwd == "" || cwd == "/" {
		return chdir("/")
	}
	root, err := os.Open("/")
	if err != nil {
		return fmt.Errorf("working directory %s: %w", human.Visible(cwd), err)
	}
	defer root.Close()
	resolved, err := securejoin.SecureJoin("/", cwd)
	if err != nil {
		return fmt.Errorf("working directory %s: %w", human.Visible(cwd), err)
	}
	dir, err := pathrs.MkdirAllHandle(root, resolved, 0o755)
	if err != nil {
		return fmt.Errorf("working directory %s: %w", human.Visible(cwd), err)
	}
	defer dir.Close()
	if err := unix.Fchdir(int(dir.Fd())); err != nil {
		return fmt.Errorf("fchdir %s: %w", human.Visible(cwd), err)
	}
	return nil
}

// lookPath finds cmd as execvp(3) would, in the container's PATH.
func lookPath(cmd, path string) (string, error) {
	check := func(p string) error {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			return err
		case fi.IsDir():
			return unix.EISDIR
		case fi.Mode()&0o111 == 0:
			return fs.ErrPermission
		}
		return nil
	}
	if strings.Contains(cmd, "/") {
		err := check(cmd)
		switch {
		case err == nil:
			return cmd, nil
		case errors.Is(err, fs.ErrNotExist):
			return "", &StartError{Code: 127, Msg: fmt.Sprintf(`exec "%s": no such file or directory`, human.Visible(cmd))}
		default:
			return "", &StartError{Code: 126, Msg: fmt.Sprintf(`exec "%s": %v`, human.Visible(cmd), err)}
		}
	}
	var denied error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, cmd)
		err := check(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return "", &StartError{Code: 126, Msg: fmt.Sprintf(`exec "%s": %v`, human.Visible(cmd), denied)}
	}
	return "", &StartError{Code: 127, Msg: fmt.Sprintf(`exec "%s": executable file not found in $PATH`, human.Visible(cmd))}
}

// envValue is the value of key in env, the last one winning.
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

func readFirstLine(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return line
}
