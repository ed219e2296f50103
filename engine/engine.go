package engine

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
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
	// the calling thread's /proc/thread-self/mountinfo.
	Mountinfo string
	// CgroupParent is the directory, in each cgroup hierarchy, of the
	// containers' cgroups: one name, "minidocker" when empty.
	CgroupParent string
	// ResolvConf is the host's resolver configuration, which containers
	// get a copy of; empty means /etc/resolv.conf.
	ResolvConf string
}

// Engine runs the containers of one store root.
type Engine struct {
	dir    string
	cg     Hierarchies
	resolv string
}

// Open prepares root's container directory and finds the cgroups.
func Open(o Options) (*Engine, error) {
	if o.CgroupRoot == "" {
		o.CgroupRoot = "/sys/fs/cgroup"
	}
	if o.Mountinfo == "" {
		b, err := os.ReadFile("/proc/thread-self/mountinfo")
		if err != nil {
			return nil, fmt.Errorf("open engine: %w", err)
		}
		o.Mountinfo = string(b)
	}
	cg, err := DetectCgroups(o.Mountinfo, o.CgroupRoot)
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	if p := o.CgroupParent; p != "" {
		if !validName(p) {
			return nil, fmt.Errorf(`open engine: %w: cgroup parent "%s"`, ErrInvalid, human.Visible(p))
		}
		cg.Parent = p
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	dir := filepath.Join(root, "containers")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open engine: %w", err)
	}
	spreadSubdirs(dir)
	if o.ResolvConf == "" {
		o.ResolvConf = "/etc/resolv.conf"
	}
	return &Engine{dir: dir, cg: cg, resolv: o.ResolvConf}, nil
}

// Cgroups are the hierarchies the engine found.
func (e *Engine) Cgroups() Hierarchies { return e.cg }

// validName: [a-zA-Z0-9][a-zA-Z0-9_.-]*, as docker's container names.
// (No regexp: each re-executed minidocker would compile it at start-up.)
func validName(n string) bool {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || i > 0 && strings.IndexByte("_.-", c) >= 0) {
			return false
		}
	}
	return n != ""
}

// Create records a new container from spec, ready to start.
func (e *Engine) Create(spec Spec) (State, error) { return e.create(spec, nil) }

// CreateFor is Create of a container claimed by m from the start, as
// docker run makes one: StartWith(m, …) then need not claim it with a
// write of its own, and no other start can take it meanwhile.
func (e *Engine) CreateFor(m *Monitor, spec Spec) (State, error) { return e.create(spec, m) }

func (e *Engine) create(spec Spec, m *Monitor) (State, error) {
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
	made, err := e.resolveVolumes(&spec)
	if err == nil {
		err = relabelVolumes(spec.Volumes)
	}
	if err != nil {
		return State{}, errors.Join(err, e.dropVolumes(made))
	}
	dir := filepath.Join(e.dir, id)
	st := State{
		ID: id, Spec: spec, Status: Created, Created: time.Now().UTC(), Dir: dir,
		Rootfs: Overlay{Lower: spec.Layers, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"), Target: filepath.Join(dir, scratchRoot), Volatile: spec.AutoRemove},
		Cgroup: e.cg.Cgroup(id),
	}
	if m != nil {
		st.MonitorPid, st.MonitorStart = m.pid, m.start
	}
	st.Settings = append(st.Cgroup.Settings(spec.Resources), st.Cgroup.deviceSettings(deviceRules(spec))...)
	etc, err := etcContents(spec.Hostname, e.resolv, spec.ExtraHosts)
	if err != nil {
		return State{}, fmt.Errorf("create container: %w", err)
	}
	st.Mounts = rootfsPlan(dir, spec.Volumes, etc, len(spec.ExtraHosts) > 0)
	if spec.Privileged {
		st.Mounts = privilegedPlan(st.Mounts)
	}
	st.Confinement = confine(spec, lastCap(), permittedCaps())
	// The directory keeps others out; upper is the mode of the
	// container's "/", which every user in it must be able to enter.
	// The root's mount point and the /etc files are made by the init, in
	// a tmpfs over dir (scratch.go).
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o700}, {st.Rootfs.Upper, 0o755}, {st.Rootfs.Work, 0o700}} {
		if err := os.Mkdir(d.path, d.mode); err != nil {
			os.RemoveAll(dir)
			return State{}, errors.Join(fmt.Errorf("create container: %w", err), e.dropVolumes(made))
		}
	}
	// A container removed when it exits need not survive a crash (its
	// overlay is volatile too): no fsync for it.
	if err := writeState(dir, st, !spec.AutoRemove); err != nil {
		os.RemoveAll(dir)
		return State{}, errors.Join(err, e.dropVolumes(made))
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
	if spec.Name != "" && !validName(spec.Name) {
		return bad(`name "%s": only [a-zA-Z0-9][a-zA-Z0-9_.-] allowed`, human.Visible(spec.Name))
	}
	if len(spec.Layers) == 0 {
		return bad("no layers")
	}
	for _, l := range spec.Layers {
		if fi, err := os.Stat(l); err != nil || !fi.IsDir() {
			return bad("layer %s is not a directory", human.Visible(l))
		}
	}
	if len(spec.Process.Args) == 0 {
		return bad("no command")
	}
	if spec.Process.Privileged {
		return bad("process.privileged is an exec's; a container's is privileged")
	}
	if err := checkSecurity(spec.Security); err != nil {
		return err
	}
	if _, err := ParseRootEntry(string(spec.Root)); err != nil || spec.Root == "pivot_root" {
		return bad(`root entry "%s": want "", no-pivot or chroot`, human.Visible(string(spec.Root)))
	}
	if c := spec.Process.Cwd; c != "" && !filepath.IsAbs(c) {
		return bad(`working directory "%s" is not absolute`, human.Visible(c))
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
	if err := checkVolumes(spec.Volumes); err != nil {
		return err
	}
	return resolveDevices(spec)
}

// processEnv is env with what docker adds when missing: PATH, HOSTNAME
// and, with a tty, TERM. HOME, which depends on the user, the init adds
// once it has looked the user up (see execProcess).
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
	return out
}

// IsID reports whether s has the form of a container ID: 64 hex digits.
func IsID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Get finds a container by ID, unique ID prefix or name, reconciled with
// the processes that really run.
func (e *Engine) Get(ref string) (State, error) {
	if ref == "" {
		return State{}, fmt.Errorf("container %q: %w", ref, ErrNotFound)
	}
	if len(ref) == 64 && !strings.ContainsAny(ref, "/.") {
		if s, err := readState(filepath.Join(e.dir, ref)); err == nil {
			return e.reconcile(s), nil
		}
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
		return State{}, fmt.Errorf("container %s: %w", human.Visible(ref), ErrNotFound)
	case 1:
		return e.reconcile(found[0]), nil
	}
	return State{}, fmt.Errorf("container %s: %w", human.Visible(ref), ErrAmbiguous)
}

// List returns every container, reconciled, oldest first.
func (e *Engine) List() ([]State, error) {
	sweepPending(e.cg)
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
		n.Paused = false
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

func runtimeCPUs() int { return runtime.NumCPU() }
