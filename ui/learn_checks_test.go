package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/internal/lesson"
	"minidocker/ui/internal/uitest"
)

// viewFixture is a lesson of three containers whose first step is done in
// the layer view (uitest.Stack: layer 1 whites out /tmp/cache) and whose
// second reads the meter.
const viewFixture = "# The stack\n\nLayers.\n\n```lesson\nimage: learn\ncontainers: 3\n```\n\n" +
	"## Find the whiteout\n\nSelect it.\n\n```check\nview layer 1\nview pane lower\nview selected /tmp/cache\nview marker whiteout\n```\n" +
	"```hint\nctrl+g, 1, tab, a, then j.\n```\n```solution\n@keys C-g 1 Tab a\n@keys g j j j j j\n```\n" +
	"## Count them\n\n```check\nmeter containers 4\n```\n"

// fakeReader is the meter the fixture's checks read.
type fakeReader struct{ n int }

func (f fakeReader) ReadMeter() (lesson.MeterReading, error) {
	return lesson.MeterReading{Containers: f.n, Layers: 12_300_000, Savings: 2.0 / 3}, nil
}

// newViewLessonTest opens the view fixture, w×h, with a disk meter.
func newViewLessonTest(t *testing.T, w, h int) (Model, *fakeMeter) {
	t.Helper()
	now := t0
	fl := newFakeLessons(t)
	l, err := lesson.Parse("00-stack.md", []byte(viewFixture))
	if err != nil {
		t.Fatal(err)
	}
	fl.l = l
	fm := &fakeMeter{}
	src := Sources{Images: &fakeImages{}, Mounts: fakeMounts{}, Lessons: viewLessons{fl}, Meter: fm}
	src.SetContainers(&fakeContainers{pty: newFakePty("# ")})
	m := New(src, Options{Dark: true, Lesson: "stack"})
	m.now = func() time.Time { return now }
	m = send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = runQuick(t, m, listLessons(src.Lessons, "stack"))
	return m, fm
}

// viewLessons is fakeLessons with a disk meter in the lesson's Env.
type viewLessons struct{ *fakeLessons }

func (v viewLessons) LessonEnv(id string) (lesson.Env, error) {
	env, err := v.fakeLessons.LessonEnv(id)
	env.Meter = fakeReader{3}
	return env, err
}

// TestLessonViewChecks does a step in the layer view, key by key: each
// key evaluates the checks against what the view shows, which turn green
// once the whiteout is selected in the right layer; the meter of the
// lesson's three containers is a line under the panel, and its check
// reads the lesson's meter.
func TestLessonViewChecks(t *testing.T) {
	m, fm := newViewLessonTest(t, 120, 40)
	if m.learn == nil || m.learn.l == nil || m.detail == nil {
		t.Fatalf("the lesson did not start: %+v", m.learn)
	}
	got := m.render()
	uitest.Golden(t, "lesson_meter", got)
	if n := strings.Count(got, "\n") + 1; n != 40 {
		t.Errorf("screen of %d lines, want 40", n)
	}
	if s := ansi.Strip(got); !strings.Contains(s, "disk ") || !strings.Contains(s, "saved") {
		t.Errorf("no disk meter under the lesson's panel:\n%s", s)
	}
	if len(fm.ids) == 0 || fm.ids[0] != "container 1e550n0123456789" {
		t.Errorf("meter read for %q; want the lesson's container", fm.ids)
	}

	m = press(t, m, "ctrl+g", "1", "tab", "a", "g", "j", "j", "j", "j")
	if m.learn.step != 0 {
		t.Fatalf("the step is done before the whiteout is selected")
	}
	s := ansi.Strip(m.render())
	for _, want := range []string{"✓ view layer 1", "✓ view pane lower", "✗ view selected /tmp/cache  now: layer 1 alone, the lower pane, /tmp (unmodified)"} {
		if !strings.Contains(s, want) {
			t.Errorf("the panel does not show %q:\n%s", want, s)
		}
	}
	m = press(t, m, "j")
	if m.learn.step != 1 {
		t.Fatalf("selecting the whiteout did not finish the step: results %+v", m.learn.results)
	}
	// The meter's check reads the lesson's meter: three containers.
	m = tick(t, m)
	if s := ansi.Strip(m.render()); m.learn.step != 1 || !strings.Contains(s, "✗ meter containers 4  now: 3 containers, layers 12.3MB") {
		t.Errorf("meter containers 4 holds, or does not say what the meter reads: step %d\n%s", m.learn.step, s)
	}

	// Elsewhere than the Layers tab no lower layer is shown; on a tab
	// without the trees there is no layer view at all.
	m = press(t, m, "2")
	if v := m.lessonLayerView(); v == nil || v.Layer() != -1 {
		t.Errorf("the Shell tab's view state %+v; want no layer shown", v)
	}
	if m.detail.shellFocused() {
		m = press(t, m, "ctrl+g")
	}
	m = press(t, m, "3")
	if v := m.lessonLayerView(); m.detail.current() != "Logs" || v != nil {
		t.Errorf("the %s tab's view state %+v; want the Logs tab's, none", m.detail.current(), v)
	}
}

// TestLessonMeterSmall draws the meter's lesson at 80×24: every line fits.
func TestLessonMeterSmall(t *testing.T) {
	m, _ := newViewLessonTest(t, 80, 24)
	got := m.render()
	uitest.Golden(t, "lesson_meter_80x24", got)
	if n := strings.Count(got, "\n") + 1; n != 24 {
		t.Errorf("screen of %d lines, want 24", n)
	}
}

func TestSolutionText(t *testing.T) {
	got := solutionText([]string{"rm /a", "@keys C-g 1 Tab", "@reset"}, "F5")
	if want := "rm /a; keys C-g 1 Tab; F5"; got != want {
		t.Errorf("solutionText = %q; want %q", got, want)
	}
}
