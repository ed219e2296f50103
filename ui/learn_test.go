package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/internal/lesson"
	"minidocker/ui/internal/uitest"
)

const learnFixture = "# Files in upper\n\nA new file goes to upper.\n\n```lesson\nimage: learn\n```\n\n" +
	"## Make a file\n\nMake `/hello.txt`:\n\n```sh\necho hello > /hello.txt\n```\n\n" +
	"```check\nupper new /hello.txt\nupper contains /hello.txt hello\n```\n```hint 30s\nUse echo and >.\n```\n```solution\necho hello > /hello.txt\n```\n" +
	"## Make another\n\n```check\nupper file /two\n```\n" +
	"## Start again\n\n```check\ncontainer reset\n```\n"

// fakeLessons runs one lesson over plain directories: the checks of
// upper read a directory the test writes in.
type fakeLessons struct {
	l            *lesson.Lesson
	upper, lower string
	calls        []string
}

func newFakeLessons(t *testing.T) *fakeLessons {
	t.Helper()
	l, err := lesson.Parse("01-files.md", []byte(learnFixture))
	if err != nil {
		t.Fatal(err)
	}
	return &fakeLessons{l: l, upper: t.TempDir(), lower: t.TempDir()}
}

func (f *fakeLessons) Lessons() ([]*lesson.Lesson, error) { return []*lesson.Lesson{f.l}, nil }
func (f *fakeLessons) StartLesson(ctx context.Context, l *lesson.Lesson, fresh bool) (string, error) {
	f.calls = append(f.calls, fmt.Sprintf("start %s fresh=%v", l.Name, fresh))
	// A new container: a new, empty upper directory.
	if err := os.RemoveAll(f.upper); err != nil {
		return "", err
	}
	return "1e550n0123456789", os.Mkdir(f.upper, 0o755)
}
func (f *fakeLessons) LessonEnv(id string) (lesson.Env, error) {
	return lesson.Env{Upper: f.upper, Lower: []string{f.lower}}, nil
}
func (f *fakeLessons) EndLesson(id string) error {
	f.calls = append(f.calls, "end "+id)
	return nil
}

var _ LessonSource = (*fakeLessons)(nil)

// newLearnTest opens the UI on the fixture lesson (learn files), w×h,
// with its container's shell attached, at the clock's time *now.
func newLearnTest(t *testing.T, w, h int, now *time.Time) (Model, *fakeLessons) {
	t.Helper()
	fl := newFakeLessons(t)
	fc := &fakeContainers{pty: newFakePty("# ")}
	src := Sources{Images: &fakeImages{}, Mounts: fakeMounts{}, Lessons: fl}
	src.SetContainers(fc)
	m := New(src, Options{Dark: true, Lesson: "files"})
	m.now = func() time.Time { return *now }
	m = send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = runQuick(t, m, listLessons(fl, "files"))
	return m, fl
}

// tick gives the lesson view its second's tick, and what it starts.
func tick(t *testing.T, m Model) Model {
	t.Helper()
	next, cmd := m.Update(lessonTickMsg{m.learn.gen})
	m = next.(Model)
	// The tick re-arms itself: run only the evaluation it started.
	if b, ok := cmd().(tea.BatchMsg); ok && b[0] != nil {
		next, cmd := m.Update(b[0]())
		m = next.(Model)
		m = runQuick(t, m, cmd)
	}
	return m
}

func fKey(code rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: code} }

// TestLessonView walks through the fixture lesson: its checks red, a wrong
// file leaving one red with what is there, the hint once due, the right
// file turning the step green and moving on, a new container sending the
// lesson back to its first step, except for a step that asks for one.
func TestLessonView(t *testing.T) {
	now := t0
	m, fl := newLearnTest(t, 120, 40, &now)
	if m.learn == nil || m.learn.l == nil || m.detail == nil {
		t.Fatalf("learn files did not open the lesson on a container: %+v", m.learn)
	}
	if !slices.Equal(fl.calls, []string{"start files fresh=true"}) {
		t.Errorf("calls %q; want the lesson's container made fresh", fl.calls)
	}
	uitest.Golden(t, "lesson_start", m.render())

	// A wrong file: one check holds, one does not, and says what is there.
	if err := os.WriteFile(filepath.Join(fl.upper, "hello.txt"), []byte("bye\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	now = now.Add(31 * time.Second)
	m = tick(t, m)
	if m.learn.step != 0 {
		t.Fatalf("a wrong file finished the step")
	}
	uitest.Golden(t, "lesson_wrong_hint", m.render())

	if err := os.WriteFile(filepath.Join(fl.upper, "hello.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m = tick(t, m)
	if m.learn.step != 1 || !m.learn.done[0] {
		t.Fatalf("the right file did not finish the step: step %d, done %v", m.learn.step, m.learn.done)
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "step 2 of 3") || !strings.Contains(s, "✓▸· Make another") {
		t.Errorf("the panel does not show step 2:\n%s", s)
	}

	// F5 from the shell: a new container, back to step 1.
	if !m.detail.shellFocused() {
		t.Fatal("the lesson's shell does not have the keys")
	}
	next, cmd := m.Update(fKey(tea.KeyF5))
	m = runQuick(t, next.(Model), cmd)
	if m.learn.step != 0 || m.learn.done[0] || fl.calls[len(fl.calls)-1] != "start files fresh=false" {
		t.Errorf("F5: step %d, done %v, calls %q; want a new container and step 1", m.learn.step, m.learn.done, fl.calls)
	}

	// A step that asks for a new container keeps its place, and F5 is
	// what finishes it.
	m = send(t, m, fKey(tea.KeyF8))
	m = send(t, m, fKey(tea.KeyF8))
	if m.learn.step != 2 {
		t.Fatalf("F8 twice: step %d; want 2", m.learn.step)
	}
	next, cmd = m.Update(fKey(tea.KeyF5))
	m = runQuick(t, next.(Model), cmd)
	if m.learn.step != 3 {
		t.Errorf("a new container did not finish the step asking for one: step %d", m.learn.step)
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "All 3 steps done.") {
		t.Errorf("the end of the lesson is not shown:\n%s", s)
	}

	// esc goes to the shell while it has the keys; from the trees it
	// leaves the lesson and removes its container.
	m = press(t, m, "esc")
	if m.learn.l == nil {
		t.Fatal("esc in the shell left the lesson")
	}
	m = press(t, m, "ctrl+g", "esc")
	if m.learn == nil || m.learn.l != nil || m.detail != nil {
		t.Fatal("esc from the trees did not go back to the list of lessons")
	}
	if fl.calls[len(fl.calls)-1] != "end 1e550n0123456789" {
		t.Errorf("calls %q; want the container removed", fl.calls)
	}
	uitest.Golden(t, "lesson_list", m.render())
	m = press(t, m, "esc")
	if m.learn != nil {
		t.Error("esc on the list did not go home")
	}
}

// TestLessonSmall draws a lesson at 80×24, where the instruction is cut
// before the checks are.
func TestLessonSmall(t *testing.T) {
	now := t0
	m, _ := newLearnTest(t, 80, 24, &now)
	got := m.render()
	uitest.Golden(t, "lesson_80x24", got)
	if lines := strings.Split(got, "\n"); len(lines) != 24 {
		t.Errorf("%d lines; want 24", len(lines))
	}
	if !strings.Contains(ansi.Strip(got), "upper contains /hello.txt hello") {
		t.Errorf("the checks do not fit at 80×24:\n%s", ansi.Strip(got))
	}
}

// TestLearnFromHome opens the list from the home screen and starts the
// lesson under the cursor; without a lesson source the key does nothing.
func TestLearnFromHome(t *testing.T) {
	m, _, _ := newTest(t, 120, 40, false)
	if m = press(t, m, "T"); m.learn != nil {
		t.Fatal("T opened lessons without a lesson source")
	}
	fl := newFakeLessons(t)
	src := Sources{Images: &fakeImages{}, Mounts: fakeMounts{}, Lessons: fl}
	src.SetContainers(&fakeContainers{pty: newFakePty("# ")})
	m = New(src, Options{Dark: true})
	m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	if s := ansi.Strip(m.render()); !strings.Contains(s, "T lessons") {
		t.Errorf("the home footer does not offer the lessons:\n%s", s)
	}
	m = press(t, m, "T")
	if m.learn == nil || len(m.learn.list) != 1 {
		t.Fatalf("T did not list the lessons: %+v", m.learn)
	}
	m = press(t, m, "enter")
	if m.learn.l == nil || m.detail == nil || !slices.Equal(fl.calls, []string{"start files fresh=true"}) {
		t.Errorf("enter did not start the lesson: calls %q", fl.calls)
	}
	if ls := m.WaitLessons(); len(ls) != 1 || ls[0].Name != "files" {
		t.Errorf("WaitLessons = %v; want the lesson started", ls)
	}
}
