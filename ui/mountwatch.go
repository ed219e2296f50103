package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/panel"
)

// The Host mounts panel follows the host: a source that is a MountWatcher
// tells of each change, and the panel lists the mounts again. A mount
// whose view is open and that goes away is said to be gone, in the title
// and on the status line, instead of showing an upper directory that no
// longer changes.
type (
	// mountWatchMsg is the watch started, or why not.
	mountWatchMsg struct {
		ch  <-chan struct{}
		err error
	}
	// mountsChangedMsg is one change told on ch.
	mountsChangedMsg struct{ ch <-chan struct{} }
)

// watchMounts starts the watch of s when it can watch; it lasts as long as
// the program.
func watchMounts(s MountSource) tea.Cmd {
	w, ok := s.(MountWatcher)
	if !ok {
		return nil
	}
	return func() tea.Msg {
		ch, err := w.WatchMounts(context.Background())
		return mountWatchMsg{ch, err}
	}
}

// waitMounts waits for the next change on ch; nothing once ch is closed.
func waitMounts(ch <-chan struct{}) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		if _, ok := <-ch; !ok {
			return nil
		}
		return mountsChangedMsg{ch}
	}
}

// mountWatch takes the watch's messages: a change lists the mounts again
// and waits for the next.
func (m Model) mountWatch(msg tea.Msg) (Model, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case mountWatchMsg:
		if msg.err != nil {
			m.setErr(fmt.Errorf("watch mounts: %w", msg.err))
			return m, nil, true
		}
		return m, waitMounts(msg.ch), true
	case mountsChangedMsg:
		return m, tea.Batch(loadMounts(m.src.Mounts), waitMounts(msg.ch)), true
	}
	return m, nil, false
}

// goneMark starts the title of a mount's view once the mount is gone.
const goneMark = "GONE "

// mountsGone marks the open mount's view when the new list no longer has
// the mount: the layers stay as they were read, the watch of its upper
// directory stops, and the title and status say that it was unmounted.
func (m Model) mountsGone(items []Mount) Model {
	d := m.detail
	if d == nil || d.kind != kindMount || strings.HasPrefix(d.title, goneMark) {
		return m
	}
	for _, mt := range items {
		if mt.Point == d.id {
			return m
		}
	}
	nd := *d
	nd.cancel()
	nd.watching = false
	nd.title = goneMark + nd.title + " (unmounted)"
	m.detail = &nd
	m.status = fmt.Sprintf("mount %s is gone: unmounted; the layers shown are as last read", human.Visible(d.id))
	return m
}

// mountItem is a mount as the Host mounts panel lists it: by its owner
// when one is known (the path of another namespace's mount,
// /proc/PID/root, says little), else by its path, whose end matters most.
func mountItem(mt Mount) panel.Item {
	rw := "ro"
	if mt.Upper != "" {
		rw = "rw"
	}
	if mt.Owner != "" {
		return panel.Item{ID: mt.Point, Text: fmt.Sprintf("%s · %d lower %s", human.Visible(mt.Owner), len(mt.Lower), rw)}
	}
	return panel.Item{ID: mt.Point, Text: fmt.Sprintf("%d lower %s %s", len(mt.Lower), rw, human.Visible(mt.Point)), Tail: true}
}

// layerText names lower layer i of mt by its short ID in its store and
// the short digest of its content, where known, before its directory.
func layerText(mt Mount, i int) string {
	var b strings.Builder
	if i < len(mt.Layers) && mt.Layers[i] != "" {
		b.WriteString(shortLayerID(mt.Layers[i]) + "  ")
	}
	if i < len(mt.DiffIDs) && mt.DiffIDs[i] != "" {
		b.WriteString("diff " + shortLayerID(mt.DiffIDs[i]) + "  ")
	}
	return b.String()
}

// shortLayerID is an ID or a digest cut to its first 12 hex digits.
func shortLayerID(id string) string {
	if _, hex, ok := strings.Cut(id, ":"); ok {
		id = hex
	}
	return id[:min(len(id), 12)]
}
