package overlay

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// How the watcher reads directories: whole when it first sees them, and
// again, by name or whole, when inotify may have missed something.

// scan watches directory p and records everything beneath it; with events
// set, it reports what is new as it goes.
func (w *watcher) scan(p string, events *[]Event) error {
	full := w.root
	if p != "" {
		full += "/" + p
	}
	if _, ok := w.dirs[p]; !ok {
		wd, err := unix.InotifyAddWatch(w.fd, full, watchMask)
		if err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				return nil
			}
			return fmt.Errorf("inotify_add_watch %q: %w", human.Visible(full), err)
		}
		w.wds[wd] = p
		w.dirs[p] = wd
	}
	if p == "" {
		if s, ok, err := w.stat(""); err == nil && ok {
			w.state[""] = s
		}
	}
	return w.rescanDir(p, events, true, true)
}

// rescanDir compares the entries of directory p with what was last seen;
// with deep set it also scans subdirectories not yet watched. With whole
// unset only the names are compared, and an entry already known is
// stat'ed again only when its type changed.
func (w *watcher) rescanDir(p string, events *[]Event, deep, whole bool) error {
	full := w.root
	if p != "" {
		full += "/" + p
	}
	fd, err := unix.Open(full, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return nil
		}
		return err
	}
	known := w.kids[p]
	var look []string // the names to stat
	found := 0        // the known names listed
	key := w.key[:0]
	err = readDirents(fd, w.buf, func(name string, typ byte) {
		if known[name] {
			found++
			if !whole {
				key = appendRel(key[:0], p, name)
				if sameType(w.state[string(key)], typ) {
					return
				}
			}
		}
		look = append(look, name)
	})
	w.key = key
	unix.Close(fd)
	if err != nil {
		return err
	}
	if found < len(known) {
		w.removeUnlisted(p, full, events)
	}
	for _, name := range look {
		if err := w.rescanEntry(joinRel(p, name), events, deep); err != nil {
			return err
		}
	}
	return nil
}

// appendRel appends the path of name in directory rel to b, as joinRel
// makes it, for a map lookup that allocates nothing.
func appendRel(b []byte, rel, name string) []byte {
	if rel != "" {
		b = append(append(b, rel...), '/')
	}
	return append(b, name...)
}

// sameType reports whether a d_type agrees with what was last seen.
func sameType(s fstate, typ byte) bool {
	return typ == unix.DT_UNKNOWN || uint32(typ)<<12 == s.mode&unix.S_IFMT
}

// removeUnlisted forgets and reports the entries of directory p (at full)
// it no longer lists.
func (w *watcher) removeUnlisted(p, full string, events *[]Event) {
	fd, err := unix.Open(full, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	now := map[string]bool{}
	err = readDirents(fd, w.buf, func(name string, _ byte) { now[name] = true })
	unix.Close(fd)
	if err != nil {
		return
	}
	for name := range w.kids[p] {
		if !now[name] {
			c := joinRel(p, name)
			w.forget(c)
			if events != nil {
				*events = append(*events, Event{Path: "/" + c, Kind: Removed})
			}
		}
	}
}

// rescanEntry compares entry c with what was last seen, as rescanDir does.
func (w *watcher) rescanEntry(c string, events *[]Event, deep bool) error {
	cur, exists, err := w.stat(c)
	if err != nil || !exists {
		return nil
	}
	old, had := w.state[c]
	if had && old.isDir() && (!cur.isDir() || becameOpaque(old, cur)) {
		w.forget(c)
		had = false
	}
	w.note(c, cur)
	if k, ok := changeKind(old, had, cur); ok && events != nil {
		*events = append(*events, Event{Path: "/" + c, Kind: k, Size: sizeOf(cur)})
	}
	if cur.isDir() && deep {
		if _, watched := w.dirs[c]; !watched {
			return w.scan(c, events)
		}
	}
	return nil
}

// rescanBusy stat's whole the directories that had events and then none
// for watchSettle rescans, and every watchListEvery rescans lists again
// those that had events since the last listing: a directory changing all
// the time is read in full once it is quiet (a busy process's every pause
// would otherwise cost a full read), and meanwhile only its names are
// compared.
func (w *watcher) rescanBusy() {
	w.ticks++
	for dir := range w.busy {
		w.quiet[dir] = -1
	}
	clear(w.busy)
	list := w.ticks%watchListEvery == 0
	for dir, n := range w.quiet {
		n++ // rescans it has been quiet for
		switch {
		case n >= watchSettle:
			delete(w.quiet, dir)
			w.rescanLogged(dir, true)
			continue
		case list && n < watchListEvery:
			w.rescanLogged(dir, false)
		}
		w.quiet[dir] = n
	}
}

// rescanLogged rescans directory dir, reporting an error as an event.
func (w *watcher) rescanLogged(dir string, whole bool) {
	if err := w.rescanDir(dir, &w.pending, true, whole); err != nil {
		w.pending = append(w.pending, Event{Path: "/" + dir, Err: err})
	}
}

// rescanAll rescans every watched directory, after lost events.
func (w *watcher) rescanAll() {
	dirs := make([]string, 0, len(w.dirs))
	for d := range w.dirs {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		if _, ok := w.dirs[d]; ok {
			w.rescanLogged(d, true)
		}
	}
}
