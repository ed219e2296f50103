package engine

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Errors of the engine, checked with errors.Is.
var (
	ErrNotFound   = errors.New("no such container")
	ErrNotRunning = errors.New("container is not running")
	ErrRunning    = errors.New("container is running")
	ErrNameInUse  = errors.New("name is already in use")
	ErrInvalid    = errors.New("invalid container spec")
	ErrAmbiguous  = errors.New("container reference is ambiguous")
	ErrMounted    = errors.New("container directory still has mounts")
)

// Options are the host paths an engine works with.
type Options struct {
	// Root is the store root; containers live in Root/containers.
	Root string
	// CgroupRoot is where the cgroup file systems are mounted.
	CgroupRoot string
	// Mountinfo is the mount table to find cgroups in; empty reads
	// /proc/self/mountinfo.
	Mountinfo string
}

// Engine runs the containers of one store root.
type Engine struct {
	dir string
	cg  Hierarchies
}

// Open prepares root's container directory and finds the cgroups.
func Open(o Options) (*Engine, error) {
	if o.CgroupRoot == "" {
		o.CgroupRoot = "/sys/fs/cgroup"
	}
	if o.Mountinfo == "" {
		b, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return nil, fmt.Errorf("open engine: %w", err)
		}
		o.Mountinfo = string(b)
	}
	cg, err := DetectCgroups(o.Mountinfo, o.CgroupRoot)
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	dir := filepath.Join(root, "containers")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	return &Engine{dir: dir, cg: cg}, nil
}

// Cgroups are the hierarchies the engine found.
func (e *Engine) Cgroups() Hierarchies { return e.cg }

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Create records a new container from spec, ready to start.
func (e *Engine) Create(spec Spec) (State, error) {
	if err := validate(&spec); err != nil {
		return State{}, err
	}
	var raw [32]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	if spec.Name == "" {
		spec.Name = "c_" + id[:12]
	}
	if spec.Hostname == "" {
		spec.Hostname = id[:12]
	}
	spec.Process.Env = processEnv(spec.Process.Env, spec.Hostname, spec.Process.Tty)
	unlock, err := lockDir(e.dir)
	if err != nil {
		return State{}, err
	}
	defer unlock()
	all, err := e.list()
	if err != nil {
		return State{}, err
	}
	for _, s := range all {
		if s.Spec.Name == spec.Name {
			return State{}, fmt.Errorf("create container %q: %w by %s", spec.Name, ErrNameInUse, s.ShortID())
		}
	}
	dir := filepath.Join(e.dir, id)
	st := State{
		ID: id, Spec: spec, Status: Created, Created: time.Now().UTC(), Dir: dir,
		Rootfs: Overlay{Lower: spec.Layers, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"), Target: filepath.Join(dir, "merged"), Volatile: spec.AutoRemove},
		Cgroup: e.cg.Cgroup(id),
	}
	st.Settings = st.Cgroup.Settings(spec.Resources)
	st.Mounts = rootfsPlan(spec.Volumes)
	for _, d := range []string{dir, st.Rootfs.Upper, st.Rootfs.Work, st.Rootfs.Target} {
		if err := os.Mkdir(d, 0o700); err != nil {
			os.RemoveAll(dir)
			return State{}, fmt.Errorf("create container: %w", err)
		}
	}
	if err := writeState(dir, st, durable); err != nil {
		os.RemoveAll(dir)
		return State{}, err
	}
	return st, nil
}

// Minimums docker and the kernel accept.
const (
	minMemory = 6 << 20
	minCPUs   = 0.01
)

// validate checks spec and fills in what a volume needs.
func validate(spec *Spec) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
	}
	if spec.Name != "" && !nameRE.MatchString(spec.Name) {
		return bad("name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] allowed", spec.Name)
	}
	if len(spec.Layers) == 0 {
		return bad("no layers")
	}
	for _, l := range spec.Layers {
		if fi, err := os.Stat(l); err != nil || !fi.IsDir() {
			return bad("layer %s is not a directory", l)
		}
	}
	if len(spec.Process.Args) == 0 {
		return bad("no command")
	}
	if c := spec.Process.Cwd; c != "" && !filepath.IsAbs(c) {
		return bad("working directory %q is not absolute", c)
	}
	r := spec.Resources
	if r.Memory != 0 && r.Memory < minMemory {
		return bad("memory limit %d bytes: the minimum is 6MB", r.Memory)
	}
	if r.CPUs != 0 && (r.CPUs < minCPUs || r.CPUs > float64(runtimeCPUs())) {
		return bad("cpus %g: must be between %g and %d", r.CPUs, minCPUs, runtimeCPUs())
	}
	if r.Pids < 0 {
		return bad("pids limit %d: must be positive", r.Pids)
	}
	for i, v := range spec.Volumes {
		if !filepath.IsAbs(v.Source) {
			return bad("volume source %q is not an absolute path", v.Source)
		}
		if !filepath.IsAbs(v.Target) {
			return bad("volume target %q is not an absolute path", v.Target)
		}
		fi, err := os.Stat(v.Source)
		if err != nil {
			return bad("volume source %s: %v", v.Source, unwrapPath(err))
		}
		spec.Volumes[i].File = !fi.IsDir()
		spec.Volumes[i].Target = filepath.Clean(v.Target)
	}
	return nil
}

// processEnv is env with what docker adds when missing: PATH, HOSTNAME,
// HOME and, with a tty, TERM.
func processEnv(env []string, hostname string, tty bool) []string {
	out := slices.Clone(env)
	add := func(k, v string) {
		for _, kv := range out {
			if strings.HasPrefix(kv, k+"=") {
				return
			}
		}
		out = append(out, k+"="+v)
	}
	add("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	add("HOSTNAME", hostname)
	if tty {
		add("TERM", "xterm")
	}
	add("HOME", "/root")
	return out
}

// Monitor is a monitor process started before its container is chosen,
// so that its start-up overlaps the caller's own work (resolving an image,
// creating the container). Hand it to StartWith, or Close it.
type Monitor struct {
	pid   int
	start uint64
	ctl   *os.File // the container directory and mode go here, one line
	sync *os.File // "listening", then a startResult, come back here
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
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"minidocker-monitor"}
	cmd.Env = []string{roleEnv + "=" + roleMonitor}
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
	m := &Monitor{pid: pid, start: procStart(pid), ctl: ctlW, sync: syncR}
	go cmd.Wait() // reap it if it ends while we still run
	return m, nil
}

// Close lets go of the monitor; one never given a container exits.
func (m *Monitor) Close() error {
	return errors.Join(m.ctl.Close(), m.sync.Close())
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
	// starts at once cannot both run it.
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
	mode := modeDetach
	if attach {
		mode = modeAttach
	}
	_, err = fmt.Fprintf(m.ctl, "%s\t%s\n", st.Dir, mode)
	m.ctl.Close()
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

// Get finds a container by ID, unique ID prefix or name, reconciled with
// the processes that really run.
func (e *Engine) Get(ref string) (State, error) {
	if ref == "" {
		return State{}, fmt.Errorf("container %q: %w", ref, ErrNotFound)
	}
	all, err := e.list()
	if err != nil {
		return State{}, err
	}
	var found []State
	for _, s := range all {
		if s.ID == ref || s.Spec.Name == ref {
			return e.reconcile(s), nil
		}
		if strings.HasPrefix(s.ID, ref) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return State{}, fmt.Errorf("container %s: %w", printable(ref), ErrNotFound)
	case 1:
		return e.reconcile(found[0]), nil
	}
	return State{}, fmt.Errorf("container %s: %w", printable(ref), ErrAmbiguous)
}

// List returns every container, reconciled, oldest first.
func (e *Engine) List() ([]State, error) {
	all, err := e.list()
	if err != nil {
		return nil, err
	}
	for i := range all {
		all[i] = e.reconcile(all[i])
	}
	return all, nil
}

func (e *Engine) list() ([]State, error) {
	ents, err := os.ReadDir(e.dir)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []State
	for _, ent := range ents {
		if !ent.IsDir() || len(ent.Name()) != 64 {
			continue
		}
		s, err := readState(filepath.Join(e.dir, ent.Name()))
		if err != nil {
			continue // being created or removed
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b State) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// reconcile marks a container whose monitor is gone as exited, killing
// its init if it is still there and releasing its cgroup.
func (e *Engine) reconcile(s State) State {
	if s.Status != Running || alive(s.MonitorPid, s.MonitorStart) {
		return s
	}
	if alive(s.Pid, s.PidStart) {
		unix.Kill(s.Pid, unix.SIGKILL)
	}
	rmErr := s.Cgroup.Remove()
	ns, err := updateState(s.Dir, durable, func(n *State) error {
		if n.Status != Running || alive(n.MonitorPid, n.MonitorStart) {
			return errors.New("changed")
		}
		n.Status, n.ExitCode, n.Pid, n.PidStart = Exited, 255, 0, 0
		n.Finished = time.Now().UTC()
		n.Error = "monitor gone"
		if rmErr != nil {
			n.Error += "; " + rmErr.Error()
		}
		return nil
	})
	if err != nil {
		if ns, err := readState(s.Dir); err == nil {
			return ns
		}
		return s
	}
	return ns
}

// Kill sends sig to a running container's init.
func (e *Engine) Kill(ref string, sig unix.Signal) error {
	st, err := e.Get(ref)
	if err != nil {
		return err
	}
	if st.Status != Running || !alive(st.Pid, st.PidStart) {
		return fmt.Errorf("kill %s: %w", st.Name(), ErrNotRunning)
	}
	if err := unix.Kill(st.Pid, sig); err != nil {
		return fmt.Errorf("kill %s (%s): %w", st.Name(), unix.SignalName(sig), err)
	}
	return nil
}

// Stop sends SIGTERM, then SIGKILL after timeout, and waits for the exit.
func (e *Engine) Stop(ref string, timeout time.Duration) (State, error) {
	st, err := e.Get(ref)
	if err != nil {
		return State{}, err
	}
	if st.Status != Running {
		return st, nil
	}
	if err := e.Kill(st.ID, unix.SIGTERM); err != nil && !errors.Is(err, ErrNotRunning) {
		return st, err
	}
	if s, err := e.Wait(st.ID, timeout); err == nil {
		return s, nil
	}
	if err := e.Kill(st.ID, unix.SIGKILL); err != nil && !errors.Is(err, ErrNotRunning) {
		return st, err
	}
	return e.Wait(st.ID, 10*time.Second)
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
		if err := e.Kill(st.ID, unix.SIGKILL); err != nil && !errors.Is(err, ErrNotRunning) {
			return st, err
		}
		if st, err = e.Wait(st.ID, 10*time.Second); err != nil {
			return st, err
		}
	}
	if m := mountsUnder(st.Dir); len(m) > 0 {
		return st, fmt.Errorf("remove %s: %w: %s", st.Name(), ErrMounted, strings.Join(m, ", "))
	}
	if err := st.Cgroup.Remove(); err != nil {
		return st, fmt.Errorf("remove %s: %w", st.Name(), err)
	}
	if err := os.RemoveAll(st.Dir); err != nil {
		return st, fmt.Errorf("remove %s: %w", st.Name(), err)
	}
	return st, nil
}

// mountsUnder lists the host's mount points at or below dir.
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
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

// Logs writes a container's output to w; with follow, it keeps writing
// until the container stops.
func (e *Engine) Logs(ref string, follow bool, w io.Writer) error {
	st, err := e.Get(ref)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(st.Dir, logFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logs %s: %w", st.Name(), err)
	}
	defer f.Close()
	for {
		if _, err := io.Copy(w, f); err != nil {
			return fmt.Errorf("logs %s: %w", st.Name(), err)
		}
		if !follow {
			return nil
		}
		if s, err := e.Get(st.ID); err != nil || s.Status != Running {
			_, err := io.Copy(w, f)
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
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

// printable makes control characters of a name visible.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func runtimeCPUs() int { return runtime.NumCPU() }
