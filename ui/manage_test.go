package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/ui/dialog"
	"minidocker/ui/internal/uitest"
)

// stateContainers are containers in each state the UI tells apart.
func stateContainers() []Container {
	return []Container{
		{ID: "c0ffee0123456789", ShortID: "c0ffee012345", Name: "web", Image: "base:latest", ImageID: "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90", Status: "running", Running: true, Created: t0},
		{ID: "dead00beef001122", ShortID: "dead00beef00", Name: "old", Image: "base:latest", Status: "exited", ExitCode: 3, Created: t0},
		{ID: "0000aaaa11112222", ShortID: "0000aaaa1111", Name: "hog", Image: "base:latest", Status: "exited", ExitCode: 137, OOMKilled: true, Created: t0},
		{ID: "feed00000000aaaa", ShortID: "feed00000000", Name: "nap", Image: "base:latest", Status: "running", Running: true, Paused: true, Created: t0},
		{ID: "5eed00000000bbbb", ShortID: "5eed00000000", Name: "new", Image: "base:latest", Status: "created", Created: t0},
	}
}

// newStates returns the UI over stateContainers, sized w×h.
func newStates(t *testing.T, w, h int) (Model, *fakeContainers, *fakeImages) {
	t.Helper()
	m, fc, fi := newTest(t, w, h, false)
	fc.list = stateContainers()
	m = send(t, m, loadContainers(fc)())
	return m, fc, fi
}

// tabState is what the tab line of the opened container says at its right.
func tabState(m Model) string {
	lines := strings.Split(ansi.Strip(m.render()), "\n")
	_, state, _ := strings.Cut(lines[1], "5 Inspect")
	return strings.TrimSpace(state)
}

func TestContainerState(t *testing.T) {
	for _, tt := range []struct {
		down int
		want string
	}{{0, "running"}, {1, "exited (3)"}, {2, "OOM-killed (137)"}, {3, "paused"}, {4, "created"}} {
		m, _, _ := newStates(t, 120, 40)
		m = press(t, m, "2")
		for range tt.down {
			m = press(t, m, "j")
		}
		if it, _ := m.panels[containersPanel].Selected(); !strings.Contains(it.Text, tt.want) {
			t.Errorf("the list shows %q, want %q in it", it.Text, tt.want)
		}
		m = press(t, m, "enter")
		if got := tabState(m); !strings.HasSuffix(got, tt.want) {
			t.Errorf("the container's view says %q, want %q", got, tt.want)
		}
		m.detail.close()
	}
	for _, tt := range []struct {
		name string
		w, h int
		keys []string
	}{
		{"container_exited_120x40", 120, 40, []string{"2", "j", "enter"}},
		{"container_exited_80x24", 80, 24, []string{"2", "j", "enter"}},
		{"container_oom_stats_120x40", 120, 40, []string{"2", "j", "j", "enter", "4"}},
		{"container_exited_stats_80x24", 80, 24, []string{"2", "j", "enter", "4"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newStates(t, tt.w, tt.h)
			m = press(t, m, tt.keys...)
			defer m.detail.close()
			uitest.Golden(t, tt.name, m.render())
			checkScreen(t, m.render(), tt.w, tt.h)
		})
	}
}

// TestStopping checks the state of an action under way shows until it
// ends, in the list and in the view, and that the Stats tab says when
// the container it read stopped.
func TestStopping(t *testing.T) {
	m, fc, _ := newStates(t, 120, 40)
	m = press(t, m, "2", "enter", "4")
	defer m.detail.close()
	m = send(t, m, statsMsg{})
	m = send(t, m, dialog.DoneMsg{ID: askStop + ":c0ffee0123456789", OK: true})
	if got := tabState(m); got != "stopping…" {
		t.Errorf("while stopping the view says %q", got)
	}
	if it, _ := m.panels[containersPanel].Selected(); !strings.Contains(it.Text, "stopping…") {
		t.Errorf("while stopping the list says %q", it.Text)
	}
	// A second action waits for the first.
	m = press(t, m, "K")
	if m.dialog.Active() || !strings.Contains(m.status, "web is stopping: wait for it") {
		t.Errorf("kill while stopping: dialog %v, status %q", m.dialog.Active(), m.status)
	}
	m = send(t, m, ctrDoneMsg{id: "c0ffee0123456789", what: "stopped"})
	list := stateContainers()
	list[0].Running, list[0].Status, list[0].ExitCode = false, "exited", 143
	fc.list = list
	m = send(t, m, loadContainers(fc)())
	if got := tabState(m); got != "exited (143)" {
		t.Errorf("once stopped the view says %q", got)
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, statsEnded) || !strings.Contains(s, "memory 0B") {
		t.Errorf("the Stats tab of the stopped container does not say it ended:\n%s", s)
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "s start • D remove") {
		t.Errorf("the stopped container's footer does not offer start and remove:\n%s", s)
	}
}

func TestManagerKeys(t *testing.T) {
	const web, old = "c0ffee0123456789", "dead00beef001122"
	tests := []struct {
		name   string
		keys   []string
		want   []string
		dialog string // the title of the dialog left open, if any
	}{
		{"kill asks", []string{"2", "K"}, nil, "Kill"},
		{"kill", []string{"2", "K", "y"}, []string{"kill " + web}, ""},
		{"kill refused", []string{"2", "K", "n"}, nil, ""},
		{"restart", []string{"2", "r"}, []string{"restart " + web}, ""},
		{"restart in the view", []string{"2", "enter", "3", "r"}, []string{"restart " + web}, ""},
		{"kill in the view", []string{"2", "enter", "4", "K", "y"}, []string{"kill " + web}, ""},
		{"r on an image runs", []string{"r"}, nil, "Run a container"},
		{"rm of a stopped one", []string{"2", "j", "D", "y"}, []string{"rm " + old}, ""},
		{"force rm of a running one", []string{"2", "D", "y"}, []string{"rm -f " + web}, ""},
		{"start of an exited one", []string{"2", "j", "s"}, []string{"start " + old}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fc, _ := newStates(t, 120, 40)
			m = press(t, m, tt.keys...)
			if m.detail != nil {
				defer m.detail.close()
			}
			if !slices.Equal(fc.calls, tt.want) {
				t.Errorf("calls %q, want %q", fc.calls, tt.want)
			}
			got := ""
			if m.dialog.Active() {
				got = strings.SplitN(ansi.Strip(m.dialog.View()), "\n", 3)[1]
			}
			if !strings.Contains(got, tt.dialog) || tt.dialog == "" && got != "" {
				t.Errorf("dialog %q open, want %q", got, tt.dialog)
			}
		})
	}
}

// TestForceRemove checks a running container's remove asks to force it,
// and that a failure keeps its view open with the error, which clears
// itself after StatusFor; a success goes back home.
func TestForceRemove(t *testing.T) {
	m, fc, _ := newStates(t, 120, 40)
	clock := t0
	m.now = func() time.Time { return clock }
	fc.fail = errors.New("remove web: cgroup busy")
	m = press(t, m, "2", "enter", "D")
	if s := ansi.Strip(m.dialog.View()); !strings.Contains(s, "Force remove web? It is running") {
		t.Errorf("the remove of a running container asks:\n%s", s)
	}
	m = press(t, m, "y")
	if m.detail == nil {
		t.Fatal("a failed remove left the container's view")
	}
	defer m.detail.close()
	if head := ansi.Strip(strings.SplitN(m.render(), "\n", 2)[0]); !strings.Contains(head, "error: remove web: cgroup busy") {
		t.Errorf("the header does not show the error: %q", head)
	}
	if got := tabState(m); got != "running" {
		t.Errorf("after the failed remove the view says %q", got)
	}
	clock = clock.Add(StatusFor - time.Second)
	if m = send(t, m, refreshMsg{}); m.status == "" {
		t.Error("the error cleared before StatusFor")
	}
	clock = clock.Add(2 * time.Second)
	if m = send(t, m, refreshMsg{}); m.status != "" {
		t.Errorf("the error stayed past StatusFor: %q", m.status)
	}
	fc.fail = nil
	m = press(t, m, "D", "y")
	if m.detail != nil || m.status != "removed web" {
		t.Errorf("after a remove: view open %v, status %q", m.detail != nil, m.status)
	}
	if want := []string{"rm -f c0ffee0123456789", "rm -f c0ffee0123456789"}; !slices.Equal(fc.calls, want) {
		t.Errorf("calls %q, want %q", fc.calls, want)
	}
}

func TestImageActions(t *testing.T) {
	const base, evil = "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90", "sha256:ffee00112233445566778899"
	tests := []struct {
		name string
		keys []string
		want []string
		ask  string // what the dialog says
	}{
		{"rm of an image in use", []string{"D"}, nil, "It is used by containers web, old: they keep their layers"},
		{"rm in use, forced", []string{"D", "y"}, []string{"rmi " + base + " force=true"}, ""},
		{"rm of an unused image", []string{"j", "D", "y"}, []string{"rmi " + evil + " force=false"}, ""},
		{"tag", append(append([]string{"t"}, strings.Split("base:v2", "")...), "enter"), []string{"tag " + base + " base:v2"}, ""},
		{"tag cancelled", []string{"t", "x", "esc"}, nil, ""},
		{"save", []string{"W", "enter"}, []string{"save " + base + " /tmp/base_latest.tar oci-archive"}, ""},
		{"save as docker-archive", []string{"W", "tab", "ctrl+u", "d", "o", "c", "k", "e", "r", "enter"}, []string{"save " + base + " /tmp/base_latest.tar docker"}, ""},
		{"keys of containers do nothing here", []string{"K", "s", "S"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, fi := newTest(t, 120, 40, false)
			m = press(t, m, tt.keys...)
			if !slices.Equal(fi.calls, tt.want) {
				t.Errorf("calls %q, want %q", fi.calls, tt.want)
			}
			if tt.ask != "" && !strings.Contains(strings.Join(strings.Fields(strings.ReplaceAll(ansi.Strip(m.dialog.View()), "║", "")), " "), tt.ask) {
				t.Errorf("the dialog does not say %q:\n%s", tt.ask, ansi.Strip(m.dialog.View()))
			}
		})
	}
	// An error is shown, and the images stay as they were.
	m, _, fi := newTest(t, 120, 40, false)
	fi.fail = errors.New("image base:latest: in use")
	m = press(t, m, "D", "y")
	if !strings.HasPrefix(m.status, "error: image base:latest: in use") {
		t.Errorf("status %q after a failed remove", m.status)
	}
	for _, tt := range []struct {
		name string
		w, h int
		keys []string
	}{
		{"image_rm_in_use_120x40", 120, 40, []string{"D"}},
		{"image_rm_in_use_80x24", 80, 24, []string{"D"}},
		{"image_tag_80x24", 80, 24, append([]string{"t"}, strings.Split("base:v2", "")...)},
		{"image_save_120x40", 120, 40, []string{"W"}},
		{"image_save_80x24", 80, 24, []string{"W"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newTest(t, tt.w, tt.h, false)
			m = press(t, m, tt.keys...)
			uitest.Golden(t, tt.name, m.render())
			checkScreen(t, m.render(), tt.w, tt.h)
		})
	}
}

// TestRunRecordsTheName checks a run from the Images panel names the image
// as ps will show it: its name, or its short ID when it has none.
func TestRunRecordsTheName(t *testing.T) {
	m, fc, fi := newTest(t, 120, 40, false)
	press(t, m, "r", "enter")
	if want := []string{"run base:latest  "}; !slices.Equal(fc.calls, want) {
		t.Errorf("calls %q, want %q", fc.calls, want)
	}
	imgs, _ := fi.Images()
	imgs[1].Names = nil
	m = send(t, m, imagesMsg{items: imgs})
	fc.calls = nil
	press(t, m, "j", "r", "enter")
	if want := []string{"run ffee00112233  "}; !slices.Equal(fc.calls, want) {
		t.Errorf("a nameless image: calls %q, want %q", fc.calls, want)
	}
}

func TestPalette(t *testing.T) {
	typed := func(s string) []string { return append(append([]string{":"}, strings.Split(s, "")...), "enter") }
	t.Run("opens a container", func(t *testing.T) {
		m, _, _ := newStates(t, 120, 40)
		m = press(t, m, typed("hog")...)
		if m.palette != nil || m.detail == nil || m.detail.id != "0000aaaa11112222" {
			t.Fatalf("palette open %v, detail %+v", m.palette != nil, m.detail)
		}
		defer m.detail.close()
		if m.focus != containersPanel || tabState(m) != "OOM-killed (137)" {
			t.Errorf("focus %d, state %q", m.focus, tabState(m))
		}
	})
	t.Run("opens an image from a container's view", func(t *testing.T) {
		m, _, _ := newStates(t, 120, 40)
		m = press(t, m, "2", "enter")
		m = press(t, m, typed("base")...)
		if m.detail == nil || m.detail.kind != kindImage || m.detail.title != "base:latest" {
			t.Fatalf("detail %+v", m.detail)
		}
		m.detail.close()
	})
	t.Run("runs an action where it was opened", func(t *testing.T) {
		m, fc, _ := newStates(t, 120, 40)
		m = press(t, m, "2")
		m = press(t, m, typed("restart")...)
		if !slices.Equal(fc.calls, []string{"restart c0ffee0123456789"}) {
			t.Errorf("calls %q", fc.calls)
		}
		m = press(t, m, "enter")
		defer m.detail.close()
		m = press(t, m, typed("kill")...)
		if !m.dialog.Active() || !strings.Contains(ansi.Strip(m.dialog.View()), "Kill web") {
			t.Errorf("kill from the palette in the view did not ask:\n%s", ansi.Strip(m.render()))
		}
	})
	t.Run("offers what applies", func(t *testing.T) {
		m, _, _ := newStates(t, 120, 40)
		descs := func(m Model) []string {
			var out []string
			for _, b := range m.paletteActions() {
				out = append(out, b.Help().Desc)
			}
			return out
		}
		if got := descs(m); !slices.Contains(got, "run") || slices.Contains(got, "restart") || slices.Contains(got, "up") {
			t.Errorf("on the images: %q", got)
		}
		if got := descs(press(t, m, "2")); slices.Contains(got, "run") || !slices.Contains(got, "restart") || !slices.Contains(got, "kill") {
			t.Errorf("on the containers: %q", got)
		}
		m = press(t, m, "2", "enter", "3")
		defer m.detail.close()
		if got := descs(m); !slices.Contains(got, "search") || !slices.Contains(got, "kill") || slices.Contains(got, "run") {
			t.Errorf("in the logs: %q", got)
		}
	})
	t.Run("esc closes", func(t *testing.T) {
		m, fc, _ := newStates(t, 120, 40)
		m = press(t, m, ":", "q", "esc")
		if m.palette != nil || m.detail != nil || len(fc.calls) != 0 {
			t.Errorf("after esc: palette %v, detail %v, calls %q", m.palette != nil, m.detail != nil, fc.calls)
		}
	})
	t.Run("follows a resize", func(t *testing.T) {
		m, _, _ := newStates(t, 120, 40)
		m = press(t, m, ":")
		m = send(t, m, tea.WindowSizeMsg{Width: 60, Height: 20})
		checkScreen(t, m.render(), 60, 20)
		if w := lipglossWidth(m.palette.View()); w > 60 {
			t.Errorf("the palette is %d wide on a screen of 60", w)
		}
	})
	t.Run("off in a filter", func(t *testing.T) {
		m, _, _ := newStates(t, 120, 40)
		m = press(t, m, "/", ":")
		if m.palette != nil {
			t.Error(": in the filter line opened the palette")
		}
	})
	for _, tt := range []struct {
		name string
		w, h int
		keys []string
	}{
		{"palette_home_120x40", 120, 40, []string{":"}},
		{"palette_home_80x24", 80, 24, []string{":", "o", "l"}},
		{"palette_container_80x24", 80, 24, []string{"2", "enter", ":", "s", "t"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newStates(t, tt.w, tt.h)
			m = press(t, m, tt.keys...)
			if m.detail != nil {
				defer m.detail.close()
			}
			uitest.Golden(t, tt.name, m.render())
			checkScreen(t, m.render(), tt.w, tt.h)
		})
	}
}

// TestLogsSearch checks / searches the logs pane: typed keys go to the
// search line (1 does not change the tab), n moves on, esc drops the
// search and a second esc leaves the view.
func TestLogsSearch(t *testing.T) {
	m, _, _ := newTest(t, 120, 40, false)
	m = press(t, m, "2", "enter", "3")
	defer m.detail.close()
	m = send(t, m, logsMsg{data: []byte("start 1\nwarn 1\nready\nwarn 2 again\n"), ch: m.detail.logsCh})
	m = press(t, m, "/", "w", "a", "r", "n", "1")
	if m.detail.current() != "Logs" || !m.detail.logs.Searching() {
		t.Fatalf("typing in the search line: tab %s, searching %v", m.detail.current(), m.detail.logs.Searching())
	}
	if q, n := m.detail.logs.Query(); q != "warn1" || n != 0 {
		t.Errorf("search %q found %d", q, n)
	}
	m = press(t, m, "backspace", "enter", "n")
	if q, n := m.detail.logs.Query(); q != "warn" || n != 2 {
		t.Errorf("search %q found %d, want warn in 2", q, n)
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "/warn  2/2 lines") {
		t.Errorf("n did not move to the second match:\n%s", s)
	}
	m = press(t, m, "esc")
	if m.detail == nil {
		t.Fatal("esc with a search left the view")
	}
	if q, _ := m.detail.logs.Query(); q != "" {
		t.Errorf("esc kept the search %q", q)
	}
	d := m.detail
	if m = press(t, m, "esc"); m.detail != nil {
		t.Error("a second esc did not leave the view")
	}
	d.close()
	for _, sz := range [][2]int{{120, 40}, {80, 24}} {
		m, _, _ := newTest(t, sz[0], sz[1], false)
		m = press(t, m, "2", "enter", "3")
		m = send(t, m, logsMsg{data: []byte("start 1\nwarn 1\nready\nwarn 2 again\n"), ch: m.detail.logsCh})
		m = press(t, m, "/", "w", "a", "r", "n", "enter")
		name := "container_logs_search_" + map[int]string{120: "120x40", 80: "80x24"}[sz[0]]
		uitest.Golden(t, name, m.render())
		checkScreen(t, m.render(), sz[0], sz[1])
		m.detail.close()
	}
}

// TestEmptyFilter checks a filter that matches nothing says so, not that
// there are no images.
func TestEmptyFilter(t *testing.T) {
	m, _, _ := newTest(t, 80, 24, false)
	m = press(t, m, "/", "z", "z", "z", "enter")
	s := ansi.Strip(m.render())
	if !strings.Contains(s, `nothing matches "zzz"`) || !strings.Contains(s, `nothing matches the filter "zzz": esc clears it`) || strings.Contains(s, "load one") {
		t.Errorf("an empty filter shows:\n%s", s)
	}
	uitest.Golden(t, "home_filter_empty_80x24", m.render())
}

// TestFooterAtEveryWidth checks ? and q end the footer of every screen at
// every width the UI draws.
func TestFooterAtEveryWidth(t *testing.T) {
	screens := []struct {
		name string
		keys []string
	}{
		{"images", nil},
		{"containers", []string{"2"}},
		{"mounts", []string{"3"}},
		{"main", []string{"4"}},
		{"image", []string{"enter"}},
		{"image config", []string{"enter", "3"}},
		{"container", []string{"2", "enter"}},
		{"shell", []string{"2", "enter", "2", "ctrl+g"}},
		{"shell focused", []string{"2", "enter", "2"}},
		{"logs", []string{"2", "enter", "3"}},
		{"logs searched", []string{"2", "enter", "3", "/", "x", "enter"}},
		{"stats", []string{"2", "enter", "4"}},
		{"exited", []string{"2", "j", "enter"}},
		{"filtered", []string{"/", "z", "enter"}},
		{"dialog", []string{"2", "K"}},
		{"palette", []string{":"}},
		{"help", []string{"?"}},
	}
	for _, sc := range screens {
		m, fc, _ := newStates(t, 120, 40)
		fc.pty = newFakePty("# ")
		m = press(t, m, sc.keys...)
		for w := 20; w <= 200; w += 3 {
			m = send(t, m, tea.WindowSizeMsg{Width: w, Height: 24})
			f := ansi.Strip(m.footer())
			if !strings.Contains(f, "? help") || !strings.Contains(f, "q quit") || ansi.StringWidth(m.footer()) != w {
				t.Errorf("%s at %d columns: %q", sc.name, w, f)
			}
		}
		if m.detail != nil {
			m.detail.close()
		}
	}
}

func TestManagerDialogsGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		w, h int
		keys []string
	}{
		{"confirm_kill_120x40", 120, 40, []string{"2", "K"}},
		{"confirm_kill_80x24", 80, 24, []string{"2", "enter", "K"}},
		{"confirm_force_rm_120x40", 120, 40, []string{"2", "enter", "D"}},
		{"image_tag_120x40", 120, 40, []string{"t"}},
		{"home_filter_empty_120x40", 120, 40, []string{"2", "/", "z", "z", "enter"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newStates(t, tt.w, tt.h)
			m = press(t, m, tt.keys...)
			if m.detail != nil {
				defer m.detail.close()
			}
			uitest.Golden(t, tt.name, m.render())
			checkScreen(t, m.render(), tt.w, tt.h)
		})
	}
}

func lipglossWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, ansi.StringWidth(l))
	}
	return w
}

// TestLogsFollowAgain checks the logs' stream, which ends when the
// container stops, is followed again once it runs again (a restart).
func TestLogsFollowAgain(t *testing.T) {
	m, fc, _ := newStates(t, 120, 40)
	m = press(t, m, "2", "enter", "3")
	defer m.detail.close()
	first := m.detail.logsCh
	m = send(t, m, logsMsg{ch: first, ended: true})
	if s := ansi.Strip(m.render()); !strings.Contains(s, "logs (the container stopped)") {
		t.Errorf("the ended logs do not say so:\n%s", s)
	}
	stopped := stateContainers()
	stopped[0].Running, stopped[0].Status = false, "exited"
	fc.list = stopped
	m = send(t, m, loadContainers(fc)())
	if m.detail.logsCh != first {
		t.Error("the logs were followed again while the container is stopped")
	}
	fc.list = stateContainers()
	m = runQuick(t, m, func() tea.Msg { return containersMsg{items: fc.list} })
	if m.detail.logsCh == first || m.detail.logsDone {
		t.Fatal("the logs were not followed again once the container ran")
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "logs (follow)") || strings.Count(s, "hello") != 1 {
		t.Errorf("the logs followed again show:\n%s", s)
	}
	// A message of the old stream is dropped.
	m = send(t, m, logsMsg{data: []byte("stale\n"), ch: first})
	if strings.Contains(ansi.Strip(m.render()), "stale") {
		t.Error("the old stream's output was shown")
	}
}
