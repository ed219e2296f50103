package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestOpenImageOnStart: a UI started on an image opens its view once the
// images are read, once only.
func TestOpenImageOnStart(t *testing.T) {
	fi := &fakeImages{}
	src := Sources{Images: fi, Mounts: fakeMounts{}, NoRun: "read-only"}
	m := New(src, Options{Dark: true, OpenImage: true})
	m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	next, cmd := m.Update(loadImages(src.Images)())
	m = runQuick(t, next.(Model), cmd)
	if m.detail == nil || m.detail.kind != kindImage || !m.detail.loaded {
		t.Fatalf("the image's view is not open: %+v", m.detail)
	}
	if m.images[0].ID != m.detail.id {
		t.Errorf("opened %s, want the first image %s", m.detail.id, m.images[0].ID)
	}
	m = press(t, m, "esc")
	m = send(t, m, loadImages(src.Images)())
	if m.detail != nil {
		t.Error("the image's view opened again on the next list")
	}
}
