package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// earlyCgroup is the cgroup a monitor puts its init in before it knows
// the container, so that joining it overlaps with the starter's work and
// the init's start-up. On v1 the init started by the constructor of
// spawn_cgo.go makes the cgroup and moves itself in before its execve,
// without the RCU grace period a move of another process waits for on
// cgroup v1 (see there), and the monitor hears how it went (adoptEarly);
// otherwise joinEarly moves it. Once the container is known the cgroup
// is renamed to it and its limits are written, all before the init may
// execve the command.
type earlyCgroup struct {
	cg      Cgroup
	pid     int // the init
	done    chan error
	joined  error
	settled bool // done has been read into joined
	claimed bool // renamed: no longer ours to remove
	// devices is set once v1's device rules are on the cgroup.
	devices bool
}

// wait returns the outcome of the join, once it is known.
func (e *earlyCgroup) wait() error {
	if !e.settled {
		e.joined, e.settled = <-e.done, true
	}
	return e.joined
}

// errNoEarlyCgroup sends the caller to the cgroup of the container itself.
var errNoEarlyCgroup = errors.New("no early cgroup")

// joinEarly starts making minidocker/pending-<monitor pid> in each of the
// hierarchies given as JSON and moving pid into it.
func joinEarly(hierarchies string, pid int) *earlyCgroup {
	var h Hierarchies
	if json.Unmarshal([]byte(hierarchies), &h) != nil || (h.Unified == "" && len(h.V1) == 0) {
		return nil
	}
	e := &earlyCgroup{cg: earlyCgroupOf(h), pid: pid, done: make(chan error, 1)}
	go func() {
		err := e.cg.Create(nil)
		if err == nil {
			err = e.cg.Join(pid)
		}
		e.done <- err
	}()
	return e
}

// adoptEarly is joinEarly done by the init itself, started by the
// constructor of spawn_cgo.go; its outcome comes on join: a zero byte, or
// an errno.
func adoptEarly(hierarchies string, join *os.File, pid int) *earlyCgroup {
	var h Hierarchies
	if json.Unmarshal([]byte(hierarchies), &h) != nil || len(h.V1) == 0 {
		join.Close()
		return nil
	}
	e := &earlyCgroup{cg: earlyCgroupOf(h), pid: pid, done: make(chan error, 1)}
	go func() {
		defer join.Close()
		var b [1]byte
		_, err := io.ReadFull(join, b[:])
		if err == nil && b[0] != 0 {
			err = syscall.Errno(b[0])
		}
		if err != nil {
			err = fmt.Errorf("join early cgroup %v: %w", e.cg.Dirs, err)
		}
		e.done <- err
	}()
	return e
}

// earlyDirs are the directories, colon-separated, that the constructor of
// spawn_cgo.go makes a monitor's early cgroup in: the minidocker directory
// of each v1 hierarchy. On cgroup v2 it makes none (the controllers must be
// enabled first), and joinEarly does it; nor in a hybrid host's cgroup2,
// which has no "tasks" file to move one thread with (claim joins it).
func earlyDirs(h Hierarchies) string {
	if h.Unified != "" || len(h.V1) == 0 {
		return ""
	}
	var dirs []string
	c := h.Cgroup("x")
	for _, d := range c.Dirs {
		if d != c.BPF {
			dirs = append(dirs, filepath.Dir(d))
		}
	}
	return strings.Join(dirs, ":")
}

// earlyCgroupOf is the early cgroup of this monitor in h. A hybrid host's
// cgroup2, there for the device program, is left out: cgroup2 cannot
// rename a cgroup, so the init joins the container's own there when it is
// claimed.
func earlyCgroupOf(h Hierarchies) Cgroup {
	c := h.Cgroup(fmt.Sprintf("pending-%d", os.Getpid()))
	if c.BPF != "" && !c.Unified {
		c.Dirs = slices.DeleteFunc(c.Dirs, func(d string) bool { return d == c.BPF })
		c.BPF = ""
	}
	return c
}

// restrictDevices puts rules on the early cgroup's v1 devices
// controller, before the init is told its container. v1 sets a list by a
// deny of all and then an allow a rule: written while the init mounts,
// the init could be refused the nodes it makes in between.
func (e *earlyCgroup) restrictDevices(rules []deviceRule) error {
	if e == nil {
		return nil
	}
	s := e.cg.deviceSettings(rules)
	if s == nil || e.wait() != nil {
		return nil // a failed join fails the claim: the container's own cgroup gets them
	}
	if err := e.cg.Apply(s); err != nil {
		return err
	}
	e.devices = true
	return nil
}

// claim turns the early cgroup into to, with settings (less those of v1's
// devices controller when restrictDevices wrote them).
func (e *earlyCgroup) claim(to Cgroup, settings []Setting) error {
	if e == nil {
		return errNoEarlyCgroup
	}
	if err := e.wait(); err != nil {
		return err // discard removes what was made
	}
	renamed := to
	hybrid := to.BPF != "" && !to.Unified
	if hybrid {
		renamed.Dirs = slices.DeleteFunc(slices.Clone(to.Dirs), func(d string) bool { return d == to.BPF })
	}
	if err := e.cg.Rename(renamed); err != nil {
		return errors.Join(err, to.Remove())
	}
	e.claimed = true
	if hybrid {
		err := to.mkdir(to.BPF)
		if err == nil {
			err = writeCgroupFile(filepath.Join(to.BPF, "cgroup.procs"), strconv.Itoa(e.pid))
		}
		if err != nil {
			return errors.Join(err, to.Remove())
		}
	}
	if d, ok := to.v1Dir("devices"); ok && e.devices {
		settings = slices.DeleteFunc(slices.Clone(settings), func(s Setting) bool { return filepath.Dir(s.File) == d })
	}
	if err := to.Apply(settings); err != nil {
		return errors.Join(err, to.Remove())
	}
	return nil
}

// discard removes an early cgroup that no container claimed; its init
// must be gone.
func (e *earlyCgroup) discard() {
	if e == nil || e.claimed {
		return
	}
	e.wait()
	e.cg.Remove()
}

// sweepPending removes the early cgroups of monitors that died before
// claiming them (their inits die with the monitor's socket).
func sweepPending(h Hierarchies) {
	var roots []string
	for _, r := range []string{h.Unified, h.Hybrid} {
		if r != "" {
			roots = append(roots, r)
		}
	}
	for _, mp := range h.V1 {
		roots = append(roots, mp)
	}
	for _, r := range roots {
		dir := filepath.Join(r, h.parent())
		ents, _ := os.ReadDir(dir)
		for _, ent := range ents {
			pid, ok := strings.CutPrefix(ent.Name(), "pending-")
			if !ok || !ent.IsDir() {
				continue
			}
			if n, err := strconv.Atoi(pid); err == nil && unix.Kill(n, 0) == nil {
				continue // its monitor is still there
			}
			unix.Rmdir(filepath.Join(dir, ent.Name()))
		}
	}
}
