package ui

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/layers"
)

// A pull or a push runs on a goroutine of its own while a box over the
// screen shows its progress: a bar per layer of a pull, one bar for a
// push. Esc cancels it; the store keeps nothing half-made.

// transferMsg is a run's progress since the last, its end included once
// it came.
type transferMsg struct {
	run  *transferRun
	snap transferSnap
}

// pulledListMsg is the image list read again after a pull, and the image
// pulled, to select in it and, with open, to open.
type pulledListMsg struct {
	list imagesMsg
	id   string
	open bool
}

// transferRun is one pull or push on its own goroutine. The goroutine
// records its progress under mu and wakes the command waiting for it,
// which hands the program a copy: a layer's bytes come in many small
// pieces, drawn at most once a frame.
type transferRun struct {
	ctx    context.Context // the transfer's: cancel stops it
	cancel context.CancelFunc
	// wake holds one wake-up at most: the waiting command takes all that
	// changed since the last.
	wake     chan struct{}
	finished chan struct{} // closed once the goroutine returned

	mu               sync.Mutex
	layers           map[int]PullLayer
	done, total      int64
	end              *transferEnd
	sent             time.Time // when the program last took a copy
	started, dropped bool
}

// transferEnd is how a run ended.
type transferEnd struct {
	pulled Pulled
	pushed Pushed
	err    error
}

// transferSnap is a copy of a run's progress.
type transferSnap struct {
	layers      []PullLayer // by index; a push has none
	done, total int64       // a push's bytes
	end         *transferEnd
}

// transferFrame is the least time between two progress messages.
const transferFrame = time.Second / 30

func newTransferRun() *transferRun {
	r := &transferRun{wake: make(chan struct{}, 1), finished: make(chan struct{}), layers: map[int]PullLayer{}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// start runs work on a goroutine of its own and waits for its first
// progress; a run stopped before the command runs never starts.
func (r *transferRun) start(work func(*transferRun) transferEnd) tea.Cmd {
	return func() tea.Msg {
		r.mu.Lock()
		if r.dropped {
			r.mu.Unlock()
			return nil
		}
		r.started = true
		r.mu.Unlock()
		go func() {
			defer close(r.finished)
			end := work(r)
			r.cancel() // the context's resources; the result is taken
			r.mu.Lock()
			r.end = &end
			r.mu.Unlock()
			r.poke()
		}()
		return r.wait()
	}
}

// pullWork pulls spec with reg, telling r of each layer.
func pullWork(reg Registry, spec PullSpec) func(*transferRun) transferEnd {
	return func(r *transferRun) transferEnd {
		p, err := reg.Pull(r.ctx, spec, r.layer)
		return transferEnd{pulled: p, err: err}
	}
}

// pushWork pushes spec with reg, telling r of the bytes sent.
func pushWork(reg Registry, spec PushSpec) func(*transferRun) transferEnd {
	return func(r *transferRun) transferEnd {
		p, err := reg.Push(r.ctx, spec, r.bytes)
		return transferEnd{pushed: p, err: err}
	}
}

// layer records a layer's progress; it is called from several goroutines.
func (r *transferRun) layer(l PullLayer) {
	r.mu.Lock()
	r.layers[l.Index] = l
	r.mu.Unlock()
	r.poke()
}

// bytes records a push's progress.
func (r *transferRun) bytes(done, total int64) {
	r.mu.Lock()
	r.done, r.total = done, total
	r.mu.Unlock()
	r.poke()
}

func (r *transferRun) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// next waits for the next progress.
func (r *transferRun) next() tea.Cmd { return func() tea.Msg { return r.wait() } }

// wait takes the progress once something changed, no sooner than a frame
// after the last, so that what comes meanwhile is drawn at once.
func (r *transferRun) wait() tea.Msg {
	<-r.wake
	r.mu.Lock()
	since, ended := time.Since(r.sent), r.end != nil
	r.mu.Unlock()
	if !ended && since < transferFrame {
		time.Sleep(transferFrame - since)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = time.Now()
	ls := slices.SortedFunc(maps.Values(r.layers), func(a, b PullLayer) int { return cmp.Compare(a.Index, b.Index) })
	return transferMsg{run: r, snap: transferSnap{layers: ls, done: r.done, total: r.total, end: r.end}}
}

// stop cancels the run and waits for its goroutine's end.
func (r *transferRun) stop() {
	r.cancel()
	r.mu.Lock()
	r.dropped = true
	started := r.started
	r.mu.Unlock()
	if started {
		<-r.finished
	}
}

// transfer is the box of a pull or a push: what it moves, and its last
// progress.
type transfer struct {
	run  *transferRun
	push bool
	// ref is what is pulled, or the destination of a push; image the
	// pushed image's name as the panel shows it.
	ref, image string
	snap       transferSnap
	cancelling bool
	// open opens the pulled image's view at once (ui REF); spec is the
	// pull that Init starts then.
	open bool
	spec PullSpec
}

// verb is the transfer's kind, as messages say it.
func (x *transfer) verb() string {
	if x.push {
		return "push"
	}
	return "pull"
}

// startPull opens the progress box of a pull of spec and starts it.
func (m Model) startPull(spec PullSpec, open bool) (Model, tea.Cmd) {
	m.xfer = &transfer{run: newTransferRun(), ref: spec.Ref, open: open}
	m.insecure = rememberHost(m.insecure, spec.Ref, spec.Insecure)
	m.busy = "pulling " + human.Visible(spec.Ref)
	return m, tea.Batch(m.xfer.run.start(pullWork(m.src.Registry, spec)), m.spin.Tick)
}

// startPush opens the progress box of a push of spec and starts it.
func (m Model) startPush(spec PushSpec, image string) (Model, tea.Cmd) {
	m.xfer = &transfer{run: newTransferRun(), push: true, ref: spec.Dest, image: image}
	m.insecure = rememberHost(m.insecure, spec.Dest, spec.Insecure)
	m.busy = "pushing to " + human.Visible(spec.Dest)
	return m, tea.Batch(m.xfer.run.start(pushWork(m.src.Registry, spec)), m.spin.Tick)
}

// transferMsg takes a run's progress and the image list read after a
// pull; ok is false for any other message.
func (m Model) transferMsg(msg tea.Msg) (Model, tea.Cmd, bool) {
	switch msg := msg.(type) {
	case transferMsg:
		if m.xfer == nil || m.xfer.run != msg.run {
			return m, nil, true // a box since closed
		}
		x := *m.xfer
		x.snap = msg.snap
		m.xfer = &x
		if msg.snap.end == nil {
			return m, x.run.next(), true
		}
		m2, cmd := m.transferEnded()
		return m2, cmd, true
	case pulledListMsg:
		m, _, _ = m.loaded(msg.list)
		var ok bool
		if m.panels[imagesPanel], ok = m.panels[imagesPanel].Select(msg.id); ok && msg.open && m.detail == nil {
			m = m.focusPanel(imagesPanel)
			m2, cmd := m.open()
			return m2, cmd, true
		}
		m.main = m.main.SetText(m.mainText())
		return m, nil, true
	}
	return m, nil, false
}

// transferEnded shows how the transfer ended: a cancelled one closes its
// box, a failed one keeps it with the error; a pull reads the images
// again, selecting the one pulled, and opens it when asked to.
func (m Model) transferEnded() (Model, tea.Cmd) {
	x, end := m.xfer, m.xfer.snap.end
	m.busy = ""
	switch {
	case end.err != nil && x.cancelling && errors.Is(end.err, context.Canceled):
		m.xfer = nil
		m.status = x.verb() + " of " + human.Visible(x.ref) + " cancelled"
		return m, loadImages(m.src.Images)
	case end.err != nil:
		m.status = "error: " + human.Line(end.err.Error())
		return m, loadImages(m.src.Images)
	case x.push:
		m.status = "pushed " + human.Visible(x.image) + " to " + human.Visible(end.pushed.Ref)
		return m, nil
	}
	p := end.pulled
	m.status = "pulled " + human.Visible(cmp.Or(p.Name, p.Image.ShortID))
	if p.UpToDate {
		m.status = human.Visible(cmp.Or(p.Name, p.Image.ShortID)) + " is up to date"
	}
	if x.open {
		m.xfer = nil
	}
	return m, reloadSelecting(m.src.Images, p.Image.ID, x.open)
}

// reloadSelecting reads the images again, then selects id (and opens it).
func reloadSelecting(s ImageSource, id string, open bool) tea.Cmd {
	if s == nil {
		return nil
	}
	return func() tea.Msg {
		items, err := s.Images()
		return pulledListMsg{list: imagesMsg{items, err}, id: id, open: open}
	}
}

// transferKey takes the keys while the box is open: esc cancels a
// transfer under way, or closes the box once it ended; enter then opens
// the pulled image.
func (m Model) transferKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	x := *m.xfer
	k := m.keys
	switch {
	case x.snap.end == nil && key.Matches(msg, k.Back) && !x.cancelling:
		x.cancelling = true
		x.run.cancel()
		m.xfer = &x
		m.busy = "cancelling the " + x.verb()
	case x.snap.end == nil:
	case key.Matches(msg, k.Enter) && !x.push && x.snap.end.err == nil:
		m.xfer = nil
		return m.openPulled(x.snap.end.pulled.Image)
	case key.Matches(msg, k.Back, k.Enter):
		m.xfer = nil
	}
	return m, nil
}

// openPulled opens the view of the image just pulled, selected in the
// Images panel when the list holds it already.
func (m Model) openPulled(img Image) (Model, tea.Cmd) {
	m = m.focusPanel(imagesPanel)
	var ok bool
	if m.panels[imagesPanel], ok = m.panels[imagesPanel].Select(img.ID); ok {
		return m.open()
	}
	is, id := m.src.Images, img.ID
	return m.openImage(img, func() (layers.Stack, error) { return is.ImageStack(id) })
}

// WaitTransfer cancels a pull or a push still under way and waits for
// its end: the program has quit, and what the transfer had begun is
// cleared before the process exits.
func (m Model) WaitTransfer() {
	if m.xfer != nil {
		m.xfer.run.stop()
	}
}

// rememberHost adds the registry host of ref to hosts when the transfer
// skipped TLS verification, so that the next dialog for the host offers
// the same; hosts is not changed in place.
func rememberHost(hosts []string, ref string, insecure bool) []string {
	h := registryHost(ref)
	if !insecure || h == "" || slices.Contains(hosts, h) {
		return hosts
	}
	return append(slices.Clone(hosts), h)
}

// registryHost is the registry host a reference names
// ("127.0.0.1:5000/base" names 127.0.0.1:5000), or "" for one of the
// default registry ("alpine", "library/alpine").
func registryHost(ref string) string {
	host, rest, ok := strings.Cut(ref, "/")
	if !ok || rest == "" || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return ""
	}
	return host
}
