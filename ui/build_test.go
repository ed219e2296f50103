package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/ui/internal/uitest"
)

func TestBuildGolden(t *testing.T) {
	failed := append(buildScript(),
		BuildEvent{Step: 4, Total: 4, Text: "RUN make", State: BuildFailed, Elapsed: 2500 * time.Millisecond,
			Err: errors.New("the command 'make' returned a non-zero code: 2")})
	tests := []struct {
		name string
		w, h int
		fb   *fakeBuilder
		keys []string
	}{
		{name: "build_running", w: 120, h: 40, fb: &fakeBuilder{script: buildScript(), hold: true}},
		{name: "build_running_80x24", w: 80, h: 24, fb: &fakeBuilder{script: buildScript(), hold: true}},
		{name: "build_failed", w: 120, h: 40, fb: &fakeBuilder{script: failed, err: errors.New("the command 'make' returned a non-zero code: 2")}},
		{name: "build_step_selected", w: 120, h: 40, fb: &fakeBuilder{script: failed, err: errors.New("make: 2")}, keys: []string{"up", "up"}},
		{name: "build_confirm_cancel", w: 120, h: 40, fb: &fakeBuilder{script: buildScript(), hold: true}, keys: []string{"esc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newBuildTest(t, tt.w, tt.h, tt.fb)
			p := startBuild(t, m)
			p.m = send(t, p.m, buildTickMsg{p.m.build.run, t0.Add(3 * time.Second)})
			p.press(tt.keys...)
			uitest.Golden(t, tt.name, p.m.render())
		})
	}
}

func TestBuildFormGolden(t *testing.T) {
	m, _ := newBuildTest(t, 120, 40, &fakeBuilder{})
	m = press(t, m, "B", "/", "s", "r", "c")
	uitest.Golden(t, "build_form", m.render())
}

// TestBuildSpec checks the form's values reach the builder: the context,
// the Dockerfile and each tag.
func TestBuildSpec(t *testing.T) {
	fb := &fakeBuilder{specs: make(chan BuildSpec, 1)}
	m, _ := newBuildTest(t, 120, 40, fb)
	p := newProg(t, m)
	p.press(append([]string{"B"}, strings.Split("/src", "")...)...)
	p.press(append([]string{"tab"}, strings.Split("/src/Dockerfile.dev", "")...)...)
	p.press(append([]string{"tab"}, strings.Split("a:1, b", "")...)...)
	p.press("enter")
	m = p.m
	got := <-fb.specs
	want := BuildSpec{Context: "/src", Dockerfile: "/src/Dockerfile.dev", Tags: []string{"a:1", "b"}}
	if got.Context != want.Context || got.Dockerfile != want.Dockerfile || !slices.Equal(got.Tags, want.Tags) {
		t.Errorf("spec %+v, want %+v", got, want)
	}
	if !m.build.ended || m.build.err != nil || !strings.Contains(m.status, "built b0b0b0b0b0b0") {
		t.Errorf("the build did not end well: ended %v, err %v, status %q", m.build.ended, m.build.err, m.status)
	}

	m, _ = newBuildTest(t, 120, 40, &fakeBuilder{})
	m = press(t, m, "B", "enter")
	if m.build != nil || m.status != "error: build: want a context directory" {
		t.Errorf("an empty context: build %v, status %q", m.build != nil, m.status)
	}
}

// TestBuildOpenStep checks enter on a finished step opens its image on
// its top layer, esc goes back to the build, and esc again home.
func TestBuildOpenStep(t *testing.T) {
	m, _ := newBuildTest(t, 120, 40, &fakeBuilder{script: buildScript()})
	p := startBuild(t, m)
	p.press("up", "up", "enter")
	m = p.m
	if m.detail == nil || m.detail.kind != kindImage || m.detail.id != "sha256:2222222222229999" {
		t.Fatalf("enter on step 2 opened %+v", m.detail)
	}
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "layer 1 of 2") {
		t.Errorf("the step's image is not shown on its top layer:\n%s", screen)
	}
	p.press("2")
	if got := ansi.Strip(p.m.render()); !strings.Contains(got, "step 222222222222") {
		t.Errorf("the history tab of an unlisted step image is empty:\n%s", got)
	}
	p.press("esc")
	if m = p.m; m.detail != nil || m.build == nil {
		t.Fatalf("esc from the step's image: detail %v, build %v", m.detail != nil, m.build != nil)
	}
	p.press("esc")
	if m = p.m; m.build != nil || m.dialog.Active() {
		t.Errorf("esc on an ended build: build %v, dialog %v", m.build != nil, m.dialog.Active())
	}
}

// TestBuildCancel checks esc asks before cancelling, n leaves the build
// running, and y cancels it: the builder's context ends and the view
// says so.
func TestBuildCancel(t *testing.T) {
	m, _ := newBuildTest(t, 120, 40, &fakeBuilder{script: buildScript(), hold: true})
	p := startBuild(t, m)
	p.press("esc", "n")
	if p.m.build.ended || p.m.build.run.ctx.Err() != nil {
		t.Fatal("n cancelled the build")
	}
	p.press("esc", "y")
	m = p.m
	if !m.build.ended || !strings.Contains(m.status, "cancelled") {
		t.Fatalf("the build did not end cancelled: ended %v, status %q", m.build.ended, m.status)
	}
	if s := m.build.steps[3]; s.state != BuildFailed {
		t.Errorf("the running step is %v after the cancel", s.state)
	}
	if !strings.Contains(ansi.Strip(m.render()), "cancelled after") {
		t.Errorf("the view does not say the build was cancelled:\n%s", ansi.Strip(m.render()))
	}
	if p.quit {
		t.Error("cancelling the build quit the program")
	}
}

// TestBuildInterrupt checks ctrl+c during a build cancels it and quits
// once it has stopped, and that WaitBuild returns the build's error; q
// asks first.
func TestBuildInterrupt(t *testing.T) {
	m, _ := newBuildTest(t, 120, 40, &fakeBuilder{script: buildScript(), hold: true})
	p := startBuild(t, m)
	p.press("q")
	if !p.m.dialog.Active() || p.quit {
		t.Fatalf("q during a build: dialog %v, quit %v", p.m.dialog.Active(), p.quit)
	}
	p.press("n", "ctrl+c")
	if !p.quit || !p.m.build.ended {
		t.Fatalf("ctrl+c: quit %v, build ended %v", p.quit, p.m.build.ended)
	}
	if err := p.m.WaitBuild(); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("WaitBuild: %v, want the cancel", err)
	}
}

// TestBuildOnStart checks Options.Build opens the UI on the build.
func TestBuildOnStart(t *testing.T) {
	fb := &fakeBuilder{script: buildScript()}
	src := Sources{Images: &fakeImages{}, Builder: fb}
	p := newProg(t, New(src, Options{Build: &BuildSpec{Context: "/src"}}))
	p.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	p.run(p.m.Init())
	p.settle()
	m := p.m
	if m.build == nil || !m.build.ended || len(m.build.steps) != 4 {
		t.Fatalf("the build did not run on start: %+v", m.build)
	}
	if got := ansi.Strip(m.render()); !strings.Contains(got, "build /src") {
		t.Errorf("the build view is not shown:\n%s", got)
	}
}

// TestBuildScreenSize checks the build view fills the screen exactly at
// every size.
func TestBuildScreenSize(t *testing.T) {
	m, _ := newBuildTest(t, 200, 60, &fakeBuilder{script: buildScript(), hold: true})
	m = startBuild(t, m).m
	for _, sz := range [][2]int{{80, 24}, {120, 40}, {200, 60}, {100, 30}} {
		m = send(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		lines := strings.Split(m.render(), "\n")
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

// TestBuildNoStep checks a build that fails before its first step says
// so once, in the status and the steps box.
func TestBuildNoStep(t *testing.T) {
	m, _ := newBuildTest(t, 120, 40, &fakeBuilder{err: errors.New("build: open /src/app/Dockerfile: no such file or directory")})
	p := startBuild(t, m)
	screen := ansi.Strip(p.m.render())
	for _, want := range []string{"no step ran", "failed: build: open /src/app/Dockerfile", "error: build: open"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the failed build lacks %q:\n%s", want, screen)
		}
	}
}

// TestBuildMouse checks a click selects a step, and one on the layer
// view gives it the keys.
func TestBuildMouse(t *testing.T) {
	m, _ := newBuildTest(t, 120, 40, &fakeBuilder{script: buildScript()})
	m = startBuild(t, m).m
	// The header, the status line and the box's top edge are above the
	// first step.
	m = send(t, m, tea.MouseClickMsg{X: 5, Y: 1 + 1 + 1 + 1, Button: tea.MouseLeft})
	if m.build.sel != 1 || m.build.focusLive {
		t.Errorf("a click on step 2 selected %d, layers focused %v", m.build.sel, m.build.focusLive)
	}
	m = send(t, m, tea.MouseClickMsg{X: 100, Y: 30, Button: tea.MouseLeft})
	if !m.build.focusLive {
		t.Error("a click on the layer view did not focus it")
	}
	m = press(t, m, "tab")
	if m.build.focusLive {
		t.Error("tab from the merged pane did not go back to the steps")
	}
}
