package overlay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// Event is one change seen in a watched upper directory, relative to what
// the directory held before (not to the lower layers: merge with them to
// tell a copy-up from a new file).
type Event struct {
	Path string // "/"-rooted, relative to the upper directory
	// Kind is Added (a new entry: created, copied up, or a whole copied-up
	// directory's entries), Modified (content, size or type changed),
	// MetadataOnly (mode or owner changed), Removed, Whiteout (a whiteout
	// appeared: a lower path was deleted), or Opaque (a directory became
	// opaque: a lower directory was removed and made again).
	Kind DiffKind
	Size int64 // size of a regular file after the change
	Err  error // a path that could not be read; Kind is then Unmodified
}

// How the watcher paces itself.
const (
	// watchBatchEvery is the least time between two batches: the first
	// change after a quiet spell is sent at once, and the changes of a
	// busy spell are gathered and each path read once per batch, so that
	// a thousand changes a second cost twenty reads of the tree, not a
	// thousand, and wait at most this long.
	watchBatchEvery  = 50 * time.Millisecond
	watchReadEvery   = 20 * time.Millisecond  // the least time between two reads of the events
	watchRescanEvery = 250 * time.Millisecond // rescan of directories that had events
	watchListEvery   = 4                      // rescans between listings of a busy directory
	watchSettle      = 4                      // quiet rescans before a directory is stat'ed whole
	watchPollTimeout = 100                    // ms; how often the reader checks for cancellation
	watchMask        = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
		unix.IN_ATTRIB | unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_ONLYDIR
)

// Watch watches upperDir, a container's upper directory, and sends batches
// of change events until ctx is done, then closes the channel.
//
// Inotify events are hints: the entries they name are stat'ed again and
// compared with what the watcher last saw, since overlayfs changes the
// upper directory in ways inotify reports partially (a copied-up directory
// arrives by rename already holding entries; a directory replaced by a
// whiteout yields moved-from and moved-to for the same name). A new
// directory is watched and scanned whole. A directory that had events is
// stat'ed whole once it has been quiet for a second, and while it stays
// busy its names are listed again every second, to catch an entry made or
// removed without an event; everything is rescanned when the kernel's
// event queue overflows. Batches hold one event per path, sorted by path:
// the first change after a quiet spell is sent at once, later ones at most
// every 50 ms, each path read once per batch however many events named it;
// while the receiver is slow, batches are merged rather than queued. Watch
// only reads: it never writes to the upper or lower directories.
func Watch(ctx context.Context, upperDir string) (<-chan []Event, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("watch %s: inotify_init1: %w", upperDir, err)
	}
	w := &watcher{
		root:  strings.TrimSuffix(upperDir, "/"),
		fd:    fd,
		wds:   map[int]string{},
		dirs:  map[string]int{},
		state: map[string]fstate{},
		kids:  map[string]map[string]bool{},
		dirty: map[string]bool{},
		busy:  map[string]bool{},
		quiet: map[string]int{},
		buf:   make([]byte, direntBufSize),
	}
	if err := w.scan("", nil); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch %s: %w", upperDir, err)
	}
	raw := make(chan []rawEvent)
	out := make(chan []Event, 1)
	go w.read(ctx, raw)
	go w.loop(ctx, raw, out)
	return out, nil
}

// fstate is what the watcher last saw of a path.
type fstate struct {
	mode   uint32
	uid    uint32
	gid    uint32
	size   int64
	mtime  int64
	rdev   uint64
	opaque bool
}

func (s fstate) isDir() bool      { return s.mode&unix.S_IFMT == unix.S_IFDIR }
func (s fstate) isWhiteout() bool { return s.mode&unix.S_IFMT == unix.S_IFCHR && s.rdev == 0 }

type rawEvent struct {
	wd   int
	mask uint32
	name string
}

type watcher struct {
	root    string
	fd      int
	wds     map[int]string             // watch descriptor -> directory ("" = root)
	dirs    map[string]int             // directory -> watch descriptor
	state   map[string]fstate          // path -> last seen
	kids    map[string]map[string]bool // directory -> names last seen in it
	dirty   map[string]bool            // paths named by events since the last batch
	busy    map[string]bool            // directories with events since the last rescan
	quiet   map[string]int             // directories busy before: the rescans they were quiet for
	buf     []byte                     // for getdents
	key     []byte                     // for looking paths up without allocating
	ticks   int                        // rescans so far
	pending []Event
	sent    time.Time // when the last batch went
}

// read forwards inotify events until ctx is done, then closes the fd.
func (w *watcher) read(ctx context.Context, raw chan<- []rawEvent) {
	defer unix.Close(w.fd)
	buf := make([]byte, 256<<10)
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
	for ctx.Err() == nil {
		n, err := unix.Poll(fds, watchPollTimeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if n <= 0 {
			continue
		}
		var evs []rawEvent
		for {
			n, err := unix.Read(w.fd, buf)
			if n <= 0 || err != nil {
				break
			}
			evs = parseInotify(buf[:n], evs)
		}
		if len(evs) == 0 {
			continue
		}
		select {
		case raw <- evs:
		case <-ctx.Done():
			return
		}
		// Let a busy spell's events gather in the kernel's queue rather
		// than waking for each: the first event after a quiet spell is
		// still read at once. A queue that overflows meanwhile is caught
		// by a full rescan.
		time.Sleep(watchReadEvery)
	}
}

// parseInotify decodes inotify_event records (inotify(7)).
func parseInotify(b []byte, evs []rawEvent) []rawEvent {
	for len(b) >= unix.SizeofInotifyEvent {
		e := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		end := unix.SizeofInotifyEvent + int(e.Len)
		if end > len(b) {
			break
		}
		name := string(b[unix.SizeofInotifyEvent:end])
		if i := strings.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		evs = append(evs, rawEvent{wd: int(e.Wd), mask: e.Mask, name: name})
		b = b[end:]
	}
	return evs
}

// loop turns raw events into batches and sends them, one per
// watchBatchEvery at most.
func (w *watcher) loop(ctx context.Context, raw <-chan []rawEvent, out chan<- []Event) {
	defer close(out)
	tick := time.NewTicker(watchRescanEvery)
	defer tick.Stop()
	pace := time.NewTimer(time.Hour)
	defer pace.Stop()
	for {
		var send chan<- []Event
		var wait <-chan time.Time
		if len(w.dirty) > 0 || len(w.pending) > 0 {
			if d := watchBatchEvery - time.Since(w.sent); d > 0 {
				pace.Reset(d)
				wait = pace.C
			} else if w.flush(); len(w.pending) > 0 {
				send = out
			}
		}
		select {
		case <-ctx.Done():
			return
		case evs := <-raw:
			w.handle(evs)
		case <-tick.C:
			w.flush() // what events named first: the rescan then finds it known
			w.rescanBusy()
		case <-wait:
		case send <- w.pending:
			w.pending, w.sent = nil, time.Now()
		}
	}
}

// handle notes what a read's events name, to be read again by flush.
func (w *watcher) handle(evs []rawEvent) {
	for _, e := range evs {
		if e.mask&unix.IN_Q_OVERFLOW != 0 {
			w.flush()
			w.rescanAll()
			continue
		}
		dir, ok := w.wds[e.wd]
		if !ok {
			continue
		}
		if e.mask&unix.IN_IGNORED != 0 {
			delete(w.wds, e.wd)
			if w.dirs[dir] == e.wd {
				delete(w.dirs, dir)
			}
			continue
		}
		w.busy[dir] = true
		if e.name != "" {
			w.dirty[joinRel(dir, e.name)] = true
		}
	}
}

// flush reads again each path events named since the last batch, parents
// first, and leaves one event per path in pending.
func (w *watcher) flush() {
	if len(w.dirty) > 0 {
		paths := make([]string, 0, len(w.dirty))
		for p := range w.dirty {
			paths = append(paths, p)
		}
		clear(w.dirty)
		slices.Sort(paths)
		for _, p := range paths {
			w.restat(p)
		}
	}
	w.pending = coalesce(w.pending)
}

// restat compares path p with what was last seen and records events.
func (w *watcher) restat(p string) {
	old, had := w.state[p]
	cur, exists, err := w.stat(p)
	switch {
	case err != nil:
		w.pending = append(w.pending, Event{Path: "/" + p, Err: err})
		return
	case !exists && !had:
		return
	case !exists:
		w.forget(p)
		w.pending = append(w.pending, Event{Path: "/" + p, Kind: Removed})
		return
	}
	if had && old.isDir() && (!cur.isDir() || becameOpaque(old, cur)) {
		// A directory made opaque is a new one: what it holds is
		// reported again.
		w.forget(p)
	}
	w.note(p, cur)
	if k, ok := changeKind(old, had, cur); ok {
		w.pending = append(w.pending, Event{Path: "/" + p, Kind: k, Size: sizeOf(cur)})
	}
	if cur.isDir() {
		if _, watched := w.dirs[p]; !watched || !had || !old.isDir() {
			if err := w.scan(p, &w.pending); err != nil {
				w.pending = append(w.pending, Event{Path: "/" + p, Err: err})
			}
		}
	}
}

// becameOpaque reports whether a directory was made opaque since old.
func becameOpaque(old, cur fstate) bool {
	return old.isDir() && cur.isDir() && cur.opaque && !old.opaque
}

// changeKind says how cur differs from old, if it does.
func changeKind(old fstate, had bool, cur fstate) (DiffKind, bool) {
	switch {
	case cur.isWhiteout():
		// Whiteouts share one inode (hardlinks of the work directory's
		// whiteout), so a new one changes the others' link count: no event.
		return Whiteout, !had || !old.isWhiteout()
	case !had || old.isWhiteout():
		if cur.isDir() && cur.opaque {
			return Opaque, true
		}
		return Added, true
	case old.mode&unix.S_IFMT != cur.mode&unix.S_IFMT:
		if cur.isDir() && cur.opaque {
			return Opaque, true
		}
		return Modified, true
	case cur.isDir() && cur.opaque && !old.opaque:
		return Opaque, true
	case !cur.isDir() && (old.size != cur.size || old.mtime != cur.mtime || old.rdev != cur.rdev):
		return Modified, true
	case old.mode != cur.mode || old.uid != cur.uid || old.gid != cur.gid:
		return MetadataOnly, true
	}
	return Unmodified, false
}

func sizeOf(s fstate) int64 {
	if s.mode&unix.S_IFMT == unix.S_IFREG {
		return s.size
	}
	return 0
}

// stat reads path p of the upper directory.
func (w *watcher) stat(p string) (fstate, bool, error) {
	full := w.root + "/" + p
	var st unix.Stat_t
	if err := unix.Lstat(full, &st); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return fstate{}, false, nil
		}
		return fstate{}, false, err
	}
	s := fstate{mode: st.Mode, uid: st.Uid, gid: st.Gid, size: st.Size, mtime: st.Mtim.Nano(), rdev: st.Rdev}
	if s.isDir() {
		var v [1]byte
		if n, err := unix.Lgetxattr(full, opaqueXattr, v[:]); err == nil && n == 1 && v[0] == 'y' {
			s.opaque = true
		}
	}
	return s, true, nil
}

// note records cur as the state of p and p as a child of its directory.
func (w *watcher) note(p string, cur fstate) {
	w.state[p] = cur
	dir, name := splitPath(p)
	k := w.kids[dir]
	if k == nil {
		k = map[string]bool{}
		w.kids[dir] = k
	}
	k[name] = true
}

// forget drops p and everything beneath it.
func (w *watcher) forget(p string) {
	delete(w.state, p)
	dir, name := splitPath(p)
	delete(w.kids[dir], name)
	for name := range w.kids[p] {
		w.forget(joinRel(p, name))
	}
	delete(w.kids, p)
	if wd, ok := w.dirs[p]; ok {
		unix.InotifyRmWatch(w.fd, uint32(wd))
		delete(w.dirs, p)
		delete(w.wds, wd)
	}
}

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
// with deep set it also scans subdirectories not yet watched. With full
// unset only the names are compared, and an entry already known is
// stat'ed again only when its type changed.
func (w *watcher) rescanDir(p string, events *[]Event, deep, full bool) error {
	full0 := w.root
	if p != "" {
		full0 += "/" + p
	}
	fd, err := unix.Open(full0, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
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
			if !full {
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
		w.removeUnlisted(p, full0, events)
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
func (w *watcher) rescanLogged(dir string, full bool) {
	if err := w.rescanDir(dir, &w.pending, true, full); err != nil {
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

// coalesce keeps one event per path, the last kind seen (a path added and
// then changed in one batch stays Added), sorted by path.
func coalesce(evs []Event) []Event {
	if len(evs) < 2 {
		return evs
	}
	last := map[string]int{}
	var out []Event
	for _, e := range evs {
		i, ok := last[e.Path]
		if !ok {
			last[e.Path] = len(out)
			out = append(out, e)
			continue
		}
		prev := out[i].Kind
		out[i] = e
		if prev == Added && e.Kind != Removed && e.Kind != Whiteout {
			out[i].Kind = Added
		}
	}
	slices.SortStableFunc(out, func(a, b Event) int { return strings.Compare(a.Path, b.Path) })
	return out
}
