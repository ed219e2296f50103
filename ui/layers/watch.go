package layers

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"syscall"

	"minidocker/overlay"
	"minidocker/ui/tree"
)

// WatchUpper follows the upper directory upper over the lower layer
// directories lower (bottom first) until ctx ends, and sends each batch of
// changes as the nodes EventsMsg takes: each entry read again from the
// upper directory and compared with the lower layers as ReadStack would.
// The channel is closed when ctx ends.
func WatchUpper(ctx context.Context, upper string, lower []string) (<-chan []tree.Node, error) {
	evs, err := overlay.Watch(ctx, upper)
	if err != nil {
		return nil, err
	}
	lower = slices.Clone(lower)
	names := lowerNames{dirs: lower, names: map[string]map[string]bool{}}
	out := make(chan []tree.Node, 1)
	go func() {
		defer close(out)
		for batch := range evs {
			select {
			case out <- changedNodes(upper, &names, batch):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// changedNodes reads the paths of a batch of events, parents first. A
// change inside a directory changes the directory's own modification
// time, which the watcher does not report: the parent of each path is
// read again too.
func changedNodes(upper string, lower *lowerNames, batch []overlay.Event) []tree.Node {
	kinds := map[string]overlay.DiffKind{}
	for _, ev := range batch {
		if ev.Err != nil {
			continue
		}
		p := tree.Clean(ev.Path)
		kinds[p] = ev.Kind
		if d := path.Dir(p); d != "/" {
			if _, ok := kinds[d]; !ok {
				kinds[d] = overlay.Unmodified // read again, not changed itself
			}
		}
	}
	paths := slices.Sorted(maps.Keys(kinds))
	nodes := make([]tree.Node, 0, len(paths))
	for _, p := range paths {
		var below []string // nil: the lower layers hold nothing there to compare with
		if lower.mayHold(p) {
			below = lower.dirs
		}
		c, ok, err := overlay.ChangeAt(upper, below, p)
		switch {
		case err != nil:
			continue
		case !ok:
			if kinds[p] != overlay.Unmodified {
				nodes = append(nodes, tree.Node{Path: p, Kind: overlay.Removed})
			}
			continue
		}
		n := c.Node
		tn := tree.Node{Path: p, Mode: n.Mode, UID: n.UID, GID: n.GID, Size: n.Size, Link: n.Link,
			Kind: c.Kind, Whiteout: n.Whiteout, Opaque: n.Opaque}
		if n.Whiteout {
			tn.Kind = overlay.Whiteout
		}
		nodes = append(nodes, tn)
	}
	return nodes
}

// lowerNames knows which names the lower layer directories hold in the
// directories where changes happen, read once each: the lower layers do not
// change while a container runs, and most paths a busy container changes
// (a package install, a build's temporary files) are new, so that asking
// the lower layers about each would cost a stat(2) per layer for nothing.
type lowerNames struct {
	dirs []string // the lower layer directories, bottom first
	// names maps a directory to the names any lower layer holds in it;
	// nil when one could not be read.
	names map[string]map[string]bool
}

// mayHold reports whether some lower layer may hold an entry at path p;
// false means none does, so none shows one there.
func (l *lowerNames) mayHold(p string) bool {
	if len(l.dirs) == 0 {
		return false
	}
	dir, name := path.Split(p)
	set, ok := l.names[dir]
	if !ok {
		set = l.read(dir)
		l.names[dir] = set
	}
	return set == nil || set[name]
}

// read lists directory dir in each lower layer; nil when one could not be
// read for another reason than its absence.
func (l *lowerNames) read(dir string) map[string]bool {
	set := map[string]bool{}
	for _, d := range l.dirs {
		// OpenInRoot keeps a layer's symlinks inside it; a path through a
		// symlink shows nothing below anyway (ChangeAt stops there).
		f, err := os.OpenInRoot(d, "."+dir)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			continue
		}
		if err != nil {
			return nil
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			return nil
		}
		for _, n := range names {
			set[n] = true
		}
	}
	return set
}
