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
	w, err := newWatcher(upperDir)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", upperDir, err)
	}
	raw := make(chan []rawEvent)
	out := make(chan []Event, 1)
	go w.read(ctx, raw)
	go w.loop(ctx, raw, out)
	return out, nil
}

// newWatcher watches and scans upperDir; its reader closes the inotify fd.
func newWatcher(upperDir string) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
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
		return nil, err
	}
	return w, nil
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
