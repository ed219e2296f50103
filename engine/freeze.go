package engine

// Pausing a container freezes its cgroup, as docker pause does: every
// process of it stops where it is, without a signal it could see or
// handle (SIGSTOP would be both), and goes on when thawed. cgroup v1 has
// a freezer controller, which every container's cgroup joins (see
// v1Controllers); cgroup v2 has cgroup.freeze in every cgroup but the
// root, controllers or none, so a hybrid host's empty cgroup2 freezes too
// when there is no v1 freezer.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"minidocker/internal/human"
)

// Errors of Pause and Unpause, checked with errors.Is.
var (
	ErrPaused    = errors.New("container is paused")
	ErrNotPaused = errors.New("container is not paused")
	// ErrNoFreezer is a container whose cgroup has no freezer: on
	// cgroup v1, one created before containers joined the freezer
	// hierarchy, or a host without it.
	ErrNoFreezer = errors.New("no cgroup freezer")
)

// refusal is an operation a container's state does not allow, worded as
// docker words it ("container web is already paused"), its category
// found by errors.Is.
type refusal struct {
	msg  string
	kind error
}

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return r.kind }

// refuse is a refusal of kind for st: "container NAME " and why.
func refuse(kind error, st State, why string) error {
	return &refusal{msg: "container " + human.Visible(st.Name()) + " " + why, kind: kind}
}

// Pause freezes every process of a running container, as docker pause
// does, and returns once the kernel reports them all frozen. A container
// that is not running is refused with ErrNotRunning, a paused one with
// ErrPaused.
func (e *Engine) Pause(ref string) error { return e.setPaused(ref, true) }

// Unpause thaws a paused container; one that is not paused is refused
// with ErrNotPaused.
func (e *Engine) Unpause(ref string) error { return e.setPaused(ref, false) }

// Paused reports whether a container is paused (State.Paused).
func (e *Engine) Paused(ref string) (bool, error) {
	st, err := e.Get(ref)
	return err == nil && st.Paused, err
}

// setPaused freezes or thaws a container's cgroup and records it, both
// under the container's lock: two pauses cannot both pass the check, and
// the monitor cannot record the container's end in between. A record
// that cannot be written undoes the change, so that it says what the
// kernel does.
func (e *Engine) setPaused(ref string, pause bool) error {
	st, err := e.Get(ref)
	if err != nil {
		return err
	}
	unlock, err := lockDir(st.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	if st, err = readState(st.Dir); err != nil {
		return err
	}
	if err := pauseAllowed(st, pause); err != nil {
		return err
	}
	op, do, undo := "pause", st.Cgroup.freeze, st.Cgroup.thaw
	if !pause {
		op, do, undo = "unpause", st.Cgroup.thaw, st.Cgroup.freeze
	}
	if err := do(); err != nil {
		return fmt.Errorf("%s %s: %w", op, human.Visible(st.Name()), err)
	}
	st.Paused = pause
	if err := writeState(st.Dir, st, atomicOnly); err != nil {
		return errors.Join(fmt.Errorf("%s %s: %w", op, human.Visible(st.Name()), err), undo())
	}
	return nil
}

// pauseAllowed checks st, read under its lock, for a pause (or, when
// pause is false, an unpause), in docker's order and words.
func pauseAllowed(st State, pause bool) error {
	switch {
	case !pause && !st.Paused:
		return refuse(ErrNotPaused, st, "is not paused")
	case !pause:
		return nil
	case st.Status != Running || !alive(st.Pid, st.PidStart):
		return refuse(ErrNotRunning, st, "is not running")
	case st.Paused:
		return refuse(ErrPaused, st, "is already paused")
	}
	return nil
}

// unpauseSignalled thaws a paused container once a signal is sent to it,
// as docker's kill and stop do: a frozen process handles no signal, and
// on cgroup v1 even one killed by SIGKILL stays until thawed. A container
// that ended or was thawed meanwhile needs nothing more.
func (e *Engine) unpauseSignalled(st State) error {
	err := e.setPaused(st.ID, false)
	if errors.Is(err, ErrNotPaused) || errors.Is(err, ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// freezeTimeout bounds the wait for the kernel to freeze every task: one
// in an uninterruptible sleep (a hung network file system, say) cannot be
// frozen, and a pause then fails, leaving the container thawed, rather
// than hang.
const freezeTimeout = 5 * time.Second

// freezer is the file that freezes a cgroup: v1's freezer.state, or
// cgroup v2's cgroup.freeze.
type freezer struct {
	dir string
	v1  bool
}

// freezer is where c is frozen: its v2 cgroup, its v1 freezer cgroup, or
// on a hybrid host without one, its cgroup in the empty cgroup2.
func (c Cgroup) freezer() (freezer, error) {
	if c.Unified {
		return freezer{dir: c.Dirs[0]}, nil
	}
	if d, ok := c.v1Dir("freezer"); ok {
		return freezer{dir: d, v1: true}, nil
	}
	if c.BPF != "" {
		return freezer{dir: c.BPF}, nil
	}
	return freezer{}, fmt.Errorf("cgroup %v: %w", c.Dirs, ErrNoFreezer)
}

// freeze freezes c and waits until every task of it is frozen; when that
// does not come in freezeTimeout, it thaws c again.
func (c Cgroup) freeze() error {
	f, err := c.freezer()
	if err != nil {
		return err
	}
	if err := f.set(true); err != nil {
		return errors.Join(err, f.set(false))
	}
	return nil
}

// thaw thaws c. A cgroup already removed (its container ended) has
// nothing frozen.
func (c Cgroup) thaw() error {
	f, err := c.freezer()
	if err != nil {
		return err
	}
	if _, err := os.Stat(f.dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return f.set(false)
}

// frozen reports whether the kernel has c frozen, every task of it.
func (c Cgroup) frozen() (bool, error) {
	f, err := c.freezer()
	if err != nil {
		return false, err
	}
	return f.is(true)
}

// set asks for frozen and waits until the kernel reports it: writing
// FROZEN (v1) or 1 (v2) only starts freezing, task by task, as each
// comes to a point where it can stop (freezer-subsystem.rst, and
// cgroup-v2.rst's cgroup.freeze); v1 reports FREEZING meanwhile, v2 keeps
// "frozen 0" in cgroup.events.
func (f freezer) set(frozen bool) error {
	op, file, value := "thaw", filepath.Join(f.dir, "cgroup.freeze"), "0"
	switch {
	case f.v1 && frozen:
		op, file, value = "freeze", filepath.Join(f.dir, "freezer.state"), "FROZEN"
	case f.v1:
		file, value = filepath.Join(f.dir, "freezer.state"), "THAWED"
	case frozen:
		op, value = "freeze", "1"
	}
	if err := writeCgroupFile(file, value); err != nil {
		return err
	}
	deadline := time.Now().Add(freezeTimeout)
	retry := time.Now().Add(freezeRetry)
	for delay := 50 * time.Microsecond; ; delay = min(2*delay, 10*time.Millisecond) {
		done, err := f.is(frozen)
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s cgroup %s: not done after %s", op, f.dir, freezeTimeout)
		}
		// v1 can stay FREEZING for good: a parent in vfork(2) waits for
		// a child frozen first, and cannot stop while it waits. Thawing
		// lets the child exec and the parent go on; frozen again, the
		// two usually stop together. runc's v1 freezer does the same.
		if f.v1 && frozen && time.Now().After(retry) {
			if err := writeCgroupFile(file, "THAWED"); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
			if err := writeCgroupFile(file, value); err != nil {
				return err
			}
			retry = time.Now().Add(freezeRetry)
		}
		time.Sleep(delay)
	}
}

// freezeRetry is how long a v1 freeze may stay FREEZING before it is
// thawed and asked again.
const freezeRetry = 100 * time.Millisecond

// is reports whether the kernel has the cgroup frozen (or, for frozen
// false, thawed: v1 has FREEZING between the two, which is neither).
func (f freezer) is(frozen bool) (bool, error) {
	file, want := filepath.Join(f.dir, "cgroup.events"), "frozen 0"
	if frozen {
		want = "frozen 1"
	}
	if f.v1 {
		file, want = filepath.Join(f.dir, "freezer.state"), "THAWED"
		if frozen {
			want = "FROZEN"
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", file, unwrapPath(err))
	}
	return slices.Contains(strings.Split(string(b), "\n"), want), nil
}
