package layers_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// TestLegendToggle checks the legend under the panes names every marker,
// and that its key hides it, giving its line back to the panes.
func TestLegendToggle(t *testing.T) {
	m, got := view(t, uitest.Stack(), 120, 40)
	plain := ansi.Strip(got)
	for _, e := range theme.Legend() {
		if e.Kind == overlay.Unmodified {
			continue
		}
		if !strings.Contains(plain, e.Marker+" "+e.Name) {
			t.Errorf("the legend lacks %q:\n%s", e.Marker+" "+e.Name, plain)
		}
	}
	rows := strings.Count(plain, "│\n")
	m, _ = m.Update(uitest.Key("m"))
	hidden := ansi.Strip(m.View())
	if strings.Contains(hidden, "W whiteout") {
		t.Errorf("m did not hide the legend:\n%s", hidden)
	}
	if got := strings.Count(hidden, "│\n"); got != rows+1 {
		t.Errorf("without the legend the panes have %d rows, want %d", got, rows+1)
	}
	m, _ = m.Update(uitest.Key("m"))
	if !strings.Contains(ansi.Strip(m.View()), "W whiteout") {
		t.Error("m did not show the legend again")
	}
}

// TestLegendNarrow checks the legend fits every width, wrapping when it
// must, each line exactly the view's width.
func TestLegendNarrow(t *testing.T) {
	for _, w := range []int{40, 60, 72, 80, 120} {
		m, _ := view(t, uitest.Stack(), w, 30)
		lines := strings.Split(m.View(), "\n")
		if len(lines) != 30 {
			t.Errorf("%d wide: %d lines", w, len(lines))
		}
		legend := ""
		for _, l := range lines {
			if got := ansi.StringWidth(l); got != w {
				t.Errorf("%d wide: line %q is %d wide", w, ansi.Strip(l), got)
			}
			if strings.Contains(l, "~ modified") || strings.Contains(l, "O opaque") {
				legend += ansi.Strip(l)
			}
		}
		for _, want := range []string{"+ added", "W whiteout", "O opaque"} {
			if !strings.Contains(legend, want) {
				t.Errorf("%d wide: the legend lacks %q: %q", w, want, legend)
			}
		}
	}
}

// TestLastIsMarkedAsTheTree checks the upper pane's "last" note marks a
// path as the trees do: a whiteout over a lower file is W there and in the
// tree (it was "last W" over a "-" row), an opaque directory O in both
// panes.
func TestLastIsMarkedAsTheTree(t *testing.T) {
	tests := []struct {
		name string
		ev   tree.Node
		want string
	}{
		{"whiteout over a lower file", tree.Node{Path: "/etc/passwd", Kind: overlay.Whiteout}, "last W /etc/passwd"},
		{"opaque dir", tree.Node{Path: "/bin", Kind: overlay.MetadataOnly, Mode: fs.ModeDir | 0o755, Opaque: true}, "last O /bin"},
		{"copied up", tree.Node{Path: "/etc/hosts", Kind: overlay.Modified, Mode: 0o644, Size: 5}, "last ~ /etc/hosts"},
		{"gone from upper", tree.Node{Path: "/root/.ash_history", Kind: overlay.Removed}, "last gone /root/.ash_history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := uitest.Stack()
			m, _ := view(t, s, 160, 40)
			m, _ = m.Update(layers.EventsMsg{Nodes: []tree.Node{tt.ev}})
			got := ansi.Strip(m.View())
			if !strings.Contains(got, tt.want) {
				t.Errorf("the upper pane's title lacks %q:\n%s", tt.want, got)
			}
			up, inUpper := s.Upper.Lookup(tt.ev.Path)
			if inUpper && !strings.HasPrefix(strings.TrimPrefix(tt.want, "last "), theme.Marker(up.Mark())) {
				t.Errorf("the note says %q, the upper tree marks %s", tt.want, theme.Marker(up.Mark()))
			}
			if mg, ok := s.Merged.Lookup(tt.ev.Path); ok && inUpper && mg.Mark() != up.Mark() {
				t.Errorf("%s is %v in upper, %v in merged", tt.ev.Path, up.Mark(), mg.Mark())
			}
		})
	}
}

// TestMarkersAgreeAcrossPanes reads a real upper directory in overlayfs's
// form (whiteouts as 0:0 devices, an opaque directory by its xattr) and
// checks that every path the upper and merged panes both show carries the
// same marker in both.
func TestMarkersAgreeAcrossPanes(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	l0, up := filepath.Join(dir, "l0"), filepath.Join(dir, "up")
	for _, p := range []string{"etc/hosts", "etc/passwd", "bin/sh", "usr/share/doc/README", "var/lib/x"} {
		write(t, filepath.Join(l0, p), p)
	}
	write(t, filepath.Join(up, "etc/hosts"), "changed")
	must(t, os.MkdirAll(filepath.Join(up, "bin"), 0o755))
	must(t, unix.Mknod(filepath.Join(up, "bin/sh"), unix.S_IFCHR, 0))
	must(t, os.MkdirAll(filepath.Join(up, "usr"), 0o755))
	must(t, unix.Setxattr(filepath.Join(up, "usr"), "trusted.overlay.opaque", []byte("y"), 0))
	write(t, filepath.Join(up, "usr/new"), "new")
	must(t, os.Chmod(filepath.Join(up, "usr"), 0o700))
	s, err := layers.ReadStack([]string{l0}, up, []string{"l0"})
	must(t, err)
	seen := map[overlay.DiffKind]bool{}
	s.Upper.Walk(func(u tree.Node) {
		seen[u.Mark()] = true
		if mg, ok := s.Merged.Lookup(u.Path); ok && u.Path != "/" && mg.Mark() != u.Mark() {
			t.Errorf("%s: %s %v in upper, %s %v in merged", u.Path, theme.Marker(u.Mark()), u.Mark(), theme.Marker(mg.Mark()), mg.Mark())
		}
	})
	for _, k := range []overlay.DiffKind{overlay.Whiteout, overlay.Opaque, overlay.Modified} {
		if !seen[k] {
			t.Errorf("the upper pane shows no %v: the test does not test it", k)
		}
	}
}

// TestUnfocusedCursorGolden draws the three panes with the cursor moved
// in each, the merged pane focused: the other two cursors must still show
// (they were colour 236 on black), and with the view inactive (a shell has
// the keys) no title is drawn as focused.
func TestUnfocusedCursorGolden(t *testing.T) {
	th := theme.New(true, false)
	m := layers.New(th, keys.Default(), uitest.Stack()).SetSize(80, 24)
	for _, k := range []string{"tab", "j", "tab", "j", "j", "j", "tab", "j"} {
		m, _ = m.Update(uitest.Key(k))
	}
	got := m.View()
	uitest.Golden(t, "unfocused_cursor.ansi", got)
	blur := ansi.Strip(th.SelectedBlur.Render("x"))
	if blur == th.SelectedBlur.Render("x") || th.SelectedBlur.GetBackground() == th.Selected.GetBackground() {
		t.Fatal("the unfocused cursor has no style of its own")
	}
	focusedTitle := th.TitleFocus.Render(" merged ")
	if !strings.Contains(got, focusedTitle) {
		t.Error("the focused pane's title is not drawn as focused")
	}
	if inactive := m.SetActive(false).View(); strings.Contains(inactive, focusedTitle) {
		t.Error("an inactive view still draws a focused pane")
	}
}
