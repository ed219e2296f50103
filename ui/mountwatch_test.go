package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// watchedMounts is fakeMounts that tells of changes on ch.
type watchedMounts struct {
	fakeMounts
	ch chan struct{}
}

func (w watchedMounts) WatchMounts(ctx context.Context) (<-chan struct{}, error) { return w.ch, nil }

// TestMountsFollowChanges: a change told by the source lists the mounts
// again and waits for the next; a source that cannot watch starts nothing.
func TestMountsFollowChanges(t *testing.T) {
	if watchMounts(fakeMounts{}) != nil {
		t.Error("a watch started on a source that cannot watch")
	}
	m, _, _ := newTest(t, 120, 40, true)
	ch := make(chan struct{}, 1)
	m.src.Mounts = watchedMounts{ch: ch}
	m, wait, _ := m.mountWatch(watchMounts(m.src.Mounts)())
	ch <- struct{}{}
	msg, ok := wait().(mountsChangedMsg)
	if !ok {
		t.Fatal("a change was not told")
	}
	m = send(t, m, mountsMsg{}) // the mount is gone from the list
	m, cmd, _ := m.mountWatch(msg)
	if cmd == nil {
		t.Fatal("a change neither lists the mounts again nor waits for the next")
	}
	m = runQuick(t, m, cmd) // lists them again (the fake's one mount)
	if len(m.mounts) != 1 {
		t.Errorf("after a change: %d mounts listed, want 1", len(m.mounts))
	}
	close(ch)
	if got := waitMounts(ch)(); got != nil {
		t.Errorf("after the watch ended: %#v, want nothing", got)
	}
}

// TestMountGone opens a mount's view, then the mount goes away: the title
// and the status say so, once.
func TestMountGone(t *testing.T) {
	m, _, _ := newTest(t, 120, 40, true)
	m = press(t, m, "3", "enter")
	if m.detail == nil || m.detail.kind != kindMount {
		t.Fatal("the mount's view did not open")
	}
	m = send(t, m, mountsMsg{items: m.mounts}) // still there
	if strings.HasPrefix(m.detail.title, goneMark) {
		t.Fatal("a mount still listed is marked gone")
	}
	m = send(t, m, mountsMsg{})
	if !strings.HasPrefix(m.detail.title, goneMark) || !strings.Contains(m.status, "is gone") {
		t.Errorf("title %q, status %q: want the mount said gone", m.detail.title, m.status)
	}
	if v := ansi.Strip(m.render()); !strings.Contains(v, "GONE") {
		t.Errorf("the screen does not say the mount is gone:\n%s", v)
	}
	title := m.detail.title
	m = send(t, m, mountsMsg{})
	if m.detail.title != title {
		t.Errorf("marked twice: %q", m.detail.title)
	}
}

func TestMountItem(t *testing.T) {
	for _, tc := range []struct {
		mt   Mount
		want string
		tail bool
	}{
		{Mount{Point: "/m", Lower: []string{"/a", "/b"}, Upper: "/u"}, "2 lower rw /m", true},
		{Mount{Point: "/proc/7/root", Lower: []string{"/a"}, Owner: "podman container web (alpine:3)"}, "podman container web (alpine:3) · 1 lower ro", false},
		{Mount{Point: "/m", Owner: "process evil\x1b[31m (pid 9)"}, `process evil\x1b[31m (pid 9) · 0 lower ro`, false},
	} {
		it := mountItem(tc.mt)
		if it.Text != tc.want || it.Tail != tc.tail || it.ID != tc.mt.Point {
			t.Errorf("mountItem(%+v) = %+v, want text %q tail %v", tc.mt, it, tc.want, tc.tail)
		}
	}
}
