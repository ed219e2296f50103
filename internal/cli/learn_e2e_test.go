package cli

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"minidocker/internal/app"
	"minidocker/internal/lesson"
)

// TestLearnEndToEnd runs every lesson the binary carries in its real UI,
// in tmux, on a real container: for each step it types the step's wrong
// commands (or presses its wrong keys) and checks that the step stays
// undone (a check still red), then the solution, and waits for the step's
// checks to turn green (the panel moves to the next step). It logs the time from the solution's Enter to
// the screen showing the step done (the figure: under 300 ms at
// the 95th percentile). Quitting removes the lesson's container.
func TestLearnEndToEnd(t *testing.T) {
	e := newE2E(t)
	ls, err := app.New(e.root).Lessons()
	if err != nil {
		t.Fatal(err)
	}
	var lat, resets []time.Duration
	for _, l := range ls {
		t.Run(l.Name, func(t *testing.T) {
			e.t = t
			cmds, rs := e.runLesson(l)
			lat, resets = append(lat, cmds...), append(resets, rs...)
		})
	}
	e.t = t
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[min(int(q*float64(len(lat))), len(lat)-1)] }
	t.Logf("command to green, %d steps: p50 %v, p95 %v, max %v; new container (F5) to green: %v", len(lat), p(0.5), p(0.95), lat[len(lat)-1], resets)
}

// runLesson opens lesson l in the UI and does its steps; it returns how
// long each step's checks took to turn green after its command, and after
// a new container for the steps that ask for one.
func (e *e2e) runLesson(l *lesson.Lesson) (lat, resets []time.Duration) {
	t := e.t
	e.open(fmt.Sprintf("%s --root %s learn %s", e.bin, e.root, l.Name))
	// The first lesson builds the lessons' image.
	e.waitForWithin(fmt.Sprintf("lesson %s · step 1 of %d", l.Name, len(l.Steps)), time.Minute)
	e.waitForWithin("ctrl+g to leave", time.Minute)
	e.keys("Enter")
	e.waitFor("#")
	e.siblings(l)
	for i, s := range l.Steps {
		at := fmt.Sprintf("lesson %s · step %d of %d", l.Name, i+1, len(l.Steps))
		e.waitFor(at)
		if i > 0 && s.Root != l.Steps[i-1].Root {
			// The step runs on a container of its own, made as it began.
			e.waitForWithin("ctrl+g to leave", 20*time.Second)
			e.keys("Enter")
		}
		if keysStep(s) {
			// Keys for the layer view: the shell does not have them, so
			// nothing echoes; the checks were evaluated after each key.
			for _, c := range s.Wrong {
				e.lessonLine(c)
			}
		} else {
			for _, c := range s.Wrong {
				e.typeLine(c)
			}
			e.typeLine(fmt.Sprintf("echo wrong-%d-$((%d*7))", i, i+1))
			e.waitFor(fmt.Sprintf("wrong-%d-%d", i, (i+1)*7))
		}
		// More than a tick: the checks were evaluated after the commands.
		time.Sleep(LessonSettle)
		screen := e.tm("capture-pane", "-p", "-t", "ui")
		if !strings.Contains(screen, at) || !strings.Contains(screen, "✗ ") {
			t.Errorf("step %q is done after the wrong commands %q:\n%s", s.Title, s.Wrong, screen)
		}
		next := fmt.Sprintf("lesson %s · step %d of %d", l.Name, i+2, len(l.Steps))
		if i == len(l.Steps)-1 {
			next = fmt.Sprintf("All %d steps done", len(l.Steps))
		}
		start := time.Now()
		for _, c := range s.Solution {
			start = e.lessonLine(c)
		}
		took := e.pollFor(next, 20*time.Second).Sub(start)
		if s.Solution[len(s.Solution)-1] != "@reset" {
			lat = append(lat, took)
			continue
		}
		resets = append(resets, took)
		e.waitForWithin("ctrl+g to leave", 20*time.Second)
		e.keys("Enter")
	}
	// q quits from the trees; the shell takes it as a letter.
	if !strings.Contains(e.tm("capture-pane", "-p", "-t", "ui"), "q quit") {
		e.keys("C-g")
	}
	e.keys("q")
	e.waitGone("q did not quit the lesson")
	if out := e.md("ps", "-a"); strings.Contains(out, "learn-") {
		t.Errorf("the lesson's container is left after quitting:\n%s", out)
	}
	t.Logf("%s: command to green %v", l.Name, lat)
	return lat, resets
}

// keysStep reports whether step s is done in the layer view: its wrong
// lines are keys.
func keysStep(s lesson.Step) bool {
	return slices.ContainsFunc(s.Wrong, func(c string) bool { return strings.HasPrefix(c, "@keys ") })
}

// lessonLine does one line of a solution or a wrong block: "@reset"
// presses the key that makes the container again, "@keys K…" presses
// keys (tmux's names), anything else is typed into the shell. It returns
// when the last key was sent.
func (e *e2e) lessonLine(c string) time.Time {
	e.t.Helper()
	switch {
	case c == "@reset":
		e.keys("F5")
	case strings.HasPrefix(c, "@keys "):
		e.keys(strings.Fields(c)[1:]...)
	default:
		return e.typeLine(c)
	}
	return time.Now()
}

// siblings checks that the containers lesson l starts beside the
// student's run.
func (e *e2e) siblings(l *lesson.Lesson) {
	e.t.Helper()
	out := e.md("ps")
	for i := 2; i <= l.Containers; i++ {
		if name := app.LessonSibling(l, i); !strings.Contains(out, name) {
			e.t.Errorf("lesson %s: container %s is not running:\n%s", l.Name, name, out)
		}
	}
}

// LessonSettle is how long the test waits after wrong commands before it
// looks at the checks: more than a tick of the lesson view (one second).
const LessonSettle = 1300 * time.Millisecond

// typeLine types a command into the shell literally, gives the UI the
// time to echo it (tmux types faster than anyone, and the time to green
// is counted from Enter), then presses Enter; it returns when Enter was
// sent.
func (e *e2e) typeLine(c string) time.Time {
	e.t.Helper()
	e.tm("send-keys", "-t", "ui", "-l", c)
	time.Sleep(typed)
	e.tm("send-keys", "-t", "ui", "Enter")
	return time.Now()
}

// typed is how long typeLine waits between a command and its Enter.
const typed = 300 * time.Millisecond

// pollFor looks at the screen every few milliseconds until it shows want,
// and returns when it did.
func (e *e2e) pollFor(want string, within time.Duration) time.Time {
	e.t.Helper()
	deadline := time.Now().Add(within)
	var screen string
	for time.Now().Before(deadline) {
		out, err := exec.Command(e.tmux, "-L", e.sock, "capture-pane", "-p", "-t", "ui").Output()
		now := time.Now()
		screen = string(out)
		if err == nil && strings.Contains(screen, want) {
			return now
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("the screen never showed %q:\n%s", want, screen)
	return time.Time{}
}

// waitForWithin is waitFor with a longer wait, for a build.
func (e *e2e) waitForWithin(want string, within time.Duration) string {
	e.t.Helper()
	deadline := time.Now().Add(within)
	var screen string
	for time.Now().Before(deadline) {
		screen = e.tm("capture-pane", "-p", "-t", "ui")
		if strings.Contains(screen, want) {
			return screen
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("the screen never showed %q:\n%s", want, screen)
	return ""
}
