package ui

import (
	"context"
	"strings"
	"time"

	"minidocker/ui/layers"
	"minidocker/ui/tree"
)

// buildView is a build under way or ended: its steps with their state and
// time, the output of the step that runs, and the lower, upper and merged
// panes of its RUN step's container — live while the container runs, and
// kept as last seen once the step ends and the container is removed.
type buildView struct {
	run   *buildRun
	spec  BuildSpec
	steps []buildStep
	total int
	sel   int
	// follow keeps the selection on the newest step until the user moves
	// it elsewhere.
	follow    bool
	focusLive bool // the keys go to the layer view, not the steps

	tail     []string // the output's last lines
	part     string   // its unfinished last line
	tailStep int      // the step the output is of

	start, now time.Time // the clock at the start and at the last event or tick
	ended      bool
	err        error
	image      *Image // the image built
	cancelling bool
	quitAfter  bool // the program quits once the build has stopped

	live liveStep

	width, height int
}

type buildStep struct {
	text    string
	state   BuildState
	started time.Time
	elapsed time.Duration
	image   *Image
	stack   func() (layers.Stack, error)
}

// liveStep is the layer view of a RUN step's container.
type liveStep struct {
	step  int    // the step, from 1; 0 before the first RUN
	id    string // its container
	view  layers.Model
	shown bool   // view holds a stack
	gone  bool   // the step ended: the container is removed
	note  string // why the view is not what it should be, one line
	stop  context.CancelFunc
	ch    <-chan []tree.Node
}

// tailKeep is how many lines of output the view keeps.
const tailKeep = 200

func newBuildView(spec BuildSpec, now time.Time) buildView {
	return buildView{run: newBuildRun(), spec: spec, follow: true, start: now, now: now}
}

// apply takes one event.
func (b *buildView) apply(ev BuildEvent, now time.Time) {
	b.now = now
	if ev.Total > 0 {
		b.total = ev.Total
	}
	if ev.Step <= 0 {
		return
	}
	for len(b.steps) < ev.Step {
		b.steps = append(b.steps, buildStep{})
	}
	if ev.Output != nil {
		if ev.Step != b.tailStep {
			b.tail, b.part, b.tailStep = nil, "", ev.Step
		}
		b.output(ev.Output)
		return
	}
	s := &b.steps[ev.Step-1]
	if ev.Text != "" {
		s.text = ev.Text
	}
	if ev.State == BuildRunning && s.started.IsZero() {
		s.started = now
		// A step that had no end of its own (a global ARG) ended when
		// the next began.
		for i := range b.steps[:ev.Step-1] {
			if b.steps[i].state == BuildRunning {
				b.steps[i].state = BuildDone
			}
		}
	}
	s.state = ev.State
	if ev.State != BuildRunning {
		s.elapsed = ev.Elapsed
	}
	if ev.Image != nil {
		s.image, s.stack = ev.Image, ev.Stack
	}
	if b.follow {
		b.sel = len(b.steps) - 1
	}
}

// output keeps the last lines of a step's output.
func (b *buildView) output(p []byte) {
	lines := strings.Split(b.part+strings.ReplaceAll(string(p), "\r\n", "\n"), "\n")
	b.part = lines[len(lines)-1]
	b.tail = append(b.tail, lines[:len(lines)-1]...)
	if len(b.tail) > tailKeep {
		b.tail = append([]string(nil), b.tail[len(b.tail)-tailKeep:]...)
	}
}

// endLive marks the container of the live view removed and stops
// following it; the view stays as last seen.
func (b *buildView) endLive() {
	if b.live.id == "" || b.live.gone {
		return
	}
	if b.live.stop != nil {
		b.live.stop()
	}
	b.live.gone, b.live.stop, b.live.ch = true, nil, nil
}

// elapsed is the time of step s: its own once ended, the clock's while it
// runs.
func (b *buildView) elapsed(s buildStep) time.Duration {
	if s.state == BuildRunning && !s.started.IsZero() && !b.ended {
		return max(b.now.Sub(s.started), 0)
	}
	return s.elapsed
}

// selected returns the selected step, if any.
func (b *buildView) selected() (buildStep, bool) {
	if b.sel < 0 || b.sel >= len(b.steps) {
		return buildStep{}, false
	}
	return b.steps[b.sel], true
}

// moveSel moves the selection d steps; it follows the newest step again
// when it reaches it.
func (b *buildView) moveSel(d int) {
	if len(b.steps) == 0 {
		return
	}
	b.sel = max(min(b.sel+d, len(b.steps)-1), 0)
	b.follow = b.sel == len(b.steps)-1
}

// takesKeys reports whether every key goes to the layer view's filter.
func (b *buildView) takesKeys() bool {
	return b.focusLive && b.live.shown && b.live.view.Filtering()
}

// close stops following the live container.
func (b *buildView) close() {
	if b.live.stop != nil {
		b.live.stop()
	}
}
