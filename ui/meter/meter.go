// Package meter draws the disk meter, one line over an image's or a
// container's layers: what the containers of the image take on disk,
// sharing its layers, against what as many full copies would take. It
// reads the meter again every second, so that the line follows what the
// containers write.
package meter

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/internal/human"
	"minidocker/ui/theme"
)

// Reading is one reading of an image's meter. The application computes
// every figure (minidocker's internal/app Meter, where each is defined);
// the view only draws them.
type Reading struct {
	// Image is how to call the image; Removed that it was removed while
	// its containers keep its layers. Image is made visible when drawn.
	Image   string
	Removed bool
	// Containers counts the image's containers, Running those running.
	Containers, Running int
	// Layers is the image's layers in the store, each once; Uppers the
	// containers' upper directories, summed; Disk the two together.
	Layers, Uppers, Disk int64
	// Copies is what a full copy of the image per container, with its
	// upper directory, would take; Saved is Copies − Disk, Savings the
	// same as a fraction of Copies.
	Copies, Saved int64
	Savings       float64
	// Self is the name of the container whose view shows the meter, ""
	// in an image's view; SelfUpper its upper directory.
	Self      string
	SelfUpper int64
}

// Source reads meters: of an image by ID, or of a container's image.
type Source interface {
	ImageMeter(id string) (Reading, error)
	ContainerMeter(id string) (Reading, error)
}

// Every is how often the meter is read again, at the most.
const Every = time.Second

// A reading walks every upper directory of the image's containers, so a
// container with many files (a package install: 10,000 in /tmp) makes it
// cost. The next reading waits costFactor times as long as the last one
// took, so that the meter keeps to about 2% of a core, and never longer
// than MaxEvery.
const (
	costFactor = 50
	MaxEvery   = 10 * time.Second
)

// nextRead is how long to wait after a reading that took took.
func nextRead(took time.Duration) time.Duration {
	return min(max(Every, costFactor*took), MaxEvery)
}

// Model is the meter of one image or container. Its zero value is off:
// it takes no line and reads nothing.
type Model struct {
	th        theme.Theme
	src       Source
	ctx       context.Context
	container bool
	id        string
	serial    uint64 // tells this meter's readings from an earlier one's

	r     Reading
	read  bool
	err   error
	width int
}

var serials atomic.Uint64

// New returns the meter of the image id, or of the container id's image;
// it reads until ctx ends.
func New(ctx context.Context, th theme.Theme, src Source, container bool, id string) Model {
	return Model{th: th, src: src, ctx: ctx, container: container, id: id, serial: serials.Add(1)}
}

// ReadMsg carries one reading.
type ReadMsg struct {
	serial uint64
	r      Reading
	err    error
	took   time.Duration
}

// On reports whether the meter shows.
func (m Model) On() bool { return m.src != nil }

// Height is the lines the meter takes: one when on.
func (m Model) Height() int {
	if m.On() {
		return 1
	}
	return 0
}

// SetWidth gives the meter w cells.
func (m Model) SetWidth(w int) Model { m.width = w; return m }

// Init reads the meter at once.
func (m Model) Init() tea.Cmd {
	if !m.On() {
		return nil
	}
	return m.readAfter(0)
}

// Update takes a reading and asks for the next one, a second later or,
// after a costly one, later still (nextRead).
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	r, ok := msg.(ReadMsg)
	if !ok || !m.On() || r.serial != m.serial {
		return m, nil
	}
	if r.err == nil {
		m.r, m.read = r.r, true
	}
	m.err = r.err
	return m, m.readAfter(nextRead(r.took))
}

// readAfter reads the meter after d. The command captures what it needs,
// not the model; it returns nothing once ctx has ended.
func (m Model) readAfter(d time.Duration) tea.Cmd {
	ctx, src, container, id, serial := m.ctx, m.src, m.container, m.id, m.serial
	read := func() tea.Msg {
		if ctx.Err() != nil {
			return nil
		}
		var r Reading
		var err error
		start := time.Now()
		if container {
			r, err = src.ContainerMeter(id)
		} else {
			r, err = src.ImageMeter(id)
		}
		return ReadMsg{serial: serial, r: r, err: err, took: time.Since(start)}
	}
	if d == 0 {
		return read
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return read() })
}

// View draws the meter in one line of the width set: the longest form
// that fits, the figures first to go last.
func (m Model) View() string {
	if !m.On() {
		return ""
	}
	label := m.th.Title.Render("disk") + " "
	var forms []string
	switch {
	case m.err != nil && !m.read:
		forms = []string{m.th.Error.Render("cannot measure: " + human.Line(m.err.Error()))}
	case !m.read:
		forms = []string{m.th.Subtle.Render("measuring…")}
	default:
		forms = m.forms()
	}
	for _, f := range forms {
		if ansi.StringWidth(label+f) <= m.width {
			return theme.Fit(label+f, m.width)
		}
	}
	return theme.Fit(label+forms[len(forms)-1], m.width)
}

// forms are the meter's line, longest first.
func (m Model) forms() []string {
	r, th := m.r, m.th
	b := func(n int64) string { return th.Bold.Render(human.Size(n)) }
	s := th.Subtle.Render
	name := human.Visible(r.Image)
	if r.Removed {
		name += " (removed)"
	}
	if r.Containers == 0 {
		return []string{
			s("no container of ") + name + s(": its layers take ") + b(r.Layers) + s(" once; each container adds only its upper directory"),
			s("no container: layers ") + b(r.Layers),
		}
	}
	n := r.Containers
	who := s(fmt.Sprintf("%d %s of ", n, plural(n, "container", "containers"))) + name + s(": ")
	compact := name + s(fmt.Sprintf(" ×%d: ", n))
	layers := s(" = layers ") + b(r.Layers)
	uppers := s(" + uppers ") + b(r.Uppers)
	self := uppers
	if r.Self != "" {
		self += s(" ("+human.Visible(r.Self)+" ") + b(r.SelfUpper) + s(")")
	}
	onDisk := b(r.Disk) + s(" on disk")
	copies := func(words string) string { return s(" · "+words+" ") + b(r.Copies) + s(" · ") }
	full := fmt.Sprintf("%d full %s", n, plural(n, "copy", "copies"))
	short := fmt.Sprintf("%d %s", n, plural(n, "copy", "copies"))
	saved := th.OK.Render(fmt.Sprintf("saved %s (%.0f%%)", human.Size(r.Saved), 100*r.Savings))
	pct := th.OK.Render(fmt.Sprintf("saved %.0f%%", 100*r.Savings))
	return []string{
		m.bar(12) + " " + who + onDisk + layers + s(" once") + self + copies("as "+full) + saved,
		m.bar(8) + " " + who + onDisk + layers + self + copies(full) + pct,
		m.bar(8) + " " + compact + onDisk + layers + self + copies(full) + pct,
		m.bar(8) + " " + compact + onDisk + layers + uppers + copies(full) + pct,
		compact + onDisk + layers + uppers + copies(full) + pct,
		onDisk + layers + uppers + copies(short) + pct,
		onDisk + copies(short) + pct,
	}
}

// bar shows Disk as a share of Copies in w cells: full cells for what is
// on disk, light ones for what sharing saves.
func (m Model) bar(w int) string {
	on := w
	if m.r.Copies > 0 {
		on = int(math.Round(float64(w) * float64(m.r.Disk) / float64(m.r.Copies)))
	}
	on = min(max(on, 1), w)
	return m.th.Plot.Render(strings.Repeat("█", on)) + m.th.Subtle.Render(strings.Repeat("░", w-on))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
