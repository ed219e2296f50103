package layers

import (
	"io/fs"
	"path"

	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// EventsMsg is a batch of changes seen in the upper directory, one node
// per path. A node of Kind Removed says the path is gone from the upper
// directory; one of Kind Whiteout (or with Whiteout set), that a whiteout
// is there now. Any other node is the entry the upper directory holds now
// (Opaque set for an opaque directory, Size as stat(2) says), and its Kind
// says how that compares with what the lower layers show at the path:
// Added when they show nothing there, else CopiedUp, MetadataOnly or
// Modified, as overlay.ChangeAt says. Ch is the stream to wait on for the
// next batch.
type EventsMsg struct {
	Nodes []tree.Node
	Ch    <-chan []tree.Node
}

// EventsClosedMsg says the change stream ended.
type EventsClosedMsg struct{}

// flashEndMsg ends the flash epoch gen: entries lit before it go dark.
type flashEndMsg struct{ gen int }

// WaitEvents waits for the next batch on ch.
func WaitEvents(ch <-chan []tree.Node) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		nodes, ok := <-ch
		if !ok {
			return EventsClosedMsg{}
		}
		// Batch whatever else is already waiting into this frame.
		for {
			select {
			case more, ok := <-ch:
				if !ok {
					return EventsMsg{Nodes: nodes}
				}
				nodes = append(nodes, more...)
				continue
			default:
			}
			break
		}
		return EventsMsg{Nodes: nodes, Ch: ch}
	}
}

// apply changes the upper and merged trees by a batch of events, without
// rebuilding either, then flattens each pane once. The trees end as a
// fresh read of the upper directory would make them: the upper pane as
// overlay.Diff lists the changes, the merged pane as overlay.Merge shows
// the paths.
func (m *Model) apply(evs []tree.Node) {
	if !m.Container() {
		return
	}
	// Rows name their records: only a path added or removed, or an option
	// that depends on kind or size, needs the rows flattened again.
	all := len(m.opts.Hide) > 0 || m.opts.ChangedOnly || m.opts.SortBySize
	lv := live{lower: m.stack.Lower, upper: m.stack.Upper, merged: m.stack.Merged, top: len(m.stack.Layers),
		upChanged: all, mergedChanged: all}
	for _, ev := range evs {
		ev.Path = tree.Clean(ev.Path)
		if ev.Path == "/" {
			continue
		}
		m.flash[ev.Path] = m.flashGen
		m.last = theme.Marker(ev.Kind) + " " + human.Visible(ev.Path)
		switch {
		case ev.Kind == overlay.Removed:
			lv.removed(ev.Path)
		case ev.Kind == overlay.Whiteout || ev.Whiteout:
			lv.whiteout(ev)
		default:
			lv.entry(ev)
		}
	}
	if lv.upChanged {
		m.panes[upperPane].refresh(m.opts)
	}
	if lv.mergedChanged {
		m.panes[mergedPane].refresh(m.opts)
	}
}

// live applies events to the upper and merged trees of a container.
type live struct {
	lower, upper, merged     *tree.Tree
	top                      int // the upper directory's layer index
	upChanged, mergedChanged bool
}

func (l *live) setUpper(n tree.Node)  { l.upChanged = l.upper.Set(n) || l.upChanged }
func (l *live) setMerged(n tree.Node) { l.mergedChanged = l.merged.Set(n) || l.mergedChanged }
func (l *live) removeUpper(p string)  { l.upChanged = l.upper.Remove(p) || l.upChanged }
func (l *live) removeMerged(p string) { l.mergedChanged = l.merged.Remove(p) || l.mergedChanged }
func (l *live) removeMergedKids(p string) {
	l.mergedChanged = l.merged.RemoveChildren(p) || l.mergedChanged
}
func (l *live) removeUpperKids(p string) { l.upChanged = l.upper.RemoveChildren(p) || l.upChanged }

// hidden reports whether an opaque directory of the upper directory above
// p hides the lower layers there.
func (l *live) hidden(p string) bool {
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if n, ok := l.upper.Lookup(d); ok && n.Opaque {
			return true
		}
	}
	return false
}

// removed takes p out of the upper directory: the lower layers show
// there again, unless an opaque directory above hides them.
func (l *live) removed(p string) {
	l.removeUpper(p)
	l.removeMerged(p)
	low, ok := l.lower.Lookup(p)
	if !ok {
		return
	}
	if l.hidden(p) {
		// Diff lists what an opaque directory hides once, at the top.
		if parent, ok := l.upper.Lookup(path.Dir(p)); ok && parent.IsDir() && parent.Kind != overlay.Removed {
			l.setUpper(l.removedNode(p, low))
		}
		return
	}
	l.lower.WalkAt(p, func(n tree.Node) { l.setMerged(n) })
}

// removedNode is a lower entry hidden by the upper directory, as Diff
// lists it: once, at the top of what is hidden, with the size beneath.
func (l *live) removedNode(p string, low tree.Node) tree.Node {
	n := low
	n.Path, n.Kind, n.Layer, n.Shadows, n.Size = p, overlay.Removed, l.top, []int{low.Layer}, l.lowerSize(p)
	return n
}

// lowerSize is the bytes of regular-file content the lower layers show at
// and beneath p.
func (l *live) lowerSize(p string) int64 {
	var size int64
	l.lower.WalkAt(p, func(n tree.Node) {
		if n.Mode.IsRegular() {
			size += n.Size
		}
	})
	return size
}

// whiteout puts a whiteout at p: removed over what the lower layers show,
// a whiteout of nothing otherwise.
func (l *live) whiteout(ev tree.Node) {
	p := ev.Path
	n := ev
	n.Whiteout, n.Opaque, n.Layer, n.Kind, n.Size, n.Shadows = true, false, l.top, overlay.Whiteout, 0, nil
	if low, ok := l.lower.Lookup(p); ok {
		n.Kind, n.Size, n.Shadows = overlay.Removed, l.lowerSize(p), []int{low.Layer}
	}
	l.removeUpper(p)
	l.setUpper(n)
	l.removeMerged(p)
}

// entry puts what the upper directory holds at p in both trees.
func (l *live) entry(ev tree.Node) {
	p := ev.Path
	low, inLower := l.lower.Lookup(p)
	old, had := l.upper.Lookup(p)
	madeOpaque := ev.Opaque && (!had || !old.Opaque)
	fresh := !had || !old.IsDir() || !ev.IsDir() || madeOpaque
	kind := ev.Kind
	if kind == overlay.Opaque || kind == overlay.Removed || kind == overlay.Whiteout {
		kind = overlay.Added // not a comparison: the source did not say
	}
	if kind != overlay.Added && !inLower {
		kind = overlay.Added
	}
	up := ev
	up.Layer, up.Kind, up.Whiteout, up.Shadows, up.Size = l.top, kind, false, nil, storedSize(ev)
	if inLower {
		up.Shadows = []int{low.Layer}
		if ev.Opaque && low.IsDir() {
			up.Kind = overlay.Opaque
		}
	}
	// A directory made again (opaque) or a file in a directory's place:
	// what the upper tree held beneath the path is gone, and what it holds
	// now comes as events of its own.
	if fresh {
		l.removeUpperKids(p)
	}
	l.setUpper(up)
	// What the lower layers hold beneath the path is removed, for Diff.
	if inLower && low.IsDir() && (ev.Opaque || !ev.IsDir()) {
		for _, c := range l.lower.Children(p) {
			if _, ok := l.upper.Lookup(c.Path); !ok {
				l.setUpper(l.removedNode(c.Path, c))
			}
		}
	}
	mv := ev
	mv.Layer, mv.Kind, mv.Whiteout, mv.Shadows = l.top, kind, false, nil
	if inLower && !l.hidden(p) {
		mv.Shadows = append([]int{low.Layer}, low.Shadows...)
	} else {
		mv.Kind = overlay.Added
	}
	// A file hides what the lower layers hold beneath it, and so does a
	// directory made opaque; what upper holds there comes as events.
	if !ev.IsDir() || madeOpaque {
		l.removeMergedKids(p)
	}
	l.setMerged(mv)
}

// storedSize is the bytes the upper directory stores for a node, as Diff
// reports it: a regular file's size, a symlink's target length.
func storedSize(n tree.Node) int64 {
	if n.Mode.IsRegular() || n.Mode&fs.ModeSymlink != 0 {
		return n.Size
	}
	return 0
}
