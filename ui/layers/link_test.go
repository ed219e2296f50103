package layers_test

import (
	"io/fs"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/layers"
	"minidocker/ui/tree"
)

// press sends keys to the view.
func press(m layers.Model, keys ...string) layers.Model {
	for _, k := range keys {
		m, _ = m.Update(uitest.Key(k))
	}
	return m
}

// focus tabs to the named pane.
func focus(t testing.TB, m layers.Model, pane string) layers.Model {
	t.Helper()
	for range 3 {
		if m.SelectedPane() == pane {
			return m
		}
		m = press(m, "tab")
	}
	t.Fatalf("no pane %q", pane)
	return m
}

// selectPath moves the focused pane's cursor down to p.
func selectPath(t testing.TB, m layers.Model, p string) layers.Model {
	t.Helper()
	m = press(m, "g")
	for range m.Rows() {
		if n, ok := m.Selected(); ok && n.Path == p {
			return m
		}
		m = press(m, "j")
	}
	t.Fatalf("the %s pane has no row %s", m.SelectedPane(), p)
	return m
}

func selected(m layers.Model) string {
	n, _ := m.Selected()
	return n.Path
}

// TestLinkedCursor selects a path in one pane and checks that the others
// select it, or the nearest ancestor they hold, saying which path they
// lack; switching panes keeps the path.
func TestLinkedCursor(t *testing.T) {
	tests := []struct {
		name, from, path string
		// want is the path each pane selects, lower, upper and merged;
		// gap the panes whose title says they hold no such path.
		want [3]string
		gap  []string
	}{
		{name: "in every pane", from: "upper", path: "/etc/hosts", want: [3]string{"/etc/hosts", "/etc/hosts", "/etc/hosts"}},
		{name: "new: the lower parent", from: "upper", path: "/usr/share/doc/NEW",
			want: [3]string{"/usr/share/doc", "/usr/share/doc/NEW", "/usr/share/doc/NEW"}, gap: []string{"lower"}},
		{name: "deleted: gone from merged", from: "upper", path: "/bin/ls",
			want: [3]string{"/bin/ls", "/bin/ls", "/bin"}, gap: []string{"merged"}},
		{name: "unchanged: the upper parent", from: "merged", path: "/etc/passwd",
			want: [3]string{"/etc/passwd", "/etc", "/etc/passwd"}, gap: []string{"upper"}},
		{name: "from lower", from: "lower", path: "/usr/share/doc/README",
			want: [3]string{"/usr/share/doc/README", "/usr/share/doc", "/usr/share/doc"}, gap: []string{"upper", "merged"}},
	}
	panes := []string{"lower", "upper", "merged"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := view(t, uitest.Stack(), 200, 60)
			m = selectPath(t, focus(t, m, tt.from), tt.path)
			for _, order := range [][]string{panes, {"merged", "upper", "lower"}} {
				for _, p := range order {
					m = focus(t, m, p)
					if got, want := selected(m), tt.want[indexOf(panes, p)]; got != want {
						t.Errorf("%s pane selects %s, want %s", p, got, want)
					}
				}
			}
			title := strings.Split(ansi.Strip(m.View()), "\n")[1]
			for _, p := range panes {
				note := p + " · no " + tt.path
				if want := contains(tt.gap, p); strings.Contains(title, note) != want {
					t.Errorf("title %q: %q shown %v, want %v", title, note, !want, want)
				}
			}
			// Back in the pane the path was chosen in, it is still chosen.
			if got := selected(focus(t, m, tt.from)); got != tt.path {
				t.Errorf("back in %s: %s selected, want %s", tt.from, got, tt.path)
			}
		})
	}
}

// TestLinkedCursorNoAncestor checks a path no row of a pane leads to: the
// pane draws no cursor until it has the keys, and the linked path stays
// for the others.
func TestLinkedCursorNoAncestor(t *testing.T) {
	m, _ := view(t, uitest.Stack(), 120, 40)
	m = selectPath(t, focus(t, m, "upper"), "/root/.ash_history")
	m = focus(t, m, "lower")
	if got := selected(m); got != "/tmp" {
		t.Errorf("lower selects %s, want /tmp, where /root would be", got)
	}
	if !strings.Contains(ansi.Strip(m.View()), "lower · no /root/.ash_history") {
		t.Error("the lower pane does not say it holds no /root/.ash_history")
	}
	if got := selected(focus(t, m, "merged")); got != "/root/.ash_history" {
		t.Errorf("merged selects %s after passing through lower", got)
	}
	m = press(focus(t, m, "lower"), "k") // a move in lower links the others to it
	if got := selected(focus(t, m, "merged")); got != "/etc/passwd" {
		t.Errorf("merged selects %s after k in lower, want /etc/passwd", got)
	}
}

// TestLinkedCursorClick checks that a click selects in the pane clicked,
// and that the others follow.
func TestLinkedCursorClick(t *testing.T) {
	m, _ := view(t, uitest.Stack(), 120, 40)
	m, _ = m.Update(tea.MouseClickMsg{X: 5, Y: 4, Button: tea.MouseLeft}) // the lower pane's third row
	if m.SelectedPane() != "lower" || selected(m) != "/bin" {
		t.Fatalf("the click selects %s in %s, want /bin in lower", selected(m), m.SelectedPane())
	}
	for _, p := range []string{"upper", "merged"} {
		if got := selected(focus(t, m, p)); got != "/bin" {
			t.Errorf("%s selects %s, want /bin", p, got)
		}
	}
}

// TestLinkedCursorUnfolds checks that a pane opens the folded directories
// above the linked path, and that rows made again by a toggle keep it.
func TestLinkedCursorUnfolds(t *testing.T) {
	m, _ := view(t, uitest.Stack(), 120, 40)
	m = selectPath(t, focus(t, m, "lower"), "/etc")
	m = press(m, "space") // fold /etc in lower
	m = selectPath(t, focus(t, m, "merged"), "/etc/passwd")
	if got := selected(focus(t, m, "lower")); got != "/etc/passwd" {
		t.Errorf("lower selects %s, want /etc/passwd (its /etc opened)", got)
	}
	m = press(m, "ctrl+u") // hide what is unmodified: /etc/passwd in lower
	if got := selected(m); got != "/etc" {
		t.Errorf("lower selects %s with unmodified hidden, want /etc", got)
	}
	m = press(m, "ctrl+u")
	if got := selected(m); got != "/etc/passwd" {
		t.Errorf("lower selects %s once unmodified shows again, want /etc/passwd", got)
	}
}

// TestLinkedCursorLive checks that changes in the container neither move
// the cursor off its path nor move its row on the screen; that a path
// removed leaves the cursor on its parent, and that it comes back with it.
func TestLinkedCursorLive(t *testing.T) {
	s := uitest.Stack()
	for i := range 60 {
		s.Merged.Set(tree.Node{Path: "/var/f" + string(rune('a'+i/26)) + string(rune('a'+i%26)), Mode: 0o644, Layer: 0})
	}
	m, _ := view(t, s, 80, 24)
	m = selectPath(t, focus(t, m, "merged"), "/var/fbz")
	line := cursorLine(t, m)
	m, _ = m.Update(layers.EventsMsg{Nodes: []tree.Node{
		{Path: "/app/aaa", Kind: overlay.Added, Mode: 0o644, Size: 1},
		{Path: "/etc/aaa", Kind: overlay.Added, Mode: 0o644, Size: 1},
	}})
	if got := selected(m); got != "/var/fbz" {
		t.Fatalf("after two files made above it, merged selects %s", got)
	}
	if got := cursorLine(t, m); got != line {
		t.Errorf("the cursor's row moved from line %d to %d", line, got)
	}
	m = selectPath(t, m, "/app/aaa")
	m, _ = m.Update(layers.EventsMsg{Nodes: []tree.Node{{Path: "/app/aaa", Kind: overlay.Removed}}})
	if got := selected(m); got != "/app" {
		t.Errorf("with /app/aaa removed, merged selects %s, want /app", got)
	}
	m, _ = m.Update(layers.EventsMsg{Nodes: []tree.Node{{Path: "/app/aaa", Kind: overlay.Added, Mode: fs.FileMode(0o644)}}})
	if got := selected(m); got != "/app/aaa" {
		t.Errorf("with /app/aaa made again, merged selects %s", got)
	}
}

// cursorLine is the screen line of the focused pane's cursor: the line
// with the selected style's background.
func cursorLine(t *testing.T, m layers.Model) int {
	t.Helper()
	n, _ := m.Selected()
	for i, l := range strings.Split(ansi.Strip(m.View()), "\n") {
		cells := strings.Split(l, "│")
		if len(cells) > 5 && strings.Contains(cells[5], " "+n.Name()+" ") {
			return i
		}
	}
	t.Fatalf("%s is not on screen", n.Path)
	return -1
}

// TestImageLayersKeepThePath checks that stepping through an image's
// layers keeps the selected path where a layer holds it.
func TestImageLayersKeepThePath(t *testing.T) {
	m, _ := view(t, uitest.ImageStack(), 120, 40)
	// The cursor on a row past the end of the layer's tree: a layer shown
	// once read the old tree's record in the new one.
	_ = press(m, "G", "a", "<").View()
	m = selectPath(t, m, "/etc/passwd")
	// all layers still, layer 0 merged, 0 alone, 1 alone, 0 alone
	for _, k := range []string{">", "<", "a", ">", "<"} {
		m = press(m, k)
		if got := selected(m); got != "/etc/passwd" {
			t.Errorf("after %s the pane selects %s", k, got)
		}
	}
	m = selectPath(t, m, "/etc/hosts") // in layer 0
	m = press(m, ">")                  // layer 1 holds /etc, no /etc/hosts
	if got := selected(m); got != "/etc" {
		t.Errorf("layer 1 selects %s, want /etc", got)
	}
	if got := selected(press(m, "<")); got != "/etc/hosts" {
		t.Errorf("layer 0 again selects %s, want /etc/hosts", got)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func contains(s []string, v string) bool { return indexOf(s, v) >= 0 }

// TestLinkedCursorLiveAtTop checks that a pane at the top stays at the
// top when a file is made above its cursor: the new entry is seen, and
// the cursor keeps its path, one line lower.
func TestLinkedCursorLiveAtTop(t *testing.T) {
	s := uitest.Stack()
	for i := range 60 {
		s.Merged.Set(tree.Node{Path: "/var/f" + string(rune('a'+i/26)) + string(rune('a'+i%26)), Mode: 0o644, Layer: 0})
	}
	m, _ := view(t, s, 80, 24)
	m = press(focus(t, m, "merged"), "g", "j")
	want := selected(m)
	line := cursorLine(t, m)
	m, _ = m.Update(layers.EventsMsg{Nodes: []tree.Node{{Path: "/0new", Kind: overlay.Added, Mode: 0o644, Size: 1}}})
	if got := selected(m); got != want {
		t.Fatalf("after a file made above it, merged selects %s, want %s", got, want)
	}
	if got := cursorLine(t, m); got != line+1 {
		t.Errorf("the cursor's row is on line %d, want %d (one lower)", got, line+1)
	}
	if !strings.Contains(ansi.Strip(m.View()), "0new") {
		t.Errorf("the new file above the cursor is not on screen:\n%s", ansi.Strip(m.View()))
	}
}
