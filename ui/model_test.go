package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/ui/internal/uitest"
)

// newTest returns the UI over the fakes, sized w×h and loaded.
func newTest(t *testing.T, w, h int, noRun bool) (Model, *fakeContainers, *fakeImages) {
	t.Helper()
	fc, fi := &fakeContainers{}, &fakeImages{}
	src := Sources{Images: fi, ImageManager: fi, Mounts: fakeMounts{}}
	if noRun {
		src.NoRun = "containers need root: run minidocker as root to start them"
	} else {
		src.SetContainers(fc)
	}
	m := New(src, Options{Dark: true})
	m = send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = send(t, m, loadImages(src.Images)())
	if src.ContainerList != nil {
		m = send(t, m, loadContainers(src.ContainerList)())
	}
	m = send(t, m, loadMounts(src.Mounts)())
	return m, fc, fi
}

// send gives m one message and returns the new model.
func send(t *testing.T, m Model, msg tea.Msg) Model {
	t.Helper()
	next, _ := m.Update(msg)
	return next.(Model)
}

// keys presses keys in order, running the commands that answer at once
// (dialog answers, loads), but not timers.
func press(t *testing.T, m Model, ks ...string) Model {
	t.Helper()
	for _, k := range ks {
		next, cmd := m.Update(uitest.Key(k))
		m = next.(Model)
		m = runQuick(t, m, cmd)
	}
	return m
}

// runQuick runs cmd and feeds its message back when it is one the tests
// need: dialog answers, stacks, extract questions and action results.
func runQuick(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	if cmd == nil {
		return m
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-timeout():
		return m // a timer or a stream: not for these tests
	}
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			m = runQuick(t, m, c)
		}
		return m
	case nil:
		return m
	}
	next, cmd := m.Update(msg)
	return runQuick(t, next.(Model), cmd)
}

func TestHomeGolden(t *testing.T) {
	tests := []struct {
		name  string
		w, h  int
		noRun bool
		keys  []string
	}{
		{name: "home_120x40", w: 120, h: 40},
		{name: "home_80x24", w: 80, h: 24},
		{name: "home_200x60", w: 200, h: 60},
		{name: "home_history_tab", w: 120, h: 40, keys: []string{"]"}},
		{name: "home_containers", w: 120, h: 40, keys: []string{"2"}},
		{name: "home_mounts", w: 120, h: 40, keys: []string{"3"}},
		{name: "home_evil_image_name", w: 120, h: 40, keys: []string{"j"}},
		{name: "home_no_root", w: 120, h: 40, noRun: true, keys: []string{"2"}},
		{name: "help_120x40", w: 120, h: 40, keys: []string{"?"}},
		{name: "help_80x24", w: 80, h: 24, keys: []string{"?"}},
		{name: "run_form", w: 120, h: 40, keys: []string{"r", "/", "b", "i", "n", "/", "s", "h"}},
		{name: "confirm_rm", w: 80, h: 24, keys: []string{"2", "D"}},
		{name: "image_open", w: 120, h: 40, keys: []string{"enter"}},
		{name: "container_open", w: 120, h: 40, keys: []string{"2", "enter"}},
		{name: "container_open_80x24", w: 80, h: 24, keys: []string{"2", "enter"}},
		{name: "mount_open", w: 120, h: 40, keys: []string{"3", "enter"}},
		{name: "image_config_tab", w: 120, h: 40, keys: []string{"enter", "3"}},
		{name: "preview", w: 120, h: 40, keys: []string{"enter", "j", "p"}},
		{name: "home_filter", w: 120, h: 40, keys: []string{"/", "E", "v", "enter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := newTest(t, tt.w, tt.h, tt.noRun)
			m = press(t, m, tt.keys...)
			uitest.Golden(t, tt.name, m.render())
		})
	}
}

func TestHomeGoldenANSI(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
	}{
		{"home_120x40.ansi", Options{Dark: true}},
		{"home_light_120x40.ansi", Options{}},
		{"home_nocolor_120x40.ansi", Options{NoColor: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := Sources{Images: &fakeImages{}, Mounts: fakeMounts{}}
			src.SetContainers(&fakeContainers{})
			m := New(src, tt.o)
			m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
			m = send(t, m, loadImages(src.Images)())
			m = send(t, m, loadContainers(src.ContainerList)())
			uitest.Golden(t, tt.name, m.render())
		})
	}
}

func TestPreviewText(t *testing.T) {
	if got := previewText([]byte("plain\ntext")); got != "plain\ntext" {
		t.Errorf("text shown as %q", got)
	}
	got := previewText([]byte{0x7f, 'E', 'L', 'F', 0, 1})
	if !strings.HasPrefix(got, "00000000  7f 45 4c 46 00 01") {
		t.Errorf("binary shown as %q, want a hex dump", got)
	}
}

func TestNoColor(t *testing.T) {
	fc := &fakeContainers{}
	src := Sources{Images: &fakeImages{}, Mounts: fakeMounts{}}
	src.SetContainers(fc)
	m := New(src, Options{Dark: true, NoColor: true})
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = send(t, m, loadImages(m.src.Images)())
	out := m.render()
	if strings.Contains(out, "38;2;") || strings.Contains(out, "48;2;") {
		i := strings.Index(out, "38;2;")
		if i < 0 {
			i = strings.Index(out, "48;2;")
		}
		t.Errorf("NO_COLOR output holds colours: %q", out[max(i-80, 0):i+20])
	}
}

// TestScreenSize checks every size gives exactly w×h cells, so a resize
// leaves no garbage behind.
func TestScreenSize(t *testing.T) {
	for _, keys := range [][]string{nil, {"enter"}, {"2", "enter"}, {"?"}} {
		m, _, _ := newTest(t, 200, 60, false)
		m = press(t, m, keys...)
		for _, sz := range [][2]int{{80, 24}, {120, 40}, {200, 60}, {100, 30}} {
			m = send(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			lines := strings.Split(m.render(), "\n")
			if len(lines) != sz[1] {
				t.Errorf("%v at %dx%d: %d lines", keys, sz[0], sz[1], len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w != sz[0] {
					t.Errorf("%v at %dx%d: line %d is %d wide: %q", keys, sz[0], sz[1], i, w, ansi.Strip(l))
				}
			}
		}
	}
}

func TestActions(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want []string
	}{
		{"start", []string{"2", "s"}, []string{"start c0ffee0123456789"}},
		{"stop confirmed", []string{"2", "S", "y"}, []string{"stop c0ffee0123456789"}},
		{"stop refused", []string{"2", "S", "n"}, nil},
		{"rm confirmed", []string{"2", "j", "D", "y"}, []string{"rm dead00beef001122"}},
		{"stop from the container view", []string{"2", "enter", "S", "y"}, []string{"stop c0ffee0123456789"}},
		{"force rm from the container view", []string{"2", "enter", "D", "y"}, []string{"rm -f c0ffee0123456789"}},
		{"run", []string{"r", "/", "b", "i", "n", "/", "s", "h", "tab", "tab", "tab", "tab", "tab", "w", "enter"}, []string{"run base:latest /bin/sh w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fc, _ := newTest(t, 120, 40, false)
			press(t, m, tt.keys...)
			if !slices.Equal(fc.calls, tt.want) {
				t.Errorf("calls %q, want %q", fc.calls, tt.want)
			}
		})
	}
}

func TestLoadAndExtract(t *testing.T) {
	m, _, fi := newTest(t, 120, 40, false)
	m = press(t, m, append([]string{"L"}, strings.Split("/x.tar", "")...)...)
	m = press(t, m, "enter")
	if !slices.Equal(fi.loaded, []string{"/x.tar"}) {
		t.Errorf("loaded %q", fi.loaded)
	}
	dst := filepath.Join(t.TempDir(), "out")
	m = press(t, m, "enter", "j", "x")
	for range len("/tmp/main.py") {
		m = press(t, m, "backspace")
	}
	m = press(t, m, append(strings.Split(dst, ""), "enter")...)
	b, err := os.ReadFile(dst)
	if err != nil || string(b) != "content of /app/main.py\n" {
		t.Errorf("extracted %q, %v (status %q)", b, err, m.status)
	}
}

func TestQuitKeys(t *testing.T) {
	for _, keys := range [][]string{{"q"}, {"ctrl+c"}, {"r", "ctrl+c"}, {"enter", "/", "ctrl+c"}} {
		m, _, _ := newTest(t, 80, 24, false)
		m = press(t, m, keys[:len(keys)-1]...)
		k := keys[len(keys)-1]
		_, cmd := m.Update(uitest.Key(k))
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s does not quit", k)
		}
	}
}

// TestPaste checks a bracketed paste reaches what takes typed text: the
// home panel's filter line, a form's field, the layer view's filter line
// and a focused shell; elsewhere it is ignored.
func TestPaste(t *testing.T) {
	paste := func(m Model, s string) Model { return send(t, m, tea.PasteMsg{Content: s}) }

	m, _, _ := newTest(t, 120, 40, false)
	m = paste(m, "ignored")
	m = paste(press(t, m, "/"), "evil")
	if n := m.panels[imagesPanel].Len(); n != 1 {
		t.Errorf("the images filter pasted: %d images, want 1", n)
	}

	m, fc, _ := newTest(t, 120, 40, false)
	m = paste(press(t, m, "r"), "/bin/echo hi")
	press(t, m, "enter")
	if want := []string{"run base:latest /bin/echo hi "}; !slices.Equal(fc.calls, want) {
		t.Errorf("calls %q, want %q", fc.calls, want)
	}

	m, _, _ = newTest(t, 120, 40, false)
	m = paste(press(t, m, "enter", "/"), "pass")
	m = press(t, m, "enter")
	if !m.detail.layers.HasFilter() || !strings.Contains(ansi.Strip(m.render()), "filter (regex on path): pass") {
		t.Errorf("the layer view's filter did not take the paste:\n%s", ansi.Strip(m.render()))
	}

	m, fc, _ = newTest(t, 120, 40, false)
	p := newFakePty("# ")
	fc.pty = p
	m = paste(press(t, m, "2", "enter", "2"), "ls -l")
	defer m.detail.close()
	if got := p.Typed("ls -l"); got != "ls -l" {
		t.Errorf("the shell got %q, want the paste", got)
	}
}
