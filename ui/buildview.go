package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"minidocker/internal/human"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// The build view's layout: a status line; the steps beside the output,
// boxed; a line naming the RUN step's container; its layer view.

func (b buildView) resize(w, h int) buildView {
	b.width, b.height = w, h
	if b.live.shown {
		b.live.view = b.live.view.SetSize(w, max(h-b.topHeight()-2, 6))
	}
	return b
}

// topHeight is the height of the boxes of the steps and the output:
// the steps, at least 6 lines of output, at most two fifths of the
// screen.
func (b buildView) topHeight() int {
	return max(min(max(b.total, 6)+2, b.height*2/5, b.height-8), 5)
}

func (b buildView) stepsWidth() int { return max(b.width*11/20, 30) }

// firstShown is the index of the first step the steps box shows: the
// selection stays in view.
func (b buildView) firstShown() int {
	rows := b.topHeight() - 2
	return max(b.sel-rows+1, 0)
}

func (b buildView) view(m Model) string {
	top := b.topHeight()
	sw := b.stepsWidth()
	ow := max(b.width-sw, 4)
	done := 0
	for _, s := range b.steps {
		if s.state == BuildDone || s.state == BuildCached {
			done++
		}
	}
	title := fmt.Sprintf("steps %d/%d", done, b.total)
	if s, ok := b.selected(); ok && s.image != nil {
		title += fmt.Sprintf(" · step %d's image %s", b.sel+1, s.image.ShortID)
	}
	steps := m.th.Box(title, b.stepsBody(m, sw-2, top-2), sw-2, top-2, !b.focusLive)
	outTitle := "output"
	if b.tailStep > 0 {
		outTitle = fmt.Sprintf("output of step %d", b.tailStep)
	}
	out := m.th.Box(outTitle, b.outputBody(ow-2, top-2), ow-2, top-2, false)
	liveH := max(b.height-top-2, 6)
	var live string
	if b.live.shown {
		live = b.live.view.View()
	} else {
		live = m.th.Box("layers", m.th.Subtle.Render("a RUN step's container shows here while it runs: its lower layers, its upper directory (the layer forming) and its merged view"), b.width-2, liveH-2, false)
	}
	return b.statusLine(m) + "\n" + lipgloss.JoinHorizontal(lipgloss.Top, steps, out) + "\n" + b.liveLine(m) + "\n" + live
}

// statusLine says what is built and where the build is.
func (b buildView) statusLine(m Model) string {
	what := m.th.Title.Render("build") + " " + human.Visible(b.spec.Context)
	if b.spec.Dockerfile != "" {
		what += " -f " + human.Visible(b.spec.Dockerfile)
	}
	for _, t := range b.spec.Tags {
		what += " -t " + human.Visible(t)
	}
	took := fmt.Sprintf("%.1fs", b.now.Sub(b.start).Seconds())
	var state string
	switch {
	case b.ended && b.err == nil:
		state = m.th.OK.Render("built " + b.image.ShortID + " in " + took)
	case b.ended && b.cancelling:
		state = m.th.Warn.Render("cancelled after " + took)
	case b.ended:
		state = m.th.Error.Render("failed: " + human.Line(b.err.Error()))
	case b.cancelling:
		state = m.th.Warn.Render("stopping…")
	default:
		state = m.th.Warn.Render("building " + took)
	}
	return theme.Fit(what+m.th.Subtle.Render(" · ")+state, b.width)
}

// stepMarks mark each state, so the list reads the same without colour.
var stepMarks = [...]string{BuildRunning: "▸", BuildCached: "=", BuildDone: "✓", BuildFailed: "✗"}

func (b buildView) stepsBody(m Model, w, h int) string {
	switch {
	case len(b.steps) == 0 && b.ended:
		return m.th.Subtle.Render("no step ran")
	case len(b.steps) == 0:
		return m.th.Subtle.Render("reading the Dockerfile…")
	}
	digits := len(fmt.Sprint(b.total))
	first := b.firstShown()
	var lines []string
	for i := first; i < len(b.steps) && i < first+h; i++ {
		s := b.steps[i]
		st := m.th.Subtle
		switch s.state {
		case BuildRunning:
			st = m.th.Warn
		case BuildDone:
			st = m.th.OK
		case BuildFailed:
			st = m.th.Error
		}
		head := fmt.Sprintf("%s %*d/%d %-7s %6s  ", stepMarks[s.state], digits, i+1, b.total, s.state, seconds(b.elapsed(s)))
		line := theme.Fit(st.Render(head)+human.Visible(s.text), w)
		if i == b.sel {
			sel := m.th.Selected
			if b.focusLive {
				sel = m.th.SelectedBlur
			}
			line = sel.Render(theme.Fit(head+human.Visible(s.text), w))
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// outputBody is the last lines of output that fit.
func (b buildView) outputBody(w, h int) string {
	lines := b.tail
	if b.part != "" {
		lines = append(lines[:len(lines):len(lines)], b.part)
	}
	lines = lines[max(len(lines)-h, 0):]
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = theme.Fit(human.Visible(strings.ReplaceAll(l, "\t", "    ")), w)
	}
	return strings.Join(out, "\n")
}

// liveLine names what the layer view shows.
func (b buildView) liveLine(m Model) string {
	l := b.live
	var s string
	switch {
	case l.id == "":
		s = m.th.Subtle.Render("no RUN step has run yet")
	default:
		text := ""
		if l.step > 0 && l.step <= len(b.steps) {
			text = b.steps[l.step-1].text
		}
		s = fmt.Sprintf("step %d %s · container %s", l.step, human.Visible(text), human.Visible(l.id[:min(12, len(l.id))]))
		if l.gone {
			s += m.th.Subtle.Render(" · removed: its layers as last seen")
		} else {
			s += m.th.Warn.Render(" · running: its upper dir is the layer forming")
		}
	}
	if l.note != "" {
		s += " · " + m.th.Warn.Render(human.Line(l.note))
	}
	return theme.Fit(s, b.width)
}

// shortHelp returns the footer's bindings.
func (b buildView) shortHelp(k keys.Map) []key.Binding {
	if b.focusLive {
		return append([]key.Binding{k.NextPane}, b.live.view.ShortHelp()...)
	}
	open, back := k.Enter, k.Back
	open.SetHelp(k.Enter.Help().Key, "open the step's image")
	if !b.ended {
		back.SetHelp(k.Back.Help().Key, "cancel the build")
	}
	out := []key.Binding{k.Up, k.Down, open}
	if b.live.shown {
		out = append(out, k.NextPane)
	}
	return append(out, back)
}
