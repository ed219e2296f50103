package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupParent is the directory under each hierarchy that holds ours,
// unless Options.CgroupParent names another.
const cgroupParent = "minidocker"

// Hierarchies are the cgroup file systems limits are set in: one unified
// cgroup2 tree (pure v2), or a v1 mount per controller (v1 and hybrid,
// where an empty cgroup2 sits beside the v1 controllers).
type Hierarchies struct {
	// Unified is the cgroup2 mount point when it holds the controllers.
	Unified string `json:"unified,omitempty"`
	// V1 maps a v1 controller to its mount point.
	V1 map[string]string `json:"v1,omitempty"`
	// Hybrid is the cgroup2 mount beside the v1 controllers, set only
	// when there is no v1 devices hierarchy: a container then gets a
	// cgroup there too, for its device program, as on cgroup v2.
	Hybrid string `json:"hybrid,omitempty"`
	// Parent is the directory in each that holds the containers'
	// cgroups; empty means "minidocker".
	Parent string `json:"parent,omitempty"`
}

// parent is the directory of the containers' cgroups in each hierarchy.
func (h Hierarchies) parent() string {
	if h.Parent != "" {
		return h.Parent
	}
	return cgroupParent
}

// v1Controllers are the v1 hierarchies a container gets a cgroup in. The
// freezer is there for pause (freeze.go): a process is frozen with the
// cgroup it is in, so the container's must be in one from the start, and
// every process it forks is then born in it.
var v1Controllers = []string{"memory", "cpu", "cpuacct", "pids", "devices", "freezer"}

// ErrNoCgroups is a host with neither cgroup v2 controllers nor v1 memory,
// cpu and pids hierarchies under the cgroup root.
var ErrNoCgroups = errors.New("no usable cgroup hierarchy")

// DetectCgroups reads a mountinfo table for the cgroup file systems under
// root (normally /sys/fs/cgroup). v1 controllers win when present: on a
// hybrid host the cgroup2 beside them has no controllers to give, but it
// takes device programs, which filter devices when v1's devices
// controller is not there.
func DetectCgroups(mountinfo, root string) (Hierarchies, error) {
	h := Hierarchies{V1: map[string]string{}}
	var unified string
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		mp := unescapeMountinfo(f[4])
		if mp != root && !strings.HasPrefix(mp, root+"/") {
			continue
		}
		switch g[0] {
		case "cgroup2":
			unified = mp
		case "cgroup":
			for _, opt := range strings.Split(g[2], ",") {
				if slices.Contains(v1Controllers, opt) {
					h.V1[opt] = mp
				}
			}
		}
	}
	if h.V1["memory"] != "" && h.V1["cpu"] != "" && h.V1["pids"] != "" {
		if h.V1["devices"] == "" {
			h.Hybrid = unified
		}
		return h, nil
	}
	if unified == root {
		return Hierarchies{Unified: unified}, nil
	}
	return Hierarchies{}, fmt.Errorf("cgroups under %s: %w", root, ErrNoCgroups)
}

func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// Cgroup is one container's cgroup: a directory per hierarchy.
type Cgroup struct {
	Dirs    []string `json:"dirs"`
	Unified bool     `json:"unified,omitempty"`
	// BPF is the directory, one of Dirs, of a cgroup2 hierarchy that
	// the container's device program is attached to: on cgroup v2, or
	// in a hybrid host's cgroup2 when it has no v1 devices controller.
	// Empty when v1's devices controller filters devices.
	BPF string `json:"bpf,omitempty"`
}

// Setting is one cgroup file and the value written to it.
type Setting struct {
	File  string `json:"file"`
	Value string `json:"value"`
}

// cfsPeriod is the CPU bandwidth period, in microseconds.
const cfsPeriod = 100000

// Cgroup names the cgroup of container id in h.
func (h Hierarchies) Cgroup(id string) Cgroup {
	if h.Unified != "" {
		d := filepath.Join(h.Unified, h.parent(), id)
		return Cgroup{Dirs: []string{d}, Unified: true, BPF: d}
	}
	var c Cgroup
	for _, ctl := range v1Controllers {
		if mp := h.V1[ctl]; mp != "" {
			d := filepath.Join(mp, h.parent(), id)
			if !slices.Contains(c.Dirs, d) {
				c.Dirs = append(c.Dirs, d)
			}
		}
	}
	if h.Hybrid != "" {
		c.BPF = filepath.Join(h.Hybrid, h.parent(), id)
		c.Dirs = append(c.Dirs, c.BPF)
	}
	return c
}

// v1Dir is the directory of c in the v1 hierarchy of controller, if any.
func (c Cgroup) v1Dir(controller string) (string, bool) {
	if c.Unified {
		return "", false
	}
	for _, d := range c.Dirs {
		if slices.Contains(strings.Split(filepath.Base(filepath.Dir(filepath.Dir(d))), ","), controller) {
			return d, true
		}
	}
	return "", false
}

// dirFor is the directory whose files start with the controller's name.
func (c Cgroup) dirFor(controller string) string {
	if c.Unified || len(c.Dirs) == 1 {
		return c.Dirs[0]
	}
	if d, ok := c.v1Dir(controller); ok {
		return d
	}
	return c.Dirs[0]
}

// deviceSettings are the (file, value) pairs of rules on cgroup v1's
// devices controller: deny all, then allow each rule. None when the
// container's devices are filtered by a program (BPF), or for a
// privileged container (no rules), whose cgroup keeps its parent's
// "a *:* rwm".
func (c Cgroup) deviceSettings(rules []deviceRule) []Setting {
	d, ok := c.v1Dir("devices")
	if !ok || c.BPF != "" || rules == nil {
		return nil
	}
	s := []Setting{{filepath.Join(d, "devices.deny"), "a"}}
	for _, r := range rules {
		s = append(s, Setting{filepath.Join(d, "devices.allow"), r.String()})
	}
	return s
}

// Settings are the (file, value) pairs that put r on c.
func (c Cgroup) Settings(r Resources) []Setting {
	var s []Setting
	f := func(ctl, name, v string) { s = append(s, Setting{filepath.Join(c.dirFor(ctl), name), v}) }
	quota := int64(r.CPUs * cfsPeriod)
	if c.Unified {
		if r.Memory > 0 {
			f("memory", "memory.max", strconv.FormatInt(r.Memory, 10))
		}
		if quota > 0 {
			f("cpu", "cpu.max", fmt.Sprintf("%d %d", quota, cfsPeriod))
		}
	} else {
		if r.Memory > 0 {
			f("memory", "memory.limit_in_bytes", strconv.FormatInt(r.Memory, 10))
		}
		if quota > 0 {
			f("cpu", "cpu.cfs_period_us", strconv.Itoa(cfsPeriod))
			f("cpu", "cpu.cfs_quota_us", strconv.FormatInt(quota, 10))
		}
	}
	if r.Pids > 0 {
		f("pids", "pids.max", strconv.FormatInt(r.Pids, 10))
	}
	return s
}

// controllers are the v2 controllers a container's cgroup needs.
const controllers = "+memory +cpu +pids"

// Create makes c's directories and writes settings. On cgroup v2 it first
// enables the controllers for the subtree, as every v2 engine must. A
// parent removed by a concurrent teardown is made again.
func (c Cgroup) Create(settings []Setting) error {
	for _, d := range c.Dirs {
		var err error
		for range 5 {
			if err = c.mkdir(d); !errors.Is(err, os.ErrNotExist) {
				break
			}
		}
		if err != nil {
			return errors.Join(err, c.Remove())
		}
	}
	if err := c.Apply(settings); err != nil {
		return errors.Join(err, c.Remove())
	}
	return nil
}

// Apply writes settings. Settings of one file in a row (the device
// rules of v1's devices.allow) are written through one open file: the
// kernel takes each write(2) of a cgroup file as one value.
func (c Cgroup) Apply(settings []Setting) error {
	var f *os.File
	defer func() { f.Close() }()
	for _, s := range settings {
		if f == nil || f.Name() != s.File {
			f.Close()
			var err error
			if f, err = os.OpenFile(s.File, os.O_WRONLY, 0); err != nil {
				return fmt.Errorf("write %q to %s: %w", s.Value, s.File, unwrapPath(err))
			}
		}
		if _, err := f.WriteString(s.Value); err != nil {
			return fmt.Errorf("write %q to %s: %w", s.Value, s.File, unwrapPath(err))
		}
	}
	return nil
}

// Rename gives c's directories to's names, in the same parents: the
// processes in them stay where they are. cgroups allow rename(2) within
// a parent, on v1 and v2 alike.
func (c Cgroup) Rename(to Cgroup) error {
	if len(c.Dirs) != len(to.Dirs) {
		return fmt.Errorf("rename cgroup %v to %v: not the same hierarchies", c.Dirs, to.Dirs)
	}
	for i := range c.Dirs {
		if err := os.Rename(c.Dirs[i], to.Dirs[i]); err != nil {
			return fmt.Errorf("rename cgroup: %w", err)
		}
	}
	return nil
}

func (c Cgroup) mkdir(d string) error {
	parent := filepath.Dir(d)
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create cgroup %s: %w", parent, err)
	}
	if c.Unified {
		for _, p := range []string{filepath.Dir(parent), parent} {
			if err := enableControllers(p); err != nil {
				return err
			}
		}
	}
	if err := os.Mkdir(d, 0o755); err != nil {
		return fmt.Errorf("create cgroup %s: %w", d, err)
	}
	return nil
}

func enableControllers(dir string) error {
	cur := readFirstLine(filepath.Join(dir, "cgroup.subtree_control"))
	if strings.Contains(cur, "memory") && strings.Contains(cur, "cpu") && strings.Contains(cur, "pids") {
		return nil
	}
	return writeCgroupFile(filepath.Join(dir, "cgroup.subtree_control"), controllers)
}

func writeCgroupFile(file, value string) error {
	if err := os.WriteFile(file, []byte(value), 0); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, file, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops an *os.PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Join moves pid into c.
func (c Cgroup) Join(pid int) error {
	for _, d := range c.Dirs {
		if err := writeCgroupFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes c's directories, waiting a little for the kernel to let
// go of exiting processes, and the parent when it is left empty. A busy
// cgroup is thawed first: on cgroup v1 a killed process that is frozen
// does not exit until thawed.
func (c Cgroup) Remove() error {
	var errs []error
	thawed := false
	for _, d := range c.Dirs {
		var err error
		for i := 0; i < 100; i++ {
			err = unix.Rmdir(d)
			if err == nil || errors.Is(err, unix.ENOENT) {
				err = nil
				break
			}
			if !errors.Is(err, unix.EBUSY) {
				break
			}
			if !thawed {
				c.thaw() // a cgroup without a freezer has nothing frozen
				thawed = true
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
			continue
		}
		// Another container may still use the parent: then this fails.
		_ = unix.Rmdir(filepath.Dir(d))
	}
	return errors.Join(errs...)
}

// Usage is what a container's cgroup has used.
type Usage struct {
	// MemoryBytes is the memory charged to the cgroup less its inactive
	// file cache, which the kernel reclaims first: what docker stats
	// shows as usage.
	MemoryBytes int64 `json:"memory_bytes"`
	// MemoryLimit is the cgroup's limit; 0 when it has none.
	MemoryLimit int64 `json:"memory_limit,omitempty"`
	CPUNanos    int64 `json:"cpu_nanos"`
	Pids        int64 `json:"pids"`
	OOMKills    int64 `json:"oom_kills"`
}

// noLimit is the smallest value a v1 memory.limit_in_bytes takes for "no
// limit" (PAGE_COUNTER_MAX pages, rounded; anything this large is none).
const noLimit = 1 << 62

// Usage reads c's counters.
func (c Cgroup) Usage() (Usage, error) {
	var u Usage
	var err error
	num := func(ctl, file string) int64 {
		n, e := strconv.ParseInt(readFirstLine(filepath.Join(c.dirFor(ctl), file)), 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("read %s: %w", filepath.Join(c.dirFor(ctl), file), e)
		}
		return n
	}
	stat := filepath.Join(c.dirFor("memory"), "memory.stat")
	if c.Unified {
		u.MemoryBytes = num("memory", "memory.current") - keyed(stat, "inactive_file")
		if lim := readFirstLine(filepath.Join(c.dirFor("memory"), "memory.max")); lim != "max" {
			u.MemoryLimit = num("memory", "memory.max")
		}
		u.CPUNanos = keyed(filepath.Join(c.dirFor("cpu"), "cpu.stat"), "usage_usec") * 1000
		u.OOMKills = keyed(filepath.Join(c.dirFor("memory"), "memory.events"), "oom_kill")
	} else {
		u.MemoryBytes = num("memory", "memory.usage_in_bytes") - keyed(stat, "total_inactive_file")
		u.MemoryLimit = num("memory", "memory.limit_in_bytes")
		u.CPUNanos = num("cpuacct", "cpuacct.usage")
		u.OOMKills = keyed(filepath.Join(c.dirFor("memory"), "memory.oom_control"), "oom_kill")
	}
	if u.MemoryLimit >= noLimit {
		u.MemoryLimit = 0
	}
	u.MemoryBytes = max(u.MemoryBytes, 0)
	u.Pids = num("pids", "pids.current")
	return u, err
}

// OOMKilled reports whether the kernel's OOM killer has killed a process
// of c.
func (c Cgroup) OOMKilled() bool {
	if c.Unified {
		return keyed(filepath.Join(c.dirFor("memory"), "memory.events"), "oom_kill") > 0
	}
	return keyed(filepath.Join(c.dirFor("memory"), "memory.oom_control"), "oom_kill") > 0
}

// keyed reads "key value" from a flat-keyed cgroup file; 0 when absent.
func keyed(file, key string) int64 {
	b, _ := os.ReadFile(file)
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
