package ui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/internal/human"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/meter"
	"minidocker/ui/stats"
	"minidocker/ui/terminal"
	"minidocker/ui/text"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// The kinds of item a detail screen opens.
const (
	kindImage     = "image"
	kindContainer = "container"
	kindMount     = "mount"
)

// detail is the screen of one opened image, container or mount: tabs over
// the layer view, the shell, logs, stats and text.
type detail struct {
	keys            keys.Map
	kind, id, title string
	running         bool
	tabs            []string
	tab             int

	layers  layers.Model
	loaded  bool
	shell   *terminal.Model
	logs    text.Model
	text    text.Model // inspect, history or config
	stats   stats.Model
	preview *text.Model

	mounts []VolumeMount // a container's, on a line over its layers
	meter  meter.Model   // the disk meter, a line over the layers (meter.go)

	// image is the opened image when the lists may not hold it (a build
	// step's); onTop opens its view on its top layer.
	image *Image
	onTop bool

	ctx      context.Context
	cancel   context.CancelFunc
	logsOn   bool
	watching bool
	events   <-chan []tree.Node // the stream the layer view follows
	statsOn  bool               // the counters are being read
	logsDone bool               // the logs' stream ended: the container stopped
	logsCh   <-chan []byte      // the logs' stream, which a restart replaces

	width, height int
}

func newDetail(m Model, kind, id, title string, running bool) detail {
	ctx, cancel := context.WithCancel(context.Background())
	d := detail{keys: m.keys, kind: kind, id: id, title: title, running: running, ctx: ctx, cancel: cancel,
		logs: text.New(m.th, m.keys).SetFollow(true).SetSearch(true), text: text.New(m.th, m.keys).SetSearch(true), stats: stats.New(m.th)}
	switch kind {
	case kindImage:
		d.tabs = []string{"Layers", "History", "Config"}
	case kindContainer:
		d.tabs = []string{"Layers", "Shell", "Logs", "Stats", "Inspect"}
	default:
		d.tabs = []string{"Layers"}
	}
	return d
}

// close ends the streams of the screen.
func (d *detail) close() {
	d.cancel()
	if d.shell != nil {
		_ = d.shell.Close()
	}
}

func (d detail) current() string { return d.tabs[d.tab] }

// takesKeys reports whether every key goes to the screen: a focused
// shell, the filter line or a search line.
func (d detail) takesKeys() bool {
	return d.current() == "Shell" && d.shell != nil && d.shell.Focused() ||
		(d.current() == "Layers" || d.current() == "Shell") && d.layers.Filtering() ||
		d.pane() != nil && d.pane().Searching()
}

// pane is the text pane of the current tab (logs, inspect, history,
// config), or nil.
func (d *detail) pane() *text.Model {
	switch {
	case d.preview != nil, d.current() == "Layers", d.current() == "Shell", d.current() == "Stats":
		return nil
	case d.current() == "Logs":
		return &d.logs
	}
	return &d.text
}

// shellFocused reports whether the shell on screen has the keys.
func (d detail) shellFocused() bool {
	return d.current() == "Shell" && d.shell != nil && d.shell.Focused()
}

// usesBack reports whether esc means something to the screen itself.
func (d detail) usesBack() bool {
	return d.preview != nil || d.layersShown() && d.layers.UsesBack() || d.pane() != nil && d.pane().UsesBack()
}

func (d detail) resize(w, h int) detail {
	d.width, d.height = w, h
	inner := h - 1 // the tab line
	switch d.current() {
	case "Shell":
		sw := w * 2 / 5
		if d.shell != nil {
			s := d.shell.SetSize(sw, inner)
			d.shell = &s
		}
		d.layers = d.layers.SetCompact(true).SetSize(w-sw, inner)
	case "Layers":
		d.layers = d.layers.SetCompact(false).SetSize(w, inner-d.mountsHeight()-d.meter.Height())
	default:
		d.layers = d.layers.SetCompact(false).SetSize(w, inner)
	}
	d.meter = d.meter.SetWidth(w)
	d.logs = d.logs.SetSize(w-2, inner-2)
	d.text = d.text.SetSize(w-2, inner-2)
	d.stats = d.stats.SetSize(w-2, inner-2)
	if d.preview != nil {
		p := d.preview.SetSize(w-2, inner-2)
		d.preview = &p
	}
	return d
}

// shortHelp returns the footer's bindings for the current tab; a
// container's actions come first where no tree needs the room.
func (d detail) shortHelp() []key.Binding {
	k := d.keys
	b := []key.Binding{k.Jump, k.PrevTab, k.NextTab}
	switch {
	case d.preview != nil:
		return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown}
	case d.pane() != nil && d.pane().Searching():
		return []key.Binding{k.Enter, k.Back}
	case d.current() == "Shell":
		if d.shell != nil && d.shell.Focused() {
			return []key.Binding{k.FocusShell}
		}
		// The way into the shell first: a narrow footer keeps it.
		b = append([]key.Binding{k.FocusShell, k.Attach}, append(b, k.Exec)...)
		b = append(b, d.lifecycle()...)
		b = append(b, d.layers.ShortHelp()...)
	case d.current() == "Layers":
		b = append(d.lifecycle(), b...)
		b = append(b, d.layers.ShortHelp()...)
		b = append(b, k.Preview, k.Extract)
		if d.kind == kindContainer {
			b = append(b, k.Commit)
		}
	case d.current() == "Stats":
		b = append(d.lifecycle(), b...)
	default:
		b = append(append([]key.Binding{k.Search}, d.lifecycle()...), b...)
		b = append(b, k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom)
	}
	return b
}

// lifecycle is the container actions that apply to it now: stop, restart
// and kill while it runs, start when it does not, and remove.
func (d detail) lifecycle() []key.Binding {
	k := d.keys
	if d.kind != kindContainer {
		return nil
	}
	if d.running {
		return []key.Binding{k.Stop, k.Restart, k.Kill, k.Remove}
	}
	return []key.Binding{k.Start, k.Remove}
}

// view draws the tab line and the current tab.
func (d detail) view(m Model) string {
	var tabs []string
	for i, t := range d.tabs {
		label := fmt.Sprintf("%d %s", i+1, t)
		if i == d.tab {
			tabs = append(tabs, m.th.TabActive.Render(label))
		} else {
			tabs = append(tabs, m.th.TabInactive.Render(label))
		}
	}
	line := d.tabLine(m, strings.Join(tabs, m.th.Subtle.Render(" │ ")))
	inner := d.height - 1
	var body string
	switch {
	case d.preview != nil:
		body = m.th.Box("preview", d.preview.View(), d.width-2, inner-2, true)
	case !d.loaded && (d.current() == "Layers" || d.current() == "Shell"):
		body = m.th.Box(d.current(), m.th.Subtle.Render("reading the layers…"), d.width-2, inner-2, false)
	case d.current() == "Layers":
		body = d.overLayers(m) + d.layers.View()
	case d.current() == "Shell":
		left := m.th.Box("shell", m.th.Subtle.Render(d.shellNote(m)), d.width*2/5-2, inner-2, false)
		if d.shell != nil {
			left = d.shell.View()
		}
		body = lipgloss.JoinHorizontal(lipgloss.Top, left, d.layers.SetActive(!d.shellFocused()).View())
	case d.current() == "Logs":
		title := "logs (follow)"
		if d.logsDone {
			title = "logs (the container stopped)"
		}
		body = m.th.Box(title, d.logs.View(), d.width-2, inner-2, true)
	case d.current() == "Stats":
		body = m.th.Box("stats", d.stats.View(), d.width-2, inner-2, true)
	default:
		body = m.th.Box(strings.ToLower(d.current()), d.text.View(), d.width-2, inner-2, true)
	}
	return line + "\n" + body
}

// tabLine is the tab line, and a container's live state at its right:
// running, paused, stopping…, exited (N), OOM-killed (N).
func (d detail) tabLine(m Model, tabs string) string {
	if d.kind != kindContainer {
		return theme.Fit(tabs, d.width)
	}
	state, st := m.stateOf(d.id)
	right := st.Render(state)
	room := d.width - ansi.StringWidth(right) - 2
	if state == "" || room < 10 {
		return theme.Fit(tabs, d.width)
	}
	return theme.Fit(tabs, room) + "  " + right
}

func (d detail) shellNote(m Model) string {
	switch {
	case m.src.Terminals == nil:
		return m.src.NoRun
	case !d.running:
		return "the container is not running: " + m.keys.Start.Help().Key + " starts it"
	}
	return "connecting…"
}

// mountsHeight is the lines the container's mounts take over its layers.
func (d detail) mountsHeight() int {
	if len(d.mounts) > 0 {
		return 1
	}
	return 0
}

// mountsLine shows a container's mounts in one line: source → target and
// mode, a volume by name, a tmpfs as "tmpfs".
func mountsLine(m Model, ms []VolumeMount, width int) string {
	items := make([]string, len(ms))
	for i, v := range ms {
		src := v.Source
		switch v.Type {
		case "volume":
			src = "volume " + v.Source
		case "tmpfs":
			src = "tmpfs"
		}
		mode := "rw"
		if v.ReadOnly {
			mode = "ro"
		}
		if v.Options != "" {
			mode += "," + v.Options
		}
		items[i] = human.Visible(src) + " → " + m.th.Bold.Render(human.Visible(v.Target)) + " " + m.th.Subtle.Render("("+human.Visible(mode)+")")
	}
	return theme.Fit(m.th.Subtle.Render("mounts ")+strings.Join(items, m.th.Subtle.Render(" · ")), width)
}
