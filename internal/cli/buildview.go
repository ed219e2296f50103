package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"minidocker/internal/app"
	"minidocker/internal/human"
)

// buildView is build's live display on a terminal (--progress tty): one
// line per step with its state and time, and under the step that runs the
// last lines of its output, redrawn in place as BuildKit's display is.
type buildView struct {
	mu     sync.Mutex
	w      io.Writer
	width  int
	start  time.Time
	total  int
	steps  []viewStep
	tail   []string // the running step's last lines of output
	part   string   // its unfinished last line
	drawn  int      // lines drawn last time, to move back over
	drawAt time.Time
}

type viewStep struct {
	text    string
	state   app.StepState
	started time.Time
	elapsed time.Duration
}

// tailLines is how many lines of a running step's output stay on screen.
const tailLines = 6

func newBuildView(w io.Writer) *buildView {
	v := &buildView{w: w, width: 80, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if ws, err := terminalSize(int(f.Fd())); err == nil && ws.Cols > 0 {
			v.width = int(ws.Cols)
		}
	}
	return v
}

// event takes one step's progress and redraws, at most every 50 ms for
// output alone.
func (v *buildView) event(ev app.BuildEvent) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.total = ev.Total
	for len(v.steps) < ev.Step {
		v.steps = append(v.steps, viewStep{})
	}
	if ev.Step == 0 {
		return
	}
	s := &v.steps[ev.Step-1]
	if ev.Output != nil {
		v.output(ev.Output)
		if time.Since(v.drawAt) < 50*time.Millisecond {
			return
		}
	} else {
		if ev.Text != "" {
			s.text = ev.Text
		}
		if ev.State == app.StepRunning && s.started.IsZero() {
			s.started, v.tail, v.part = time.Now(), nil, ""
		}
		s.state = ev.State
		s.elapsed = ev.Elapsed
	}
	v.draw()
}

// output keeps the last lines of a step's output.
func (v *buildView) output(p []byte) {
	lines := strings.Split(v.part+string(p), "\n")
	v.part = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		v.tail = append(v.tail, l)
	}
	if len(v.tail) > tailLines {
		v.tail = v.tail[len(v.tail)-tailLines:]
	}
}

// finish draws the last state: the failed step's output stays on screen.
func (v *buildView) finish(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err == nil {
		v.tail, v.part = nil, ""
	}
	v.draw()
}

func (v *buildView) draw() {
	v.drawAt = time.Now()
	var b bytes.Buffer
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dF\x1b[J", v.drawn) // back to the first line drawn, and clear below
	}
	done := 0
	for _, s := range v.steps {
		if s.state == app.StepDone || s.state == app.StepCached {
			done++
		}
	}
	lines := []string{fmt.Sprintf("[+] Building %.1fs (%d/%d)", time.Since(v.start).Seconds(), done, v.total)}
	for i, s := range v.steps {
		if s.text == "" {
			continue
		}
		mark, t := "", s.elapsed
		switch s.state {
		case app.StepRunning:
			mark, t = " ...", time.Since(s.started)
		case app.StepCached:
			mark = " CACHED"
		case app.StepFailed:
			mark = " ERROR"
		}
		head := fmt.Sprintf(" => [%d/%d]%s ", i+1, v.total, mark)
		tm := fmt.Sprintf(" %.1fs", t.Seconds())
		lines = append(lines, head+human.Truncate(human.Line(s.text), v.width-len(head)-len(tm)-1)+tm)
		if s.state == app.StepRunning || s.state == app.StepFailed {
			tail := v.tail
			if v.part != "" {
				tail = append(append([]string(nil), tail...), v.part)
			}
			for _, l := range tail {
				lines = append(lines, "    > "+human.Truncate(human.Line(l), v.width-7))
			}
		}
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	v.drawn = len(lines)
	v.w.Write(b.Bytes())
}
