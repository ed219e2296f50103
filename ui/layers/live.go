package layers

import (
	tea "charm.land/bubbletea/v2"

	"minidocker/overlay"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// EventsMsg is a batch of changes seen in the upper directory. Each node's
// Kind says what happened (overlay.Event's kinds); Ch is the stream to wait
// on for the next batch.
type EventsMsg struct {
	Nodes []tree.Node
	Ch    <-chan []tree.Node
}

// EventsClosedMsg says the change stream ended.
type EventsClosedMsg struct{}

// flashEndMsg ends the highlight of the batch numbered gen.
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
// rebuilding either, then flattens each pane once.
func (m *Model) apply(evs []tree.Node) {
	if !m.Container() {
		return
	}
	up := len(m.stack.Layers)
	// Rows point at their nodes: only a path added or removed, or an
	// option that depends on kind or size, needs the rows flattened again.
	all := len(m.opts.Hide) > 0 || m.opts.ChangedOnly || m.opts.SortBySize
	upChanged, mergedChanged := all, all
	set := func(t *tree.Tree, n tree.Node) {
		if t.Set(n) {
			upChanged = upChanged || t == m.stack.Upper
			mergedChanged = mergedChanged || t == m.stack.Merged
		}
	}
	for _, ev := range evs {
		p := tree.Clean(ev.Path)
		ev.Path = p
		m.flash[p] = true
		m.last = theme.Marker(ev.Kind) + " " + safe(p)
		low, inLower := m.stack.Lower.Lookup(p)
		switch ev.Kind {
		case overlay.Removed: // gone from upper: the lower entry shows again
			upChanged = m.stack.Upper.Remove(p) || upChanged
			if inLower {
				set(m.stack.Merged, low)
			} else {
				mergedChanged = m.stack.Merged.Remove(p) || mergedChanged
			}
			continue
		case overlay.Whiteout:
			ev.Whiteout = true
			mergedChanged = m.stack.Merged.Remove(p) || mergedChanged
		case overlay.Opaque:
			ev.Opaque = true
			for _, c := range m.stack.Merged.Children(p) {
				if c.Layer != up {
					mergedChanged = m.stack.Merged.Remove(c.Path) || mergedChanged
				}
			}
		case overlay.Added, overlay.Modified, overlay.MetadataOnly:
			ev.Kind = provenance(ev, low, inLower)
		}
		ev.Layer = up
		ev.Shadows = nil
		if inLower {
			ev.Shadows = []int{low.Layer}
		}
		set(m.stack.Upper, ev)
		if !ev.Whiteout {
			mv := ev
			if !inLower && !ev.Opaque {
				mv.Kind = overlay.Added
			}
			set(m.stack.Merged, mv)
		}
	}
	if upChanged {
		m.panes[upperPane].refresh(m.opts)
	}
	if mergedChanged {
		m.panes[mergedPane].refresh(m.opts)
	}
}

// provenance says what an entry written to upper is against the lower
// layers: new when they do not hold it, else copied up, modified (other
// type or size) or changed in metadata only.
func provenance(ev, low tree.Node, inLower bool) overlay.DiffKind {
	switch {
	case !inLower:
		return overlay.Added
	case ev.Mode.Type() != low.Mode.Type() || ev.Mode.IsRegular() && ev.Size != low.Size || ev.Link != low.Link:
		return overlay.Modified
	case ev.Kind == overlay.Modified:
		return overlay.Modified
	case ev.Mode.Perm() != low.Mode.Perm() || ev.UID != low.UID || ev.GID != low.GID || ev.Kind == overlay.MetadataOnly:
		return overlay.MetadataOnly
	}
	return overlay.CopiedUp
}
