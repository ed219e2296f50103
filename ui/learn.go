package ui

import (
	"context"
	"slices"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/internal/lesson"
	"minidocker/ui/layers"
	"minidocker/ui/meter"
	"minidocker/ui/terminal"
)

// learnView is the guided lessons: their list, or one lesson under way on
// a container of its own, whose view (the shell, the upper and merged
// trees) is the opened item below the lesson's panel. A step's checks are
// evaluated on every change the layer view sees, on every output of the
// shell (the prompt is back: the command ended) and once a second.
type learnView struct {
	list []*lesson.Lesson
	pick int // the lesson under the list's cursor
	// open names the lesson to start once the list is read (learn NAME).
	open string

	l   *lesson.Lesson // the lesson under way; nil shows the list
	id  string         // its container, "" while it is made
	env lesson.Env
	// gen counts the lesson's containers: what an earlier one sends is
	// dropped.
	gen      int
	starting bool

	step      int
	done      []bool
	results   []lesson.Result
	stepStart time.Time
	now       time.Time
	hint      bool // shown before its time (LessonHint)
	// resets counts the containers made again; stepResets is the count
	// when the step began (a step may ask for a new container).
	resets, stepResets int
	// root is how the container there enters its root, as the step it
	// was made for says (lesson.Step.Root): a step that says otherwise
	// gets a container of its own (followStep).
	root string

	evaluating, again bool

	// layerView is the container's layer view as last seen on screen, for
	// the view checks; meter the disk meter under the panel, for a lesson
	// of several containers (learn_checks.go).
	layerView lesson.LayerView
	meter     meter.Model
}

// Messages of the lessons.
type (
	lessonListMsg struct {
		list []*lesson.Lesson
		open string
		err  error
	}
	lessonStartedMsg struct {
		gen int
		id  string
		env lesson.Env
		err error
	}
	lessonChecksMsg struct {
		gen, step int
		results   []lesson.Result
	}
	lessonTickMsg struct{ gen int }
)

// LessonTick is how often a step's checks are evaluated when nothing else
// says the container changed, and its hint's time looked at.
const LessonTick = time.Second

func listLessons(s LessonSource, open string) tea.Cmd {
	return func() tea.Msg {
		ls, err := s.Lessons()
		return lessonListMsg{ls, open, err}
	}
}

// lessonRuns are the lessons the UI made containers for, shared by every
// copy of the model: once the program has quit, its caller waits for the
// starts under way and removes the containers (WaitLessons).
type lessonRuns struct {
	mu      sync.Mutex
	wg      sync.WaitGroup
	lessons []*lesson.Lesson
}

// begin notes a start of l's container, which the command it returns ends.
func (r *lessonRuns) begin(l *lesson.Lesson) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wg.Add(1)
	if !slices.Contains(r.lessons, l) {
		r.lessons = append(r.lessons, l)
	}
}

func startLesson(s LessonSource, runs *lessonRuns, l *lesson.Lesson, step int, fresh bool, gen int) tea.Cmd {
	runs.begin(l)
	return func() tea.Msg {
		defer runs.wg.Done()
		id, err := s.StartLesson(context.Background(), l.ForStep(step), fresh)
		if err != nil {
			return lessonStartedMsg{gen: gen, id: id, err: err}
		}
		env, err := s.LessonEnv(id)
		return lessonStartedMsg{gen, id, env, err}
	}
}

func lessonTick(gen int) tea.Cmd {
	return tea.Tick(LessonTick, func(time.Time) tea.Msg { return lessonTickMsg{gen} })
}

// openLessons shows the list of lessons, and starts the lesson named open
// when it is not "".
func (m Model) openLessons(open string) (Model, tea.Cmd) {
	if m.src.Lessons == nil {
		m.status = m.src.NoRun
		return m, nil
	}
	m.learn = &learnView{open: open}
	return m, listLessons(m.src.Lessons, open)
}

// learnMsg takes the lessons' messages, and watches the opened item's
// changes and output for the lesson's checks.
func (m Model) learnMsg(msg tea.Msg) (Model, tea.Cmd, bool) {
	if m.learn == nil {
		return m, nil, false
	}
	v := *m.learn
	switch msg := msg.(type) {
	case lessonListMsg:
		v.list = msg.list
		m.learn = &v
		if msg.err != nil {
			m.status = "error: lessons: " + msg.err.Error()
			return m, nil, true
		}
		if msg.open == "" {
			return m, nil, true
		}
		l, ok := lesson.Find(msg.list, msg.open)
		if !ok {
			m.status = "error: no lesson " + human.Visible(msg.open)
			return m, nil, true
		}
		v.pick = slices.Index(msg.list, l)
		m2, cmd := m.beginLesson(l)
		return m2, cmd, true
	case lessonStartedMsg:
		m2, cmd := m.lessonStarted(msg)
		m2, cmd = m2.followStep(cmd)
		return m2, cmd, true
	case lessonChecksMsg:
		cmd := v.checked(msg, m.now())
		m.learn = &v
		m, cmd = m.followStep(cmd)
		return m, cmd, true
	case lessonTickMsg:
		if msg.gen != v.gen || v.l == nil {
			return m, nil, true
		}
		v.now, v.layerView = m.now(), m.lessonLayerView()
		cmd := v.evaluate()
		m.learn = &v
		return m, tea.Batch(cmd, lessonTick(v.gen)), true
	case layers.EventsMsg, terminal.OutputMsg:
		if v.l == nil || m.detail == nil {
			return m, nil, false
		}
		next, cmd := m.routeDetail(msg)
		m = next.(Model)
		v.now, v.layerView = m.now(), m.lessonLayerView()
		eval := v.evaluate()
		m.learn = &v
		return m, tea.Batch(cmd, eval), true
	case meter.ReadMsg:
		cmd, ok := v.meterRead(msg)
		m.learn = &v
		return m, cmd, ok
	}
	return m, nil, false
}

// beginLesson starts lesson l from its first step, on a new container.
func (m Model) beginLesson(l *lesson.Lesson) (Model, tea.Cmd) {
	v := *m.learn
	v.l, v.step, v.done, v.results, v.resets, v.stepResets = l, 0, make([]bool, len(l.Steps)), nil, 0, 0
	m.learn = &v
	return m.makeContainer(true)
}

// makeContainer makes the lesson's container (again): the opened item of
// the one before is closed.
func (m Model) makeContainer(fresh bool) (Model, tea.Cmd) {
	v := *m.learn
	if m.detail != nil {
		m.detail.close()
		m.detail = nil
	}
	v.gen++
	v.id, v.env, v.starting, v.evaluating, v.again = "", lesson.Env{}, true, false, false
	v.root = v.stepRoot()
	m.learn = &v
	what := "making the lesson's container"
	if fresh && v.l.Dockerfile != "" {
		what += " (its image is built the first time)"
	}
	return m.start(what+rootNote(v.root), startLesson(m.src.Lessons, m.runs, v.l, v.step, fresh, v.gen))
}

// lessonStarted opens the new container's view on its shell.
func (m Model) lessonStarted(msg lessonStartedMsg) (Model, tea.Cmd) {
	v := *m.learn
	if msg.gen != v.gen || v.l == nil {
		return m, nil // a container the student no longer waits for
	}
	m.busy = ""
	v.starting = false
	if msg.err != nil {
		m.learn = &v
		m.status = "error: " + msg.err.Error()
		return m, nil
	}
	v.id, v.env = msg.id, msg.env
	v.now = m.now()
	if v.stepStart.IsZero() || v.step == 0 {
		v.stepStart = v.now
	}
	m.learn = &v
	// The shell tab, on a shell started for the student: unlike the
	// container's own, whose prompt was printed before anyone attached,
	// it shows its prompt at once, and exit ends it, not the container.
	d := newDetail(m, kindContainer, msg.id, "learn-"+v.l.Name, true)
	meterCmd := v.startMeter(m, d.ctx, msg.id)
	m.learn = &v
	d.tab = slices.Index(d.tabs, "Shell")
	d = d.resize(m.width, m.lessonDetailHeight())
	m.detail = &d
	var attachCmd tea.Cmd
	if m.src.Terminals != nil {
		attachCmd = attach(m.src.Terminals, msg.id, true)
	}
	var load tea.Cmd
	if s := m.src.ContainerStacks; s != nil {
		load = openStack(msg.id, func() (layers.Stack, error) { return s.ContainerStack(msg.id) })
	}
	eval := v.evaluate()
	m.learn = &v
	// The image may be new: the lessons build theirs.
	return m, tea.Batch(load, attachCmd, eval, lessonTick(v.gen), loadImages(m.src.Images), meterCmd)
}

// evaluate starts an evaluation of the step's checks, or asks for one
// more when one is under way.
func (v *learnView) evaluate() tea.Cmd {
	if v.l == nil || v.id == "" || v.step >= len(v.l.Steps) {
		return nil
	}
	if v.evaluating {
		v.again = true
		return nil
	}
	v.evaluating, v.again = true, false
	env := v.env
	env.Reset = v.resets > v.stepResets
	env.View = v.layerView
	s, i, gen := v.l.Steps[v.step], v.step, v.gen
	return func() tea.Msg { return lessonChecksMsg{gen, i, s.Eval(env)} }
}

// checked takes a step's results: when all hold, the step is done and
// the next one begins.
func (v *learnView) checked(msg lessonChecksMsg, now time.Time) tea.Cmd {
	if msg.gen != v.gen {
		return nil
	}
	v.evaluating = false
	if msg.step == v.step {
		v.results = msg.results
		if lesson.Done(msg.results) {
			v.done[v.step] = true
			v.goTo(v.step+1, now)
			return v.evaluate()
		}
	}
	if v.again {
		return v.evaluate()
	}
	return nil
}

// goTo begins step i (len(Steps) for the end of the lesson).
func (v *learnView) goTo(i int, now time.Time) {
	v.step = max(min(i, len(v.l.Steps)), 0)
	v.results, v.hint, v.stepStart, v.now, v.stepResets = nil, false, now, now, v.resets
}

// learnKey routes a key while the lessons are open. The lesson's F keys
// work from the shell too; other keys go to the shell when it has them,
// else to the lesson's container view.
func (m Model) learnKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k, v := m.keys, *m.learn
	if v.l == nil {
		return m.lessonListKey(msg)
	}
	shell := m.detail != nil && m.detail.takesKeys()
	switch {
	case key.Matches(msg, k.LessonReset) && !v.starting:
		return m.resetLesson()
	case key.Matches(msg, k.LessonHint):
		v.hint = !v.hint
	case key.Matches(msg, k.LessonPrev, k.LessonNext):
		d := 1
		if key.Matches(msg, k.LessonPrev) {
			d = -1
		}
		v.goTo(v.step+d, m.now())
		cmd := v.evaluate()
		m.learn = &v
		return m.followStep(cmd)
	case shell:
		return m.routeDetail(msg)
	case key.Matches(msg, k.Quit):
		return m, m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return m, nil
	case key.Matches(msg, k.Back) && (m.detail == nil || !m.detail.usesBack()):
		return m.leaveLesson()
	case key.Matches(msg, k.Commit) && m.detail != nil && m.src.Committer != nil:
		return m.openCommit()
	case m.detail != nil:
		return m.lessonRoute(msg)
	}
	m.learn = &v
	return m, nil
}

// lessonListKey moves in the list of lessons and starts one.
func (m Model) lessonListKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k, v := m.keys, *m.learn
	switch {
	case key.Matches(msg, k.Quit):
		return m, m.quit()
	case key.Matches(msg, k.Back):
		m.learn = nil
		return m, nil
	case key.Matches(msg, k.Help):
		m.showHelp = true
	case key.Matches(msg, k.Up):
		v.pick = max(v.pick-1, 0)
	case key.Matches(msg, k.Down):
		v.pick = min(v.pick+1, max(len(v.list)-1, 0))
	case key.Matches(msg, k.Enter) && v.pick < len(v.list):
		m.learn = &v
		return m.beginLesson(v.list[v.pick])
	}
	m.learn = &v
	return m, nil
}

// resetLesson makes the lesson's container again from its image. Unless
// the step asks for that, the lesson goes back to its first step: the
// steps before the current one made what it works on.
func (m Model) resetLesson() (Model, tea.Cmd) {
	v := *m.learn
	v.resets++
	if v.step >= len(v.l.Steps) || !asksReset(v.l.Steps[v.step]) {
		v.done = make([]bool, len(v.l.Steps))
		v.goTo(0, m.now())
	}
	m.learn = &v
	return m.makeContainer(false)
}

func asksReset(s lesson.Step) bool {
	return slices.ContainsFunc(s.Checks, func(c lesson.Check) bool { return c.Where == lesson.Container })
}

// leaveLesson goes back to the list, removing the lesson's container.
func (m Model) leaveLesson() (Model, tea.Cmd) {
	v := *m.learn
	id := v.id
	if m.detail != nil {
		m.detail.close()
		m.detail = nil
	}
	v.l, v.id, v.gen = nil, "", v.gen+1
	m.learn = &v
	if id == "" {
		return m, nil
	}
	src := m.src.Lessons
	return m, do("removed the lesson's container", func() error { return src.EndLesson(id) })
}

// WaitLessons waits for the lesson containers being made, and returns the
// lessons the UI made containers for: the caller removes them once the
// program has quit (a lesson's container is the student's for the
// lesson only).
func (m Model) WaitLessons() []*lesson.Lesson {
	m.runs.wg.Wait()
	m.runs.mu.Lock()
	defer m.runs.mu.Unlock()
	return slices.Clone(m.runs.lessons)
}

// lessonMouse routes the pointer below the lesson's panel to the
// container's view.
func (m Model) lessonMouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	ms := msg.Mouse()
	ms.Y -= 1 + m.lessonPanelHeight() + m.lessonMeterHeight()
	if m.detail == nil || ms.Y < 0 {
		return m, nil
	}
	return m.lessonRoute(translate(msg, ms))
}

// lessonResize gives the container's view the room below the panel.
func (m Model) lessonResize() Model {
	if m.learn != nil && m.learn.l != nil && m.detail != nil {
		d := m.detail.resize(m.width, m.lessonDetailHeight())
		m.detail = &d
		v := *m.learn
		v.meter = v.meter.SetWidth(m.width)
		m.learn = &v
	}
	return m
}
