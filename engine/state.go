package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/overlay"
)

// Spec is what a container is made from: the image's layer directories
// (bottom first) and the process to run, already resolved by the caller.
type Spec struct {
	Name     string   `json:"name"`
	Image    string   `json:"image"`
	ImageID  string   `json:"image_id,omitempty"`
	Layers   []string `json:"layers"`
	Process  Process  `json:"process"`
	Hostname string   `json:"hostname,omitempty"`
	// ExtraHosts are --add-host's HOST:IP, lines of the engine's /etc/hosts.
	ExtraHosts []string  `json:"extra_hosts,omitempty"`
	Volumes    []Volume  `json:"volumes,omitempty"`
	Resources  Resources `json:"resources"`
	OpenStdin  bool      `json:"open_stdin,omitempty"`
	AutoRemove bool      `json:"auto_remove,omitempty"`
	// Devices are host devices let in (--device).
	Devices []Device `json:"devices,omitempty"`
	// Privileged is docker's --privileged: every capability, no seccomp
	// filter, /proc unmasked, /sys writable, and (for the device cgroup)
	// every device.
	Privileged bool     `json:"privileged,omitempty"`
	Security   Security `json:"security,omitzero"`
	// Root is how the process enters its root: pivot_root(2), the
	// default, or one of the unsafe ways kept for teaching and for hosts
	// whose root is a ramdisk (RootEntry).
	Root RootEntry `json:"root,omitempty"`
}

// Security is docker's --cap-add, --cap-drop and --security-opt: what a
// container's processes may do beyond or short of docker's defaults.
type Security struct {
	// CapAdd and CapDrop are capability names (CAP_X or X, any case) or
	// ALL, applied as docker does (see effectiveCaps).
	CapAdd  []string `json:"cap_add,omitempty"`
	CapDrop []string `json:"cap_drop,omitempty"`
	// Seccomp is SeccompDefault (docker's default profile),
	// SeccompUnconfined (no filter), or a profile in docker's JSON format.
	Seccomp string `json:"seccomp,omitempty"`
	// NoNewPrivileges sets no_new_privs (prctl(2)): setuid and file
	// capabilities then give nothing.
	NoNewPrivileges bool `json:"no_new_privileges,omitempty"`
}

// Confinement is what a container's processes (and its execs) get,
// worked out at create from Spec.Privileged and Spec.Security.
type Confinement struct {
	// Capabilities are the bounding set and, for root, the effective and
	// permitted sets, in number order.
	Capabilities []string `json:"capabilities"`
	// Seccomp is "default", "unconfined" or "custom".
	Seccomp         string `json:"seccomp"`
	NoNewPrivileges bool   `json:"no_new_privileges"`
}

// Resources are a container's cgroup limits; zero means no limit.
type Resources struct {
	Memory int64   `json:"memory,omitempty"`
	CPUs   float64 `json:"cpus,omitempty"`
	Pids   int64   `json:"pids,omitempty"`
}

// Status is where a container is in its life.
type Status string

// The statuses, as docker names them.
const (
	Created Status = "created"
	Running Status = "running"
	Exited  Status = "exited"
)

// State is a container as recorded in its state.json.
type State struct {
	ID     string `json:"id"`
	Spec   Spec   `json:"spec"`
	Status Status `json:"status"`
	// Paused is a running container frozen by Pause, as docker's
	// State.Paused: its Status stays Running.
	Paused       bool      `json:"paused"`
	Pid          int       `json:"pid,omitempty"`
	PidStart     uint64    `json:"pid_start,omitempty"`
	MonitorPid   int       `json:"monitor_pid,omitempty"`
	MonitorStart uint64    `json:"monitor_start,omitempty"`
	ExitCode     int       `json:"exit_code"`
	OOMKilled    bool      `json:"oom_killed,omitempty"`
	Error        string    `json:"error,omitempty"`
	Created      time.Time `json:"created"`
	Started      time.Time `json:"started,omitzero"`
	Finished     time.Time `json:"finished,omitzero"`
	Dir          string    `json:"dir"`
	Rootfs       Overlay   `json:"rootfs"`
	// Mounts is the plan of /proc, /sys, /dev and the volumes over Rootfs.
	Mounts      []Mount     `json:"mounts"`
	Cgroup      Cgroup      `json:"cgroup"`
	Settings    []Setting   `json:"cgroup_settings,omitempty"`
	Confinement Confinement `json:"confinement"`
}

// ShortID is the first twelve hex digits of the ID.
func (s State) ShortID() string { return s.ID[:12] }

// Name is the container's name.
func (s State) Name() string { return s.Spec.Name }

// MountPoints are the absolute paths in the container that the engine
// mounts over its root and that lie in the overlay itself, sorted: /proc,
// /sys, /dev, /etc/hostname, /etc/resolv.conf, the volumes' targets, and
// /etc/hosts when the engine made it. Targets inside another target
// (/proc/sys, /sys/firmware, /dev/pts, /dev/shm, /dev/mqueue, a volume
// inside a volume) are left out: they are mount points in the file system
// mounted there, never entries of the upper directory. /etc/hosts is
// mounted only over an image without one (Mount.IfMissing), so it is
// listed only when the upper directory holds it and the lower layers do
// not: then it is the mount point the engine made; otherwise what the
// upper directory holds there is the container's own change. Directories
// the engine made on the way to a mount point are not listed.
func (s State) MountPoints() []string {
	var out []string
	for _, m := range s.Mounts {
		t := path.Clean(m.Target)
		nested := slices.ContainsFunc(s.Mounts, func(o Mount) bool {
			return strings.HasPrefix(t, strings.TrimSuffix(path.Clean(o.Target), "/")+"/")
		})
		if nested || m.IfMissing && !s.engineMade(t) {
			continue
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// engineMade reports whether the upper directory holds p and the lower
// layers show nothing there.
func (s State) engineMade(p string) bool {
	c, ok, err := overlay.ChangeAt(s.Rootfs.Upper, s.Rootfs.Lower, p)
	return err == nil && ok && c.Lower < 0
}

// Files of a container's directory.
const (
	stateFile  = "state.json"
	logFile    = "container.log"
	socketFile = "attach.sock"
	// monitorLog, beside the containers' directories, is the monitors'
	// own error output.
	monitorLog = "monitor.log"
)

// readState reads dir's state.json.
func readState(dir string) (State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return State{}, fmt.Errorf("read container state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("read container state %s: %w", dir, err)
	}
	return s, nil
}

// Durability of a state write. Every write is atomic (temp file, rename);
// a durable one is also fsync'd before the rename. A "running" record need
// not be: after a crash, reconcile finds the monitor gone either way.
const (
	atomicOnly = false
	durable    = true
)

// writeState replaces dir's state.json atomically: temp file, fsync when
// sync is set, rename.
func writeState(dir string, s State, sync bool) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode container state: %w", err)
	}
	f, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return fmt.Errorf("write container state: %w", err)
	}
	_, err = f.Write(b)
	if err == nil && sync {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, stateFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write container state: %w", err)
	}
	return nil
}

// updateState changes dir's state under its lock, so that the monitor and
// the CLI do not lose each other's writes.
func updateState(dir string, sync bool, change func(*State) error) (State, error) {
	unlock, err := lockDir(dir)
	if err != nil {
		return State{}, err
	}
	defer unlock()
	s, err := readState(dir)
	if err != nil {
		return State{}, err
	}
	if err := change(&s); err != nil {
		return s, err
	}
	return s, writeState(dir, s, sync)
}

// lockDir takes the exclusive flock(2) of dir itself: a lock file would
// cost an inode per container, and making inodes is a measurable part of
// a container's start (ext4 scans past recently freed ones).
func lockDir(dir string) (func(), error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("flock %s (LOCK_EX): %w", dir, err)
	}
	return func() { unix.Close(fd) }, nil
}

// procStart is a process's start time in clock ticks since boot (field 22
// of /proc/PID/stat), which tells a process from a later one with its pid.
func procStart(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0
	}
	n, _ := strconv.ParseUint(f[19], 10, 64)
	return n
}

// alive reports whether pid is still the process that started at start
// and not a zombie.
func alive(pid int, start uint64) bool {
	if pid <= 0 || start == 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 >= len(s) || s[i+2] == 'Z' {
		return false
	}
	return procStart(pid) == start
}

// syncState makes the last write of dir's state.json durable.
func syncState(dir string) error {
	f, err := os.Open(filepath.Join(dir, stateFile))
	if err != nil {
		return fmt.Errorf("sync container state: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync container state: %w", err)
	}
	return nil
}
