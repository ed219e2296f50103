package ui

import (
	"context"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"minidocker/ui/layers"
	"minidocker/ui/tree"
)

// Messages of a build under way. Each names its run, so that the
// messages of a build no longer shown are dropped.
type (
	// buildStartMsg starts a build (build --ui, once the program runs).
	buildStartMsg struct{ spec BuildSpec }
	// buildEventsMsg is the events that came since the last, and the
	// build's end when it came.
	buildEventsMsg struct {
		run *buildRun
		evs []BuildEvent
		end bool
		img Image
		err error
	}
	buildTickMsg struct {
		run *buildRun
		at  time.Time
	}
	// buildStackMsg is the layers of a RUN step's container.
	buildStackMsg struct {
		run   *buildRun
		id    string
		stack layers.Stack
		err   error
	}
	buildWatchMsg struct {
		run *buildRun
		id  string
		ch  <-chan []tree.Node
		err error
	}
)

// buildRun is one build on its goroutine, its events carried to the
// program by a channel that a command waits on and re-arms.
type buildRun struct {
	ch     chan buildItem
	ctx    context.Context // the build's: cancel stops it
	cancel context.CancelFunc
	// gone ends when the program no longer reads the events: the
	// build's goroutine then stops waiting to hand them over.
	gone context.Context
	drop context.CancelFunc

	mu               sync.Mutex
	started, dropped bool
	finished         chan struct{}
	err              error // the build's, once finished is closed
}

// buildItem is an event, or the end of the build.
type buildItem struct {
	ev  BuildEvent
	end bool
	img Image
	err error
}

// maxBatch is the most events one message carries: a RUN step's output
// comes in many small pieces, drawn once a frame.
const maxBatch = 512

func newBuildRun() *buildRun {
	r := &buildRun{ch: make(chan buildItem, 64), finished: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.gone, r.drop = context.WithCancel(context.Background())
	return r
}

// start runs the build on its own goroutine and waits for its first
// events; a run stopped before the command runs never starts.
func (r *buildRun) start(b Builder, spec BuildSpec) tea.Cmd {
	return func() tea.Msg {
		r.mu.Lock()
		if r.dropped {
			r.mu.Unlock()
			return nil
		}
		r.started = true
		r.mu.Unlock()
		go r.build(b, spec)
		return r.wait()
	}
}

func (r *buildRun) build(b Builder, spec BuildSpec) {
	defer close(r.finished)
	defer close(r.ch)
	img, err := b.Build(r.ctx, spec, func(ev BuildEvent) { r.put(buildItem{ev: ev}) })
	r.err = err
	r.put(buildItem{end: true, img: img, err: err})
}

// put hands an item to the program, unless the program is gone.
func (r *buildRun) put(it buildItem) {
	select {
	case r.ch <- it:
	case <-r.gone.Done():
	}
}

// next waits for the next events.
func (r *buildRun) next() tea.Cmd { return func() tea.Msg { return r.wait() } }

// wait takes the next item and whatever else is waiting, for one frame.
func (r *buildRun) wait() tea.Msg {
	it, ok := <-r.ch
	if !ok {
		return nil
	}
	msg := buildEventsMsg{run: r}
	for {
		if it.end {
			msg.end, msg.img, msg.err = true, it.img, it.err
			return msg
		}
		msg.evs = append(msg.evs, it.ev)
		if len(msg.evs) >= maxBatch {
			return msg
		}
		select {
		case it, ok = <-r.ch:
			if !ok {
				return msg
			}
		default:
			return msg
		}
	}
}

// stop cancels the build, stops handing its events over, and waits for
// its goroutine's end; it returns the build's error.
func (r *buildRun) stop() error {
	r.cancel()
	r.drop()
	r.mu.Lock()
	r.dropped = true
	started := r.started
	r.mu.Unlock()
	if !started {
		return nil
	}
	<-r.finished
	return r.err
}

// BuildTick is how often a running step's time is redrawn.
const BuildTick = time.Second

func (r *buildRun) tick() tea.Cmd {
	return tea.Tick(BuildTick, func(at time.Time) tea.Msg { return buildTickMsg{r, at} })
}

// readBuildStack reads the layers of the RUN step's container id.
func readBuildStack(r *buildRun, s StackWatcher, id string) tea.Cmd {
	return func() tea.Msg {
		st, err := s.ContainerStack(id)
		return buildStackMsg{r, id, st, err}
	}
}

// watchBuild follows the upper directory of the container id until ctx
// ends.
func watchBuild(ctx context.Context, r *buildRun, s StackWatcher, id string) tea.Cmd {
	return func() tea.Msg {
		ch, err := s.Watch(ctx, id)
		return buildWatchMsg{r, id, ch, err}
	}
}

// WaitBuild stops a build still under way and waits for its end: the
// program has quit, and the build's container must not outlive it. It
// returns the error of the last build started, nil when there was none
// or it succeeded.
func (m Model) WaitBuild() error {
	if m.lastRun == nil {
		return nil
	}
	return m.lastRun.stop()
}
