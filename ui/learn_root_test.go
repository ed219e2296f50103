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
)

const rootsFixture = "# Roots\n\n```lesson\nimage: learn\n```\n\n" +
	"## Under pivot_root\n\nThe host knows PID 1 as {{host-pid}}.\n\n```check\nupper file /one\n```\n" +
	"```hint\nLook for {{host-pid}} in the host's ps.\n```\n" +
	"## Under chroot\n\n```container\nroot: chroot\n```\n```check\nupper file /two\n```\n" +
	"## Under pivot_root again\n\n```check\nupper file /three\n```\n"

// rootLessons is fakeLessons on the roots fixture, noting how each
// container it makes enters its root, with a PID per container.
type rootLessons struct {
	*fakeLessons
	pid int
}

func (f *rootLessons) StartLesson(ctx context.Context, l *lesson.Lesson, fresh bool) (string, error) {
	f.pid++
	id, err := f.fakeLessons.StartLesson(ctx, l, fresh)
	f.calls[len(f.calls)-1] += " root=" + l.Root
	return id, err
}

func (f *rootLessons) LessonEnv(id string) (lesson.Env, error) {
	env, err := f.fakeLessons.LessonEnv(id)
	env.Pid = 4240 + f.pid
	return env, err
}

// TestLessonFollowsStepRoot walks through a lesson whose second step runs
// on a container made with chroot(2): finishing the first step makes that
// container, going back makes one by pivot_root(2) again, and the panel
// fills {{host-pid}} with the PID of the container there is.
func TestLessonFollowsStepRoot(t *testing.T) {
	now := t0
	l, err := lesson.Parse("10-roots.md", []byte(rootsFixture))
	if err != nil {
		t.Fatal(err)
	}
	fl := &rootLessons{fakeLessons: newFakeLessons(t)}
	fl.l = l
	src := Sources{Images: &fakeImages{}, Mounts: fakeMounts{}, Lessons: fl}
	src.SetContainers(&fakeContainers{pty: newFakePty("# ")})
	m := New(src, Options{Dark: true, Lesson: "roots"})
	m.now = func() time.Time { return now }
	m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40})
	m = runQuick(t, m, listLessons(fl, "roots"))
	starts := []string{"start roots fresh=true root="}
	if !slices.Equal(fl.calls, starts) {
		t.Fatalf("calls %q; want %q", fl.calls, starts)
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "The host knows PID 1 as 4241.") || strings.Contains(s, "root by") {
		t.Errorf("the panel does not fill {{host-pid}}, or names a root for pivot_root:\n%s", s)
	}
	m = press(t, m, "f6")
	if s := ansi.Strip(m.render()); !strings.Contains(s, "Look for 4241 in the host's ps.") {
		t.Errorf("the hint does not fill {{host-pid}}:\n%s", s)
	}

	if err := os.WriteFile(filepath.Join(fl.upper, "one"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m = tick(t, m)
	starts = append(starts, "start roots fresh=false root=chroot")
	if m.learn.step != 1 || !slices.Equal(fl.calls, starts) {
		t.Fatalf("step %d, calls %q; want step 2 on a new container made with chroot", m.learn.step, fl.calls)
	}
	if s := ansi.Strip(m.render()); !strings.Contains(s, "root by chroot(2)") {
		t.Errorf("the panel does not say the container enters its root by chroot(2):\n%s", s)
	}

	// F8 and F7: the third step, then the second, each on its own.
	for _, k := range []rune{tea.KeyF8, tea.KeyF7} {
		next, cmd := m.Update(fKey(k))
		m = runQuick(t, next.(Model), cmd)
	}
	starts = append(starts, "start roots fresh=false root=", "start roots fresh=false root=chroot")
	if m.learn.step != 1 || !slices.Equal(fl.calls, starts) {
		t.Errorf("F8, F7: step %d, calls %q; want %q", m.learn.step, fl.calls, starts)
	}
	if got := fmt.Sprint(m.learn.env.Pid); got != "4244" {
		t.Errorf("the env's PID %s; want the last container's, 4244", got)
	}

	// F7 while the container F8 asked for is being made: once made, it is
	// not the step's, and the step gets its own.
	next, made := m.Update(fKey(tea.KeyF8))
	next, _ = next.(Model).Update(fKey(tea.KeyF7))
	m = runQuick(t, next.(Model), made)
	starts = append(starts, "start roots fresh=false root=", "start roots fresh=false root=chroot")
	if m.learn.step != 1 || m.learn.root != "chroot" || !slices.Equal(fl.calls, starts) {
		t.Errorf("F8, F7 at once: step %d, root %q, calls %q; want %q", m.learn.step, m.learn.root, fl.calls, starts)
	}
}
