package ui

import (
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/commit"
	"minidocker/ui/dialog"
	"minidocker/ui/keys"
	"minidocker/ui/palette"
	"minidocker/ui/panel"
	"minidocker/ui/text"
	"minidocker/ui/theme"
)

// The home panels, in the order of their number keys.
const (
	imagesPanel = iota
	containersPanel
	mountsPanel
	mainPanel // the tabs of the selection, after the side panels
)

// Model is the whole program: the home panels, an opened image, container
// or mount, and the overlays (help, dialogs) above them.
type Model struct {
	src  Sources
	keys keys.Map
	th   theme.Theme
	help help.Model
	spin spinner.Model

	width, height int
	panels        [3]panel.Model
	focus         int
	side          int // the side panel last focused
	tab           int
	main          text.Model

	images     []Image
	containers []Container
	mounts     []Mount

	detail *detail // the opened item; nil at home
	// learn is the guided lessons: their list, or the lesson whose
	// container is the opened item.
	learn  *learnView
	runs   *lessonRuns
	dialog dialog.Model
	commit *commit.Model // the commit dialog, over a container's view
	// build is the build view, shown when no item is opened over it;
	// lastRun the last build started, which WaitBuild waits for.
	build    *buildView
	lastRun  *buildRun
	startOn  *BuildSpec       // a build to start once the program runs
	now      func() time.Time // the clock of the build's times
	showHelp bool
	helpPage int    // the help overlay's page when keys and legend do not both fit
	status   string // the last result or error, one line
	// statusAt is when Update last changed status: a refresh StatusFor
	// later clears it.
	statusAt time.Time
	// acting is the action under way on each container, by ID (state.go).
	acting map[string]string
	// palette is the command palette, over everything while open.
	palette *palette.Model
	// refused are the destructive keys presenter mode turns off: they only
	// say so.
	refused []key.Binding
	busy    string // long work under way, shown with a spinner
	// openOnLoad opens the first image once the images are read.
	openOnLoad bool
	// regForm is the pull or push dialog; xfer the box of a pull or a
	// push under way or just ended (transfer.go).
	regForm *regForm
	xfer    *transfer
	// insecure are the registry hosts the session's transfers reached
	// without checking TLS: their next dialog offers the same.
	insecure []string
	// openOn is an image to open once the program runs (ui REF).
	openOn string
}

// Options configure the UI.
type Options struct {
	Dark    bool // the terminal's background is dark
	NoColor bool // NO_COLOR is set
	// Build, when set, opens the UI on the build view of this build
	// (build --ui).
	Build *BuildSpec
	// Presenter is for a class: high contrast, and no key that deletes
	// or stops anything (stop, kill, restart, remove, prune), so that a slip in front of
	// the room costs nothing.
	Presenter bool
	// Lesson, when set, opens the UI on this guided lesson (learn NAME).
	Lesson string
	// OpenImage opens the image view of the first image listed as soon
	// as the images are read (minidocker ui IMAGE|ARCHIVE).
	OpenImage bool
	// Image, when set, opens the UI on the view of this stored image, by
	// ID (ui REF).
	Image string
	// Pull, when set, opens the UI on the progress of a pull of this
	// image, then on its view (ui REF of a registry's image not here).
	Pull *PullSpec
}

// New returns the UI over src.
func New(src Sources, o Options) Model {
	th := theme.New(o.Dark, o.NoColor)
	if o.Presenter {
		th = theme.HighContrast(o.Dark, o.NoColor)
	}
	km := keys.Default()
	var refused []key.Binding
	if o.Presenter {
		off := []*key.Binding{&km.Stop, &km.Kill, &km.Restart, &km.Remove, &km.Prune}
		if src.Registry != nil {
			// A pull fills the disk, a push publishes: neither by a slip.
			off = append(off, &km.Pull, &km.Push)
		}
		for _, b := range off {
			refused = append(refused, *b)
			b.SetEnabled(false)
		}
	}
	if src.Lifecycle == nil {
		for _, b := range []*key.Binding{&km.Run, &km.Start, &km.Stop, &km.Kill, &km.Restart} {
			b.SetEnabled(false)
		}
	}
	if src.Lifecycle == nil && src.ImageManager == nil {
		km.Remove.SetEnabled(false)
	}
	km.Tag.SetEnabled(src.ImageManager != nil)
	km.Save.SetEnabled(src.ImageManager != nil)
	if src.Terminals == nil {
		km.Exec.SetEnabled(false)
		km.Attach.SetEnabled(false)
	}
	if src.Registry == nil {
		km.Pull.SetEnabled(false)
		km.Push.SetEnabled(false)
	}
	km.Commit.SetEnabled(src.Committer != nil)
	km.Build.SetEnabled(src.Builder != nil)
	for _, b := range []*key.Binding{&km.Learn, &km.LessonReset, &km.LessonHint, &km.LessonPrev, &km.LessonNext} {
		b.SetEnabled(src.Lessons != nil)
	}
	h := help.New()
	h.Styles.ShortKey, h.Styles.FullKey = th.Key, th.Key
	h.Styles.ShortDesc, h.Styles.FullDesc = th.KeyDesc, th.KeyDesc
	h.Styles.ShortSeparator, h.Styles.FullSeparator, h.Styles.Ellipsis = th.Subtle, th.Subtle, th.Subtle
	m := Model{
		src: src, keys: km, th: th, help: h,
		spin:    spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(th.Title)),
		main:    text.New(th, km),
		startOn: o.Build, now: time.Now, refused: refused, runs: &lessonRuns{},
		openOnLoad: o.OpenImage,
	}
	m.panels[imagesPanel] = panel.New(th, km, 1, "Images", "no images: load one with "+km.Load.Help().Key)
	noCtr := "no containers: " + km.Run.Help().Key + " on an image runs one"
	if src.NoRun != "" {
		noCtr = src.NoRun
	}
	m.panels[containersPanel] = panel.New(th, km, 2, "Containers", noCtr)
	m.panels[mountsPanel] = panel.New(th, km, 3, "Host mounts", "no overlay mounts")
	if src.NoRun != "" {
		m.status = src.NoRun
	}
	if o.Lesson != "" {
		m.learn = &learnView{open: o.Lesson}
	}
	m.openOn = o.Image
	if o.Pull != nil && src.Registry != nil {
		m.xfer = &transfer{run: newTransferRun(), ref: o.Pull.Ref, open: true, spec: *o.Pull}
		m.insecure = rememberHost(nil, o.Pull.Ref, o.Pull.Insecure)
		m.busy = "pulling " + human.Visible(o.Pull.Ref)
	}
	return m
}

// Init loads the lists.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{loadImages(m.src.Images), loadContainers(m.src.ContainerList), loadMounts(m.src.Mounts), refreshTick(), watchMounts(m.src.Mounts)}
	if m.startOn != nil {
		spec := *m.startOn
		cmds = append(cmds, func() tea.Msg { return buildStartMsg{spec} })
	}
	if m.learn != nil && m.src.Lessons != nil {
		cmds = append(cmds, listLessons(m.src.Lessons, m.learn.open))
	}
	if m.openOn != "" {
		cmds = append(cmds, reloadSelecting(m.src.Images, m.openOn, true))
	}
	if m.xfer != nil {
		cmds = append(cmds, m.xfer.run.start(pullWork(m.src.Registry, m.xfer.spec)), m.spin.Tick)
	}
	return tea.Batch(cmds...)
}

// StatusFor is how long a result or an error stays in the header; the
// container list's refresh (RefreshEvery) clears it after that.
const StatusFor = 5 * time.Second

// Update routes a message to whatever has the keys or owns the stream,
// and notes when the header's status changed, so that it clears itself.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	before := m.status
	next, cmd := m.update(msg)
	n := next.(Model)
	if n.status != before {
		n.statusAt = n.now()
	}
	return n, cmd
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return m.resize(msg.Width, msg.Height), nil
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		return m.paste(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		if m.busy == "" {
			cmd = nil
		}
		return m, cmd
	}
	if m2, cmd, ok := m.manageMsg(msg); ok {
		return m2, cmd
	}
	if m2, cmd, ok := m.loaded(msg); ok {
		return m2, cmd
	}
	if m2, cmd, ok := m.commitMsg(msg); ok {
		return m2, cmd
	}
	if m2, cmd, ok := m.transferMsg(msg); ok {
		return m2, cmd
	}
	if m2, cmd, ok := m.buildMsg(msg); ok {
		return m2, cmd
	}
	if m2, cmd, ok := m.learnMsg(msg); ok {
		return m2, cmd
	}
	if a, ok := msg.(extractAskMsg); ok {
		m.dialog = extractDialog(m, a.n)
		return m, nil
	}
	return m.routeDetail(msg)
}

// View draws the screen: the home or the opened item, the footer, and an
// overlay when one is open.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "minidocker"
	return v
}

// render is View's content, a plain string for the golden tests.
func (m Model) render() string {
	if m.width < 20 || m.height < 8 {
		return "minidocker: the terminal is too small"
	}
	var body string
	switch {
	case m.learn != nil:
		body = m.learnBody()
	case m.detail != nil:
		body = m.detail.view(m)
	case m.build != nil:
		body = m.build.view(m)
	default:
		body = m.home()
	}
	screen := m.header() + "\n" + body + "\n" + m.footer()
	switch {
	case m.palette != nil:
		screen = overlayCenter(screen, m.palette.View(), m.width, m.height)
	case m.showHelp:
		screen = overlayCenter(screen, m.helpView(), m.width, m.height)
	case m.dialog.Active():
		screen = overlayCenter(screen, m.dialog.View(), m.width, m.height)
	case m.regForm != nil:
		screen = overlayCenter(screen, m.regFormView(), m.width, m.height)
	case m.xfer != nil:
		screen = overlayCenter(screen, m.transferView(), m.width, m.height)
	case m.commit != nil:
		screen = overlayCenter(screen, m.commit.View(), m.width, m.height)
	}
	return screen
}
