package ui

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/dialog"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
)

// The build's dialogs.
const (
	askBuild       = "build"
	askCancelBuild = "cancel-build"
	askQuitBuild   = "quit-build"
)

// buildForm asks for a build's context directory, Dockerfile and tag.
func (m Model) buildForm() Model {
	if m.src.Builder == nil {
		m.status = "build: " + orWhy(m.src.NoRun, "not available here")
		return m
	}
	m.dialog = dialog.Form(m.th, m.keys, askBuild, "Build from a Dockerfile", "Each step a layer, each cached; the RUN steps' layers form live.", []dialog.Field{
		{Label: "context", Hint: "/path/to/context"},
		{Label: "file", Hint: "CONTEXT/Dockerfile"},
		{Label: "tag", Hint: "NAME[:TAG], comma separated"},
	})
	return m
}

// buildSpec reads the build form.
func buildSpec(v []string) (BuildSpec, error) {
	s := BuildSpec{Context: strings.TrimSpace(v[0]), Dockerfile: strings.TrimSpace(v[1])}
	if s.Context == "" {
		return s, errors.New("build: want a context directory")
	}
	for _, t := range strings.FieldsFunc(v[2], func(r rune) bool { return r == ',' || r == ' ' }) {
		s.Tags = append(s.Tags, t)
	}
	return s, nil
}

// startBuild opens the build view and starts the build.
func (m Model) startBuild(spec BuildSpec) (Model, tea.Cmd) {
	if m.src.Builder == nil {
		m.status = "build: " + orWhy(m.src.NoRun, "not available here")
		return m, nil
	}
	if m.detail != nil {
		m.detail.close()
		m.detail = nil
	}
	if m.build != nil {
		m.build.close()
	}
	b := newBuildView(spec, m.now())
	b = b.resize(m.width, max(m.height-2, 3))
	m.build, m.lastRun = &b, b.run
	return m, tea.Batch(b.run.start(m.src.Builder, spec), b.run.tick())
}

// buildMsg takes the build's messages; ok is false for any other.
func (m Model) buildMsg(msg tea.Msg) (Model, tea.Cmd, bool) {
	if s, ok := msg.(buildStartMsg); ok {
		m, cmd := m.startBuild(s.spec)
		return m, cmd, true
	}
	b := m.build
	switch msg := msg.(type) {
	case buildEventsMsg:
		if b == nil || msg.run != b.run {
			return m, nil, true
		}
		return m.buildEvents(msg)
	case buildTickMsg:
		if b == nil || msg.run != b.run || b.ended {
			return m, nil, true
		}
		nb := *b
		nb.now = msg.at
		m.build = &nb
		return m, nb.run.tick(), true
	case buildStackMsg:
		if b == nil || msg.run != b.run {
			return m, nil, true
		}
		m, cmd := m.buildStack(msg)
		return m, cmd, true
	case buildWatchMsg:
		if b == nil || msg.run != b.run || msg.id != b.live.id || b.live.gone {
			return m, nil, true
		}
		nb := *b
		if msg.err != nil {
			nb.live.note = "watch: " + human.Line(msg.err.Error())
		}
		nb.live.ch = msg.ch
		m.build = &nb
		return m, layers.WaitEvents(msg.ch), true
	case layers.EventsMsg:
		if b == nil || msg.Ch == nil || msg.Ch != b.live.ch {
			return m, nil, false
		}
		nb := *b
		var cmd tea.Cmd
		nb.live.view, cmd = nb.live.view.Update(msg)
		m.build = &nb
		return m, cmd, true
	}
	return m, nil, false
}

// buildEvents applies a batch of events, follows a RUN step's container
// when one starts, and takes the build's end.
func (m Model) buildEvents(msg buildEventsMsg) (Model, tea.Cmd, bool) {
	b := *m.build
	now, total := m.now(), b.total
	var cmds []tea.Cmd
	for _, ev := range msg.evs {
		b.apply(ev, now)
		switch {
		case ev.Container != "" && ev.Container != b.live.id:
			b.endLive()
			b.live = liveStep{step: ev.Step, id: ev.Container, view: b.live.view, shown: b.live.shown}
			if m.src.ContainerStacks != nil {
				cmds = append(cmds, readBuildStack(b.run, m.src.ContainerStacks, ev.Container))
			}
		case ev.Output == nil && ev.Step == b.live.step && ev.State != BuildRunning:
			b.endLive()
		}
	}
	if b.total != total {
		b = b.resize(b.width, b.height) // the steps box fits the steps
	}
	if !msg.end {
		m.build = &b
		return m, tea.Batch(append(cmds, b.run.next())...), true
	}
	b.ended, b.err, b.now = true, msg.err, now
	b.endLive()
	switch {
	case msg.err == nil:
		b.image = &msg.img
		m.status = "built " + msg.img.ShortID
	case b.cancelling:
		m.status = "build cancelled"
	case strings.HasPrefix(msg.err.Error(), "build"):
		m.status = "error: " + msg.err.Error()
	default:
		m.status = "error: build: " + msg.err.Error()
	}
	m.build = &b
	cmds = append(cmds, loadImages(m.src.Images), loadContainers(m.src.ContainerList))
	if b.quitAfter {
		cmds = append(cmds, m.quit())
	}
	return m, tea.Batch(cmds...), true
}

// buildStack shows the layers of the RUN step's container, and follows
// its upper directory while the step runs. A container already removed
// leaves the view as it was, saying so.
func (m Model) buildStack(msg buildStackMsg) (Model, tea.Cmd) {
	b := *m.build
	if msg.id != b.live.id {
		return m, nil
	}
	if msg.err != nil {
		b.live.note = "its container ended before it could be read"
		m.build = &b
		return m, nil
	}
	b.live.view = layers.New(m.th, m.keys, msg.stack)
	b.live.shown, b.live.note = true, ""
	b = b.resize(b.width, b.height)
	var cmd tea.Cmd
	if !b.live.gone && m.src.ContainerStacks != nil {
		ctx, stop := context.WithCancel(b.run.gone)
		b.live.stop = stop
		cmd = watchBuild(ctx, b.run, m.src.ContainerStacks, b.live.id)
	}
	m.build = &b
	return m, cmd
}

// buildKey handles the build view's keys: the steps (move, open a step's
// image), the layer view when it has the focus, esc to cancel or leave.
func (m Model) buildKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	b := *m.build
	var cmd tea.Cmd
	switch {
	case b.takesKeys(), b.focusLive && key.Matches(msg, k.Back) && b.live.view.UsesBack():
		b.live.view, cmd = b.live.view.Update(msg)
	case key.Matches(msg, k.Back):
		return m.leaveBuild(askCancelBuild, "Cancel the build", "Stop the build? The running step's container is killed; the steps done stay in the cache.")
	case key.Matches(msg, k.Quit):
		return m.leaveBuild(askQuitBuild, "Quit", "Cancel the build and quit?")
	case key.Matches(msg, k.NextPane, k.PrevPane):
		b = b.switchFocus(msg, k)
	case b.focusLive:
		b.live.view, cmd = b.live.view.Update(msg)
	case key.Matches(msg, k.Up):
		b.moveSel(-1)
	case key.Matches(msg, k.Down):
		b.moveSel(1)
	case key.Matches(msg, k.Top):
		b.moveSel(-len(b.steps))
	case key.Matches(msg, k.Bottom):
		b.moveSel(len(b.steps))
	case key.Matches(msg, k.Enter):
		if s, ok := b.selected(); ok && s.image != nil && s.stack != nil {
			return m.openImage(*s.image, s.stack)
		}
	}
	m.build = &b
	return m, cmd
}

// switchFocus moves the focus between the steps and the layer view's
// panes: tab goes steps, lower, upper, merged, steps; shift+tab back.
func (b buildView) switchFocus(msg tea.KeyPressMsg, k keys.Map) buildView {
	if !b.live.shown {
		return b
	}
	next := key.Matches(msg, k.NextPane)
	switch {
	case !b.focusLive:
		b.focusLive = true
		return b
	case next && b.live.view.SelectedPane() == "merged", !next && b.live.view.SelectedPane() == "lower":
		b.focusLive = false
		return b
	}
	b.live.view, _ = b.live.view.Update(msg)
	return b
}

// leaveBuild asks before cancelling a build under way; an ended build's
// view closes on esc, and q quits.
func (m Model) leaveBuild(id, title, question string) (Model, tea.Cmd) {
	b := m.build
	switch {
	case !b.ended && b.cancelling:
		m.status = "the build is stopping"
		return m, nil
	case !b.ended:
		m.dialog = dialog.Confirm(m.th, m.keys, id, title, question)
		return m, nil
	case id == askQuitBuild:
		return m, m.quit()
	}
	b.close()
	m.build = nil
	return m, tea.Batch(loadImages(m.src.Images), loadContainers(m.src.ContainerList))
}

// buildAnswer acts on the build's dialogs.
func (m Model) buildAnswer(what string, values []string) (Model, tea.Cmd) {
	switch what {
	case askBuild:
		spec, err := buildSpec(values)
		if err != nil {
			m.status = "error: " + err.Error()
			return m, nil
		}
		return m.startBuild(spec)
	case askCancelBuild, askQuitBuild:
		if m.build == nil || m.build.ended {
			if what == askQuitBuild {
				return m, m.quit()
			}
			return m, nil
		}
		b := *m.build
		b.run.cancel()
		b.cancelling = true
		b.quitAfter = b.quitAfter || what == askQuitBuild
		m.build = &b
		m.status = "stopping the build"
	}
	return m, nil
}

// interruptBuild is ctrl+c during a build: the build is cancelled and the
// program quits once it has stopped, its container removed.
func (m Model) interruptBuild() (Model, tea.Cmd) {
	b := *m.build
	b.run.cancel()
	b.cancelling, b.quitAfter = true, true
	m.build = &b
	m.status = "stopping the build"
	return m, nil
}

// buildMouse selects a step or hands the pointer to the layer view.
func (m Model) buildMouse(msg tea.MouseMsg) (Model, tea.Cmd) {
	b := *m.build
	ms := msg.Mouse()
	top := b.topHeight()
	var cmd tea.Cmd
	switch liveY := ms.Y - 1 - top - 1; {
	case liveY >= 0 && b.live.shown:
		b.focusLive = true
		ms.Y = liveY
		b.live.view, cmd = b.live.view.Update(translate(msg, ms))
	case ms.Y >= 2 && ms.Y < top && ms.X < b.stepsWidth():
		b.focusLive = false
		switch msg := msg.(type) {
		case tea.MouseClickMsg:
			b.moveSel(b.firstShown() + ms.Y - 2 - b.sel)
		case tea.MouseWheelMsg:
			if msg.Button == tea.MouseWheelUp {
				b.moveSel(-1)
			} else {
				b.moveSel(1)
			}
		}
	}
	m.build = &b
	return m, cmd
}
