package ui

import (
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/ui/internal/uitest"
)

// newPresenter returns the UI over the fakes in presenter mode, sized
// w×h and loaded.
func newPresenter(t *testing.T, w, h int) (Model, *fakeContainers, *fakeImages) {
	t.Helper()
	fc, fi := &fakeContainers{}, &fakeImages{}
	src := Sources{Images: fi, ImageManager: fi, Mounts: fakeMounts{}}
	src.SetContainers(fc)
	m := New(src, Options{Dark: true, Presenter: true})
	m = send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = send(t, m, loadImages(src.Images)())
	m = send(t, m, loadContainers(src.ContainerList)())
	m = send(t, m, loadMounts(src.Mounts)())
	return m, fc, fi
}

func TestPresenterGolden(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		keys []string
	}{
		{"presenter_home_80x24", 80, 24, nil},
		{"presenter_container_80x24", 80, 24, []string{"2", "enter"}},
		{"presenter_container_120x40", 120, 40, []string{"2", "enter"}},
		{"presenter_refused_80x24", 80, 24, []string{"2", "D"}},
		{"presenter_help_80x24", 80, 24, []string{"?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newPresenter(t, tt.w, tt.h)
			m = press(t, m, tt.keys...)
			uitest.Golden(t, tt.name, m.render())
			checkScreen(t, m.render(), tt.w, tt.h)
		})
	}
	m, _, _ := newPresenter(t, 80, 24)
	m = press(t, m, "2", "enter", "tab", "j", "tab", "j", "j")
	uitest.Golden(t, "presenter_container_80x24.ansi", m.render())
}

// checkScreen checks a screen is exactly w×h cells.
func checkScreen(t *testing.T, screen string, w, h int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Errorf("line %d is %d wide, want %d: %q", i, got, w, ansi.Strip(l))
		}
	}
}

// TestPresenterRefuses checks presenter mode refuses every key that stops,
// removes or prunes, with a one-line note and nothing done, while the keys
// that make or show things still work.
func TestPresenterRefuses(t *testing.T) {
	tests := []struct {
		name, note string
		keys       []string
	}{
		{"remove at home", "D remove is off (presenter)", []string{"2", "D", "y"}},
		{"stop at home", "S stop is off (presenter)", []string{"2", "S", "y"}},
		{"prune", "P prune is off (presenter)", []string{"P", "y"}},
		{"remove in the container view", "D remove is off (presenter)", []string{"2", "enter", "D", "y"}},
		{"stop in the shell tab", "S stop is off (presenter)", []string{"2", "enter", "2", "S", "y"}},
		{"kill at home", "K kill is off (presenter)", []string{"2", "K", "y"}},
		{"restart at home", "r restart is off (presenter)", []string{"2", "r"}},
		{"kill in the logs", "K kill is off (presenter)", []string{"2", "enter", "3", "K", "y"}},
		{"restart in the stats", "r restart is off (presenter)", []string{"2", "enter", "4", "r"}},
		{"remove an image", "D remove is off (presenter)", []string{"D", "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fc, _ := newPresenter(t, 120, 40)
			m = press(t, m, tt.keys...)
			if m.detail != nil {
				defer m.detail.close()
			}
			if len(fc.calls) > 0 {
				t.Errorf("presenter mode let through %q", fc.calls)
			}
			if m.dialog.Active() {
				t.Error("a confirmation dialog opened")
			}
			if head := ansi.Strip(strings.SplitN(m.render(), "\n", 2)[0]); !strings.Contains(head, tt.note) {
				t.Errorf("no note %q on the first line: %q", tt.note, head)
			}
		})
	}
	m, fc, _ := newPresenter(t, 120, 40)
	press(t, m, "2", "s")
	if len(fc.calls) != 1 || fc.calls[0] != "start c0ffee0123456789" {
		t.Errorf("start in presenter mode: calls %q", fc.calls)
	}
	// The palette does not offer what is off.
	m, _, _ = newPresenter(t, 120, 40)
	m = press(t, m, "2")
	for _, b := range m.paletteActions() {
		if d := b.Help().Desc; d == "kill" || d == "restart" || d == "stop" || d == "remove" {
			t.Errorf("the palette offers %q in presenter mode", d)
		}
	}
	// r on an image runs it: only a container's restart is off.
	m, _, _ = newPresenter(t, 120, 40)
	if m = press(t, m, "r"); !m.dialog.Active() || !strings.Contains(ansi.Strip(m.dialog.View()), "Run a container") {
		t.Errorf("r on an image in presenter mode: status %q", m.status)
	}
	// Tag and save make things: they stay on.
	m, _, fi := newPresenter(t, 120, 40)
	press(t, m, "W", "enter")
	if len(fi.calls) != 1 || !strings.HasPrefix(fi.calls[0], "save ") {
		t.Errorf("save in presenter mode: calls %q", fi.calls)
	}
}

// TestFooterGolden checks the footer of each screen at 80 and 120
// columns: whatever is cut, "? help" and "q quit" are always there.
func TestFooterGolden(t *testing.T) {
	screens := []struct {
		name string
		keys []string
	}{
		{"home", nil},
		{"containers", []string{"2"}},
		{"image", []string{"enter"}},
		{"container", []string{"2", "enter"}},
		{"shell", []string{"2", "enter", "2", "ctrl+g"}},
		{"shell focused", []string{"2", "enter", "2"}},
		{"logs", []string{"2", "enter", "3"}},
	}
	for _, w := range []int{80, 120} {
		var got strings.Builder
		for _, sc := range screens {
			m, fc, _ := newTest(t, w, 24, false)
			fc.pty = newFakePty("# ")
			m = press(t, m, sc.keys...)
			if m.detail != nil {
				m.detail.close()
			}
			lines := strings.Split(m.render(), "\n")
			footer := ansi.Strip(lines[len(lines)-1])
			if !strings.Contains(footer, "? help") || !strings.Contains(footer, "q quit") {
				t.Errorf("%d columns, %s: the footer lacks ? or q: %q", w, sc.name, footer)
			}
			if n := ansi.StringWidth(lines[len(lines)-1]); n != w {
				t.Errorf("%d columns, %s: the footer is %d wide", w, sc.name, n)
			}
			got.WriteString(sc.name + ":\n" + footer + "\n")
		}
		uitest.Golden(t, "footer_"+strconv.Itoa(w), got.String())
	}
}

// TestHelpLegendGolden checks the help overlay shows the legend: on its
// own page at 80×24 (tab turns to it), beside the keys at 120×40.
func TestHelpLegendGolden(t *testing.T) {
	m, _, _ := newTest(t, 80, 24, false)
	m = press(t, m, "?", "tab")
	uitest.Golden(t, "help_legend_80x24", m.render())
	for _, want := range []string{"W whiteout", "O opaque", "^ copied up", "m metadata", "- removed", "+ added", "~ modified", "yellow"} {
		if !strings.Contains(ansi.Strip(m.render()), want) {
			t.Errorf("the legend page lacks %q", want)
		}
	}
	m = press(t, m, "tab")
	if strings.Contains(ansi.Strip(m.render()), "W whiteout") {
		t.Error("tab did not turn back to the keys")
	}
	m, _, _ = newTest(t, 120, 40, false)
	m = press(t, m, "?")
	if !strings.Contains(ansi.Strip(m.render()), "W whiteout") {
		t.Error("at 120×40 the help lacks the legend")
	}
}

// TestStrayKeyHint checks that a letter typed at the tree beside the
// shell, meant for the shell, says where the keys go instead of being
// lost, and that the tree's own keys do not.
func TestStrayKeyHint(t *testing.T) {
	m, fc, _ := newTest(t, 120, 40, false)
	p := newFakePty("# ")
	fc.pty = p
	m = press(t, m, "2", "enter", "2", "ctrl+g")
	defer m.detail.close()
	m = press(t, m, "j")
	if strings.Contains(m.status, "keys go to the tree") {
		t.Errorf("j, a tree key, gave the hint: %q", m.status)
	}
	m = press(t, m, "w")
	if want := "keys go to the tree; ctrl+g to type in the shell"; m.status != want {
		t.Errorf("status %q after a stray w, want %q", m.status, want)
	}
	if got := p.Typed("w"); strings.Contains(got, "w") {
		t.Errorf("the stray key reached the shell: %q", got)
	}
}
