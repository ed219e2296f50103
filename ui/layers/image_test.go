package layers_test

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/layers"
)

// TestImageGolden draws an image's view as dive users know it, at both
// sizes: the layer list focused, the wasted list focused, a regular
// expression on the path that finds a removed entry, and a bad one.
func TestImageGolden(t *testing.T) {
	tests := []struct {
		name    string
		presses []string
	}{
		// tab gives the keys to the layer list; k selects layer 0, shown
		// merged, the tree as of that layer.
		{name: "image_layers_focused", presses: []string{"tab", "k"}},
		// a: the layer alone.
		{name: "image_layer_alone_focused", presses: []string{"tab", "k", "a"}},
		{name: "image_wasted", presses: []string{"tab", "tab", "j"}},
		// The whiteout layer 1 made is a row of the merged tree too.
		{name: "image_filter_removed", presses: append(typed("/", `^/(tmp|etc)/[cp]a`), "enter")},
		{name: "image_filter_bad", presses: typed("/", "etc", "(")},
	}
	for _, tt := range tests {
		for _, sz := range [][2]int{{120, 40}, {80, 24}} {
			name := tt.name + "_" + map[int]string{120: "120x40", 80: "80x24"}[sz[0]]
			t.Run(name, func(t *testing.T) {
				_, got := view(t, uitest.ImageStack(), sz[0], sz[1], tt.presses...)
				uitest.Golden(t, name, got)
			})
		}
	}
}

// typed is the key presses that type each string, a rune at a time.
func typed(ss ...string) []string {
	var out []string
	for _, s := range ss {
		for _, r := range s {
			out = append(out, string(r))
		}
	}
	return out
}

// TestImageFocus checks that tab moves the keys from the tree to the layer
// list, the wasted list and back, shift+tab the other way, and that j and
// k on the layer list select a layer, which the tree then shows.
func TestImageFocus(t *testing.T) {
	m, _ := view(t, uitest.ImageStack(), 120, 40)
	var got []string
	for range 4 {
		got = append(got, m.SelectedPane())
		m = press(m, "tab")
	}
	for range 3 {
		m = press(m, "shift+tab")
		got = append(got, m.SelectedPane())
	}
	want := "lower layers wasted lower lower wasted layers"
	if strings.Join(got, " ") != want {
		t.Errorf("tab and shift+tab go %v, want %s", got, want)
	}

	m, _ = view(t, uitest.ImageStack(), 120, 40, "tab", "k") // layer 0, merged
	if title := paneTitle(m); title != "layers 0–0 merged" || m.Layer() != -1 {
		t.Errorf("k on the layer list shows %q (Layer %d)", title, m.Layer())
	}
	m = press(m, "a", "j") // layer 1 alone
	if title := paneTitle(m); title != "layer 1 of 2" || m.Layer() != 1 {
		t.Errorf("a then j shows %q (Layer %d)", title, m.Layer())
	}
	m = press(m, "down", "down") // stays on the top layer
	if m.Layer() != 1 {
		t.Errorf("down past the top layer selects layer %d", m.Layer())
	}
	m = press(m, "up")
	if m.Layer() != 0 {
		t.Errorf("up selects layer %d, want 0", m.Layer())
	}
	// The tree keeps its keys for itself: j on the layer list did not
	// move its cursor.
	if n, _ := m.Selected(); n.Path != "/bin" {
		t.Errorf("the tree's cursor moved to %s", n.Path)
	}
	// enter on the layer list gives the keys back to the tree.
	if m = press(m, "enter"); m.SelectedPane() != "lower" {
		t.Errorf("enter on the layer list leaves the keys to %s", m.SelectedPane())
	}
}

// TestContainerTab checks that tab still cycles a container's three panes,
// and only them.
func TestContainerTab(t *testing.T) {
	m, _ := view(t, uitest.Stack(), 120, 40)
	var got []string
	for range 4 {
		got = append(got, m.SelectedPane())
		m = press(m, "tab")
	}
	if want := "merged lower upper merged"; strings.Join(got, " ") != want {
		t.Errorf("tab goes %v, want %s", got, want)
	}
}

// TestWastedJump checks that enter on a wasted path shows it in the tree,
// in the layer that stores the copy nobody sees, in the mode the tree was
// in.
func TestWastedJump(t *testing.T) {
	tests := []struct {
		name    string
		presses []string
		path    string
		title   string
	}{
		{"merged", []string{"tab", "tab", "j", "enter"}, "/etc/passwd", "layers 0–0 merged"},
		{"alone", []string{"a", "tab", "tab", "j", "enter"}, "/etc/passwd", "layer 0 of 2"},
		{"first row", []string{"tab", "tab", "enter"}, "/tmp/cache", "layers 0–0 merged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := view(t, uitest.ImageStack(), 120, 40, tt.presses...)
			n, ok := m.Selected()
			if !ok || n.Path != tt.path || n.Layer != 0 {
				t.Errorf("the tree selects %+v, want %s of layer 0", n, tt.path)
			}
			if got := paneTitle(m); got != tt.title {
				t.Errorf("the tree shows %q, want %q", got, tt.title)
			}
			if m.SelectedPane() != "lower" {
				t.Errorf("the keys are with %s, not the tree", m.SelectedPane())
			}
		})
	}
}

// TestBadRegex checks that a filter that does not compile says why in one
// line and leaves the last good filter in place, also once enter closes
// the line.
func TestBadRegex(t *testing.T) {
	m, _ := view(t, uitest.ImageStack(), 120, 40, typed("/", "pass")...)
	rows := m.Rows()
	m = press(m, typed("(")...)
	header := strings.Split(ansi.Strip(m.View()), "\n")[0]
	if !strings.Contains(header, `regex "pass(": missing closing )`) {
		t.Errorf("no error on the header line: %q", header)
	}
	if m.Rows() != rows {
		t.Errorf("a bad regex changed the rows: %d, were %d", m.Rows(), rows)
	}
	m = press(m, "enter")
	if m.Filtering() || !m.HasFilter() || m.Rows() != rows {
		t.Errorf("enter on a bad regex: filtering %v, filter %v, %d rows", m.Filtering(), m.HasFilter(), m.Rows())
	}
	if header := strings.Split(ansi.Strip(m.View()), "\n")[0]; !strings.Contains(header, "filter (regex on path): pass ") {
		t.Errorf("the line does not show the filter in use: %q", header)
	}
	m = press(m, "/", "backspace", "backspace", "backspace", "backspace", "e", "t", "c", "/")
	if header := strings.Split(ansi.Strip(m.View()), "\n")[0]; strings.Contains(header, "regex") && strings.Contains(header, "missing") {
		t.Errorf("the error stays after a good regex: %q", header)
	}
	if n := m.Rows(); n != 4 { // etc/ and its 3 entries
		t.Errorf("filter etc/ shows %d rows, want 4", n)
	}
}

// paneTitle is the title of the tree pane of an image's view, without
// the notes after it.
func paneTitle(m layers.Model) string {
	first := strings.Split(ansi.Strip(m.View()), "\n")[1]
	_, right, _ := strings.Cut(first, "╮╭─ ")
	title, _, _ := strings.Cut(right, " ─")
	title, _, _ = strings.Cut(title, " · ")
	return title
}

// TestImageClicks checks that a click on the layer list selects that
// layer and gives the list the keys, one on the wasted list its path, and
// one on the tree the tree.
func TestImageClicks(t *testing.T) {
	m, _ := view(t, uitest.ImageStack(), 120, 40)
	click := func(x, y int) {
		m, _ = m.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	}
	click(5, 2) // the first layer row: line 0 is the header, 1 the box's top
	if m.SelectedPane() != "layers" || paneTitle(m) != "layers 0–0 merged" {
		t.Errorf("a click on layer 0: keys with %s, tree %q", m.SelectedPane(), paneTitle(m))
	}
	// The wasted box starts below the layer list (2 rows) and the details
	// (3 lines): its top at line 1+4+5, then two summary lines, then the
	// paths.
	click(5, 14)
	if m.SelectedPane() != "wasted" {
		t.Fatalf("a click on the wasted list gives the keys to %s", m.SelectedPane())
	}
	m = press(m, "enter")
	if n, _ := m.Selected(); n.Path != "/etc/passwd" {
		t.Errorf("enter after a click on the second wasted path selects %s", n.Path)
	}
	click(60, 3)
	if m.SelectedPane() != "lower" {
		t.Errorf("a click on the tree gives the keys to %s", m.SelectedPane())
	}
}

// TestWastedScrolls checks that a wasted list longer than its box scrolls
// with its cursor and says where it is.
func TestWastedScrolls(t *testing.T) {
	s := uitest.ImageStack()
	s.Efficiency.Files = nil
	for i := range 50 {
		s.Efficiency.Files = append(s.Efficiency.Files, overlay.WastedFile{Path: fmt.Sprintf("/w/f%02d", i), Copies: 2, Wasted: int64(1000 - i)})
	}
	_, got := view(t, s, 80, 24, append([]string{"tab", "tab"}, strings.Split(strings.Repeat("j", 30), "")...)...)
	got = ansi.Strip(got)
	if !strings.Contains(got, "wasted space 31/50") || !strings.Contains(got, "▶×2    970B /w/f30") {
		t.Errorf("the wasted list does not follow its cursor:\n%s", got)
	}
	if strings.Contains(got, "/w/f00") {
		t.Errorf("the first path is still on screen:\n%s", got)
	}
}
