package ui

import (
	"strconv"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/ui/layers"
	"minidocker/ui/meter"
	"minidocker/ui/terminal"
	"minidocker/ui/text"
)

// update routes a message inside the opened item.
func (d detail) update(msg tea.Msg, m Model) (detail, tea.Cmd) {
	switch msg := msg.(type) {
	case stackMsg:
		if msg.ref != d.id {
			return d, nil
		}
		d.watching = d.kind == kindContainer && d.running
		if msg.err != nil {
			return d, report("open "+d.title, msg.err)
		}
		d.layers = layers.New(m.th, m.keys, m.withLayerDetails(d, msg.stack))
		if d.onTop {
			d.layers = d.layers.ShowLayer(len(msg.stack.Layers) - 1)
		}
		d.loaded = true
		d = d.resize(d.width, d.height)
		switch {
		case d.kind == kindContainer && d.running && m.src.ContainerStacks != nil:
			return d, watch(d.ctx, m.src.ContainerStacks, d.id)
		case d.kind == kindMount && d.layers.Container():
			for _, mt := range m.mounts {
				if mt.Point == d.id {
					return d, watchMount(d.ctx, m.src.Mounts, mt)
				}
			}
		}
	case watchMsg:
		if msg.err != nil {
			return d, report("watch", msg.err)
		}
		d.watching, d.events = msg.ch != nil, msg.ch
		return d, layers.WaitEvents(msg.ch)
	case layers.EventsMsg:
		if msg.Ch != d.events && msg.Ch != nil {
			return d, nil // a stream of an item no longer open
		}
		var cmd tea.Cmd
		d.layers, cmd = d.layers.Update(msg)
		return d, cmd
	case ptyMsg:
		if msg.err != nil {
			return d, report("attach", msg.err)
		}
		if d.shell != nil {
			_ = d.shell.Close()
		}
		s := terminal.New(m.th, m.keys, "shell", msg.pty, 80, 24).SetFocus(true)
		d.shell = &s
		d = d.resize(d.width, d.height)
		return d, s.Init()
	case terminal.OutputMsg, terminal.ExitedMsg, terminal.DetachedMsg:
		if d.shell == nil {
			return d, nil
		}
		s, cmd := d.shell.Update(msg)
		d.shell = &s
		if _, ok := msg.(terminal.DetachedMsg); ok {
			d = d.resize(d.width, d.height)
		}
		return d, cmd
	case logsMsg:
		if msg.ch != d.logsCh {
			return d, nil // a stream of before a restart
		}
		d.logs = d.logs.Append(string(msg.data))
		if !msg.ended {
			return d, waitLogs(msg.ch)
		}
		d.logsDone = true
	case statsMsg:
		if msg.err == nil {
			d.stats = d.stats.Add(msg.sample)
		}
		if d.ctx.Err() == nil && d.running && msg.err == nil {
			return d, readStats(d.ctx, m.src.Stats, d.id, StatsEvery)
		}
		// The reading stops; a refresh that finds the container running
		// starts it again (setRunning), one that finds it stopped says so.
		d.statsOn = false
		if !d.running {
			d.stats = d.stats.End(statsEnded)
		}
	case meter.ReadMsg:
		var cmd tea.Cmd
		d.meter, cmd = d.meter.Update(msg)
		return d, cmd
	case previewMsg:
		if msg.err != nil {
			return d, report("preview", msg.err)
		}
		p := text.New(m.th, m.keys).SetText(msg.text)
		d.preview = &p
		d = d.resize(d.width, d.height)
	case tea.KeyPressMsg:
		return d.key(msg, m)
	case tea.PasteMsg:
		return d.paste(msg)
	case tea.MouseMsg:
		return d.mouse(msg)
	default:
		var cmd tea.Cmd
		d.layers, cmd = d.layers.Update(msg)
		return d, cmd
	}
	return d, nil
}

func (d detail) key(msg tea.KeyPressMsg, m Model) (detail, tea.Cmd) {
	k := m.keys
	var cmd tea.Cmd
	switch {
	case d.shell != nil && d.shell.Focused() && d.current() == "Shell":
		if key.Matches(msg, k.FocusShell) {
			s := d.shell.SetFocus(false)
			d.shell = &s
			return d, nil
		}
		s, cmd := d.shell.Update(msg)
		d.shell = &s
		return d, cmd
	case d.layers.Filtering():
		d.layers, cmd = d.layers.Update(msg)
		return d, cmd
	case d.pane() != nil && d.pane().Searching():
		return d.paneUpdate(msg)
	case d.preview != nil:
		if key.Matches(msg, k.Back) {
			d.preview = nil
			return d, nil
		}
		p, cmd := d.preview.Update(msg)
		d.preview = &p
		return d, cmd
	case key.Matches(msg, k.Jump):
		n, _ := strconv.Atoi(msg.String())
		return d.switchTab(n-1, m)
	case key.Matches(msg, k.NextTab):
		return d.switchTab((d.tab+1)%len(d.tabs), m)
	case key.Matches(msg, k.PrevTab):
		return d.switchTab((d.tab+len(d.tabs)-1)%len(d.tabs), m)
	case key.Matches(msg, k.FocusShell) && d.shell != nil:
		s := d.shell.SetFocus(true)
		d.shell = &s
		return d, nil
	case key.Matches(msg, k.Attach) && d.shell != nil:
		return d, d.shell.Attach()
	case key.Matches(msg, k.Exec) && d.kind == kindContainer && d.running && m.src.Terminals != nil:
		d.tab = 1
		d = d.resize(d.width, d.height)
		return d, attach(m.src.Terminals, d.id, true)
	case key.Matches(msg, k.Preview) && d.loaded && d.layersShown():
		if n, ok := d.layers.Selected(); ok {
			return d.previewEntry(n)
		}
	case key.Matches(msg, k.Extract) && d.loaded && d.layersShown():
		if n, ok := d.layers.Selected(); ok {
			return d, d.askExtract(n)
		}
	}
	switch d.current() {
	case "Layers", "Shell":
		d.layers, cmd = d.layers.Update(msg)
	case "Stats":
	default:
		return d.paneUpdate(msg)
	}
	return d, cmd
}

// paneUpdate hands msg to the text pane of the current tab.
func (d detail) paneUpdate(msg tea.Msg) (detail, tea.Cmd) {
	var cmd tea.Cmd
	if p := d.pane(); p != nil {
		*p, cmd = p.Update(msg)
	}
	return d, cmd
}

// paste hands a paste to the focused shell or the layer view's filter line.
func (d detail) paste(msg tea.PasteMsg) (detail, tea.Cmd) {
	var cmd tea.Cmd
	switch {
	case d.shellFocused():
		s, cmd := d.shell.Update(msg)
		d.shell = &s
		return d, cmd
	case d.layersShown() && d.layers.Filtering():
		d.layers, cmd = d.layers.Update(msg)
	case d.pane() != nil && d.pane().Searching():
		return d.paneUpdate(msg)
	}
	return d, cmd
}

func (d detail) layersShown() bool { return d.current() == "Layers" || d.current() == "Shell" }

// switchTab shows tab i and starts what it streams the first time.
func (d detail) switchTab(i int, m Model) (detail, tea.Cmd) {
	if i < 0 || i >= len(d.tabs) {
		return d, nil
	}
	d.tab = i
	d = d.resize(d.width, d.height)
	src := m.src
	switch d.current() {
	case "Shell":
		if d.shell == nil && d.running && src.Terminals != nil {
			return d, attach(src.Terminals, d.id, false)
		}
	case "Logs":
		if !d.logsOn && src.Logs != nil {
			return d.followLogs(m)
		}
	case "Stats":
		return d.readStats(m)
	case "Inspect", "History", "Config":
		d.text = d.text.SetText(m.itemText(d.kind, d.id, d.current()))
	}
	return d, nil
}

// mouse routes the pointer below the tab line.
func (d detail) mouse(msg tea.MouseMsg) (detail, tea.Cmd) {
	ms := msg.Mouse()
	ms.Y--
	var cmd tea.Cmd
	switch d.current() {
	case "Layers":
		d.layers, cmd = d.layers.Update(translate(msg, ms))
	case "Shell":
		sw := d.width * 2 / 5
		if ms.X < sw {
			if d.shell != nil {
				s := d.shell.SetFocus(true)
				d.shell = &s
			}
			return d, nil
		}
		if d.shell != nil {
			s := d.shell.SetFocus(false)
			d.shell = &s
		}
		ms.X -= sw
		d.layers, cmd = d.layers.Update(translate(msg, ms))
	case "Logs":
		d.logs, cmd = d.logs.Update(msg)
	default:
		d.text, cmd = d.text.Update(msg)
	}
	return d, cmd
}

// statsEnded is what the Stats tab says once no readings come.
const statsEnded = "the container is not running: nothing more to read"

// setRunning follows the container's state: once it runs, its upper
// directory is watched, and the logs and the counters, whose streams end
// when it stops, are followed again (the logs from their start, as the
// file holds them); once it stops, the Stats tab says so.
func (d detail) setRunning(m Model, r bool) (detail, tea.Cmd) {
	was := d.running
	d.running = r
	var cmds []tea.Cmd
	if r && d.loaded && !d.watching && m.src.ContainerStacks != nil {
		d.watching = true
		cmds = append(cmds, watch(d.ctx, m.src.ContainerStacks, d.id))
	}
	if !r && was {
		d.stats = d.stats.End(statsEnded)
	}
	if r && d.logsDone && m.src.Logs != nil {
		var cmd tea.Cmd
		d, cmd = d.followLogs(m)
		cmds = append(cmds, cmd)
	}
	if r && d.current() == "Stats" {
		var cmd tea.Cmd
		d, cmd = d.readStats(m)
		cmds = append(cmds, cmd)
	}
	return d, tea.Batch(cmds...)
}

// followLogs follows the container's logs into a cleared pane.
func (d detail) followLogs(m Model) (detail, tea.Cmd) {
	d.logsOn, d.logsDone = true, false
	d.logs = d.logs.SetText("").SetFollow(true)
	ch := make(chan []byte, 64)
	d.logsCh = ch
	return d, followLogs(d.ctx, m.src.Logs, d.id, ch)
}

// readStats starts reading the counters of a running container, or says
// there is nothing to read.
func (d detail) readStats(m Model) (detail, tea.Cmd) {
	switch {
	case m.src.Stats == nil || d.statsOn:
		return d, nil
	case !d.running:
		d.stats = d.stats.End(statsEnded)
		return d, nil
	}
	d.statsOn = true
	d.stats = d.stats.End("")
	return d, readStats(d.ctx, m.src.Stats, d.id, 0)
}

func running(cs []Container, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return c.Running
		}
	}
	return false
}

// withLayerDetails gives an image's stack the digest and history line of
// each layer, which the image view's layer details show, from the image
// as the lists have it.
func (m Model) withLayerDetails(d detail, s layers.Stack) layers.Stack {
	if d.kind != kindImage {
		return s
	}
	img := d.image
	for i := range m.images {
		if m.images[i].ID == d.id {
			img = &m.images[i]
		}
	}
	if img == nil || len(img.Layers) != len(s.Layers) {
		return s
	}
	s.Digests, s.CreatedBy = make([]string, len(img.Layers)), make([]string, len(img.Layers))
	for i, l := range img.Layers {
		s.Digests[i], s.CreatedBy[i] = l.DiffID, l.CreatedBy
	}
	return s
}
