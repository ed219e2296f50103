// Package stats draws a container's memory, CPU and pids over time as
// small plots, one column a sample.
package stats

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/theme"
)

// Sample is one reading of the counters.
type Sample struct {
	At          time.Time
	Memory      int64
	MemoryLimit int64
	CPUNanos    int64
	Pids        int64
}

// Model keeps the last readings.
type Model struct {
	th            theme.Theme
	mem, cpu, pid []float64
	last          Sample
	limit         int64
	width, height int
	// ended says why no more readings come (the container stopped).
	ended string
}

// Keep is how many samples are kept.
const Keep = 240

// New returns an empty plot.
func New(th theme.Theme) Model { return Model{th: th} }

// Init does nothing.
func (m Model) Init() tea.Cmd { return nil }

// Add records a reading; CPU is the share of one CPU since the last one.
func (m Model) Add(s Sample) Model {
	cpu := 0.0
	if !m.last.At.IsZero() {
		if dt := s.At.Sub(m.last.At); dt > 0 {
			cpu = float64(s.CPUNanos-m.last.CPUNanos) / float64(dt.Nanoseconds()) * 100
		}
	}
	m.mem = keep(m.mem, float64(s.Memory))
	m.cpu = keep(m.cpu, max(cpu, 0))
	m.pid = keep(m.pid, float64(s.Pids))
	m.last, m.limit = s, s.MemoryLimit
	return m
}

func keep(xs []float64, x float64) []float64 {
	xs = append(xs, x)
	if len(xs) > Keep {
		xs = xs[len(xs)-Keep:]
	}
	return xs
}

// End says there is nothing more to read, and why: the plots stay, with
// why under them. An empty why takes the end back (the container runs
// again).
func (m Model) End(why string) Model { m.ended = why; return m }

// Ended reports whether End was called with a reason.
func (m Model) Ended() bool { return m.ended != "" }

// SetSize gives the plots w×h cells.
func (m Model) SetSize(w, h int) Model { m.width, m.height = w, h; return m }

// Update does nothing: readings come through Add.
func (m Model) Update(tea.Msg) (Model, tea.Cmd) { return m, nil }

// View draws three plots stacked: a label line and a bar row each.
func (m Model) View() string {
	if len(m.mem) == 0 && m.ended != "" {
		return m.th.Warn.Render(m.ended)
	}
	if len(m.mem) == 0 {
		return m.th.Subtle.Render("waiting for the first reading…")
	}
	labels := 3
	if m.ended != "" {
		labels++
	}
	rows := max((m.height-labels)/3, 1)
	mem := fmt.Sprintf("memory %s", human.BinarySize(m.last.Memory))
	if m.limit > 0 && m.limit < 1<<50 { // no limit reads as the largest page-aligned number
		mem += " of " + human.BinarySize(m.limit)
	}
	out := []string{
		m.th.Bold.Render(mem), m.plot(m.mem, rows),
		m.th.Bold.Render(fmt.Sprintf("cpu %.1f%%", m.cpu[len(m.cpu)-1])), m.plot(m.cpu, rows),
		m.th.Bold.Render(fmt.Sprintf("pids %d", m.last.Pids)), m.plot(m.pid, rows),
	}
	if m.ended != "" {
		out = append(out, m.th.Warn.Render(m.ended))
	}
	return strings.Join(out, "\n")
}

var bars = []rune(" ▁▂▃▄▅▆▇█")

// plot draws the last samples that fit as columns of rows cells.
func (m Model) plot(xs []float64, rows int) string {
	w := max(m.width, 1)
	if len(xs) > w {
		xs = xs[len(xs)-w:]
	}
	top := 0.0
	for _, x := range xs {
		top = max(top, x)
	}
	if top == 0 {
		top = 1
	}
	lines := make([]string, rows)
	for r := 0; r < rows; r++ {
		var b strings.Builder
		floor := float64(rows-1-r) / float64(rows)
		for _, x := range xs {
			f := (x/top - floor) * float64(rows)
			i := int(max(min(f, 1), 0)*8 + 0.5)
			b.WriteRune(bars[i])
		}
		lines[r] = m.th.Plot.Render(b.String())
	}
	return strings.Join(lines, "\n")
}
