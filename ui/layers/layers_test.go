package layers_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

func view(t *testing.T, s layers.Stack, w, h int, presses ...string) (layers.Model, string) {
	t.Helper()
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(w, h)
	for _, k := range presses {
		m, _ = m.Update(uitest.Key(k))
	}
	return m, m.View()
}

func TestViewGolden(t *testing.T) {
	tests := []struct {
		name    string
		image   bool
		w, h    int
		presses []string
	}{
		{name: "container_120x40", w: 120, h: 40},
		{name: "container_80x24", w: 80, h: 24},
		{name: "container_200x60", w: 200, h: 60},
		// tab from merged to lower, then upper; the whiteout is the 2nd row.
		{name: "whiteout_details", w: 120, h: 40, presses: []string{"tab", "tab", "j"}},
		{name: "opaque_details", w: 120, h: 40, presses: []string{"tab", "tab", "j", "j", "j", "j", "j", "j", "j", "j"}},
		{name: "evil_name", w: 120, h: 40, presses: []string{"j", "j", "j", "j", "j", "j"}},
		{name: "filter", w: 120, h: 40, presses: []string{"/", "p", "a", "s", "enter"}},
		{name: "changed_only", w: 120, h: 40, presses: []string{"c"}},
		{name: "hide_unmodified_sort_size", w: 120, h: 40, presses: []string{"ctrl+u", "o"}},
		{name: "folded", w: 80, h: 24, presses: []string{"space"}},
		{name: "lower_layer_1", w: 120, h: 40, presses: []string{"a"}},
		{name: "image_120x40", image: true, w: 120, h: 40},
		{name: "image_80x24", image: true, w: 80, h: 24},
		{name: "image_layer_1", image: true, w: 120, h: 40, presses: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := uitest.Stack()
			if tt.image {
				s = uitest.ImageStack()
			}
			_, got := view(t, s, tt.w, tt.h, tt.presses...)
			uitest.Golden(t, tt.name, got)
		})
	}
}

func TestViewGoldenANSI(t *testing.T) {
	_, got := view(t, uitest.Stack(), 80, 24)
	uitest.Golden(t, "container_80x24.ansi", got)
}

// TestViewSize checks that every line of the view is exactly as wide as
// the view, so a resize leaves no garbage.
func TestViewSize(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {120, 40}, {200, 60}, {61, 17}} {
		m, _ := view(t, uitest.Stack(), 200, 60)
		m = m.SetSize(sz[0], sz[1])
		lines := strings.Split(m.View(), "\n")
		if len(lines) != sz[1] {
			t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w != sz[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", sz[0], sz[1], i, w, ansi.Strip(l))
			}
		}
	}
}

// TestEvilNameIsVisible checks that an escape sequence in a name is shown
// as text and never reaches the terminal.
func TestEvilNameIsVisible(t *testing.T) {
	_, got := view(t, uitest.Stack(), 120, 40, "j", "j", "j", "j", "j", "j")
	if strings.Contains(got, uitest.EvilName) || strings.Contains(got, "\x07") {
		t.Fatal("the raw name reached the output")
	}
	if !strings.Contains(ansi.Strip(got), `\x1b[31mred\a`) {
		t.Errorf("the name is not shown escaped:\n%s", ansi.Strip(got))
	}
}

func TestEventsChangeTreesAndFlash(t *testing.T) {
	s := uitest.Stack()
	m, _ := view(t, s, 120, 40)
	ch := make(chan []tree.Node, 1)
	m, cmd := m.Update(layers.EventsMsg{Ch: ch, Nodes: []tree.Node{
		{Path: "/app", Kind: overlay.CopiedUp, Mode: fs.ModeDir | 0o755},
		{Path: "/app/main.py", Kind: overlay.CopiedUp, Mode: 0o644, Size: 2500},
		{Path: "/etc/hosts", Kind: overlay.Modified, Mode: 0o644, Size: 999},
		{Path: "/etc/passwd", Kind: overlay.Whiteout},
		{Path: "/srv", Kind: overlay.Added, Mode: fs.ModeDir | 0o755},
		{Path: "/srv/new", Kind: overlay.Added, Mode: 0o644, Size: 1},
	}})
	if cmd == nil {
		t.Fatal("no command to re-arm the stream and end the flash")
	}
	if _, ok := s.Merged.Lookup("/etc/passwd"); ok {
		t.Error("merged still shows the deleted /etc/passwd")
	}
	if n, ok := s.Upper.Lookup("/etc/passwd"); !ok || !n.Whiteout {
		t.Errorf("upper has no whiteout for /etc/passwd: %+v", n)
	}
	if n, _ := s.Merged.Lookup("/app/main.py"); n.Kind != overlay.CopiedUp || n.Layer != 2 {
		t.Errorf("/app/main.py in merged: kind %v layer %d, want copied-up from upper", n.Kind, n.Layer)
	}
	if n, _ := s.Merged.Lookup("/etc/hosts"); n.Kind != overlay.Modified {
		t.Errorf("/etc/hosts in merged: kind %v, want modified (its size changed)", n.Kind)
	}
	if n, _ := s.Merged.Lookup("/srv/new"); n.Kind != overlay.Added {
		t.Errorf("/srv/new in merged: kind %v, want added", n.Kind)
	}
	uitest.Golden(t, "events_flash.ansi", m.View())
}

func TestGoldenUpdateWrites(t *testing.T) {
	dir, upd := uitest.Dir, *uitest.Update
	t.Cleanup(func() { uitest.Dir, *uitest.Update = dir, upd })
	uitest.Dir, *uitest.Update = t.TempDir(), true
	uitest.Golden(t, "probe", "hello")
	b, err := os.ReadFile(filepath.Join(uitest.Dir, "probe.golden"))
	if err != nil || string(b) != "hello" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
}

// TestLayerKeys checks dive's two modes: < and > select the layer below
// or above, a shows the selected layer alone or merged with the layers
// below it; from the start, all of them merged.
func TestLayerKeys(t *testing.T) {
	tests := []struct {
		name    string
		image   bool
		presses []string
		want    string
	}{
		{name: "< from all merges the layers below the top", image: true, presses: []string{"<"}, want: "layers 0–0 merged"},
		{name: "> from all stays", image: true, presses: []string{">"}, want: "all layers"},
		{name: "a shows the top layer alone", image: true, presses: []string{"a"}, want: "layer 1 of 2"},
		{name: "a then <", image: true, presses: []string{"a", "<"}, want: "layer 0 of 2"},
		{name: "< past the bottom stays", image: true, presses: []string{"a", "<", "<"}, want: "layer 0 of 2"},
		{name: "a twice is all again", image: true, presses: []string{"a", "a"}, want: "all layers"},
		{name: ", and . too", image: true, presses: []string{"a", ",", ",", "."}, want: "layer 1 of 2"},
		{name: "layer list j and k", image: true, presses: []string{"tab", "k"}, want: "layers 0–0 merged"},
		{name: "layer list k then a", image: true, presses: []string{"tab", "k", "a", "j"}, want: "layer 1 of 2"},
		{name: "container: < from all", presses: []string{"<"}, want: "lower layers 0–0"},
		{name: "container: a", presses: []string{"a"}, want: "layer 1 of 2"},
		{name: "container: a then <", presses: []string{"a", "<"}, want: "layer 0 of 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := uitest.Stack()
			if tt.image {
				s = uitest.ImageStack()
			}
			_, got := view(t, s, 120, 40, tt.presses...)
			if !strings.Contains(ansi.Strip(got), "╭─ "+tt.want) {
				t.Errorf("after %v the lower pane is not %q:\n%s", tt.presses, tt.want, ansi.Strip(got))
			}
		})
	}
}

// TestEventsOpaqueDropsStaleEntries checks that a directory made again
// (rm -rf /bin; mkdir /bin: opaque) keeps nothing the upper directory held
// beneath it before, such as a whiteout, and that the upper pane then lists
// what the lower layers held there as removed, as a fresh read does.
func TestEventsOpaqueDropsStaleEntries(t *testing.T) {
	s := uitest.Stack()
	m, _ := view(t, s, 120, 40)
	m, _ = m.Update(layers.EventsMsg{Nodes: []tree.Node{
		{Path: "/bin", Kind: overlay.MetadataOnly, Mode: fs.ModeDir | 0o755, Opaque: true},
	}})
	_ = m
	got := map[string]string{}
	s.Upper.WalkAt("/bin", func(n tree.Node) { got[n.Path] = n.Kind.String() + fmt.Sprintf(" whiteout=%v", n.Whiteout) })
	want := map[string]string{
		"/bin":    "opaque whiteout=false",
		"/bin/ls": "removed whiteout=false",
		"/bin/sh": "removed whiteout=false",
		"/bin/vi": "removed whiteout=false",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("upper /bin (-want +got):\n%s", diff)
	}
	var merged []string
	s.Merged.WalkAt("/bin", func(n tree.Node) { merged = append(merged, n.Path) })
	if diff := cmp.Diff([]string{"/bin"}, merged); diff != "" {
		t.Errorf("merged /bin (-want +got):\n%s", diff)
	}
}
