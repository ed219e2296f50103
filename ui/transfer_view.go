package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"minidocker/internal/human"
	"minidocker/ui/theme"
)

// The columns of a layer's line in a pull's box: its short digest, the
// bar, the bytes and the state.
const (
	digestCol = 12
	bytesCol  = 15 // "123.4MB/567.8MB"
	stateCol  = 14 // "already exists"
	minBar    = 6
)

// transferView draws the box of the pull or push: a line per layer of a
// pull, one bar for a push, then the result or the error, and the keys.
func (m Model) transferView() string {
	x, th := m.xfer, m.th
	w := min(max(m.width-4, 40), 84)
	inner := w - 4 // the frame and the padding
	title := ansi.Truncate(th.Title.Render(x.title()), inner, "…")
	tail := m.transferResult(inner)
	// The frame, the title, a blank line and the keys, and the screen's
	// header and footer, which stay in sight.
	rows := max(m.height-2-1-1-1-2-len(tail), 1)
	var body []string
	if x.push {
		body = m.pushLines(inner)
	} else {
		body = m.pullLines(inner, rows)
	}
	lines := append(append(append([]string{title}, body...), tail...), "", m.transferKeys())
	return th.Dialog.Width(w).Render(strings.Join(lines, "\n"))
}

// title says what the box moves and where it is.
func (x *transfer) title() string {
	ref := human.Visible(x.ref)
	end := x.snap.end
	switch {
	case x.push && end == nil && x.cancelling:
		return "Cancelling the push to " + ref + "…"
	case x.push && end == nil:
		return "Pushing " + human.Visible(x.image) + " to " + ref
	case x.push && end.err != nil:
		return "Push of " + human.Visible(x.image) + " to " + ref + " failed"
	case x.push:
		return "Pushed " + human.Visible(x.image) + " to " + ref
	case end == nil && x.cancelling:
		return "Cancelling the pull of " + ref + "…"
	case end == nil:
		return "Pulling " + ref
	case end.err != nil:
		return "Pull of " + ref + " failed"
	}
	return "Pulled " + ref
}

// pullLines are the layers of a pull, bottom first, in at most rows
// lines: when they do not fit, finished layers give way first, then the
// last are cut, a line saying how many are not shown.
func (m Model) pullLines(w, rows int) []string {
	x := m.xfer
	ls := x.snap.layers
	if len(ls) == 0 {
		if x.snap.end == nil {
			return []string{m.th.Subtle.Render("asking the registry for the image's manifest…")}
		}
		return nil
	}
	var hidden int
	if len(ls) > rows {
		// Finished layers, lowest first, give way to a line counting them.
		excess := len(ls) - (rows - 1)
		var keep []PullLayer
		for _, l := range ls {
			if hidden < excess && finished(l) {
				hidden++
				continue
			}
			keep = append(keep, l)
		}
		ls = keep
	}
	var out []string
	if hidden > 0 {
		out = append(out, m.th.Subtle.Render(plural(hidden, "more layer")+" finished"))
	}
	cut := 0
	if len(out)+len(ls) > rows {
		cut = len(ls) - max(rows-len(out)-1, 0)
		ls = ls[:len(ls)-cut]
	}
	for _, l := range ls {
		out = append(out, m.layerLine(l, w))
	}
	if cut > 0 {
		out = append(out, m.th.Subtle.Render("… "+plural(cut, "more layer")))
	}
	return out
}

// finished reports whether a layer of a pull needs nothing more.
func finished(l PullLayer) bool { return l.State == PullDone || l.State == PullExists }

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// layerLine is one layer of a pull: "1a2b3c4d5e6f ████░░░░ 1.2MB/3.4MB downloading".
func (m Model) layerLine(l PullLayer, w int) string {
	bw := max(w-digestCol-bytesCol-stateCol-3, minBar)
	bytes := human.Size(l.Size)
	var bar string
	switch l.State {
	case PullExists:
		bar = strings.Repeat(" ", bw)
	case PullFetching, PullResuming:
		bar = m.bar(l.Done, l.Size, bw)
		bytes = human.Size(l.Done) + "/" + human.Size(l.Size)
	case PullDone:
		bar = m.bar(1, 1, bw)
	default:
		bar = m.bar(0, 1, bw)
	}
	state := l.State.String()
	if l.State == PullDone || l.State == PullExists {
		state = m.th.OK.Render(state)
	}
	line := fmt.Sprintf("%-*s %s %*s %s", digestCol, shortDigest(l.Digest), bar, bytesCol, bytes, state)
	return theme.Fit(line, w)
}

// bar draws done of total in w cells.
func (m Model) bar(done, total int64, w int) string {
	n := 0
	if total > 0 {
		n = int(min(max(done, 0), total) * int64(w) / total)
	}
	return m.th.Plot.Render(strings.Repeat("█", n)) + m.th.Subtle.Render(strings.Repeat("░", w-n))
}

// shortDigest is how docker names a layer in its progress: 12 hex digits.
func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok {
		hex = d
	}
	return human.Visible(hex[:min(digestCol, len(hex))])
}

// pushLines is the bar of a push.
func (m Model) pushLines(w int) []string {
	x := m.xfer
	if x.snap.end != nil && x.snap.total == 0 {
		return nil
	}
	if x.snap.total == 0 {
		return []string{m.th.Subtle.Render("asking the registry which blobs it has…")}
	}
	bw := max(w-bytesCol-1, minBar)
	bytes := human.Size(x.snap.done) + "/" + human.Size(x.snap.total)
	return []string{fmt.Sprintf("%s %*s", m.bar(x.snap.done, x.snap.total, bw), bytesCol, bytes)}
}

// transferResult is what the transfer came to, under its progress: the
// bytes so far, the manifest's digest, or the error in full, wrapped.
func (m Model) transferResult(w int) []string {
	x := m.xfer
	end := x.snap.end
	switch {
	case end == nil && x.push:
		return nil
	case end == nil:
		return []string{"", m.th.Subtle.Render(pullSummary(x.snap.layers))}
	case end.err != nil:
		msg := m.th.Error.Width(w).Render("error: " + human.Line(end.err.Error()))
		return append([]string{""}, strings.Split(msg, "\n")...)
	case x.push:
		p := end.pushed
		return []string{"", "digest " + human.Visible(p.Digest), m.th.Subtle.Render("manifest of " + strconv.FormatInt(p.Size, 10) + " bytes, in the registry as " + human.Visible(p.Ref))}
	}
	p := end.pulled
	said := plural(p.Fetched, "layer") + " fetched, stored as " + human.Visible(p.Name)
	if p.Name == "" {
		said = plural(p.Fetched, "layer") + " fetched, stored as " + p.Image.ShortID + " (no name: pulled by digest)"
	}
	if p.UpToDate {
		said = "up to date: the store had the image"
	}
	return []string{"", "digest " + human.Visible(p.Digest), m.th.Subtle.Render(said)}
}

// pullSummary counts a pull's layers and bytes so far.
func pullSummary(ls []PullLayer) string {
	var n int
	var done, total int64
	for _, l := range ls {
		if finished(l) {
			n++
		}
		if l.State != PullExists {
			done, total = done+l.Done, total+l.Size
		}
	}
	if len(ls) == 0 {
		return "no layers yet"
	}
	return fmt.Sprintf("%d of %s done · %s of %s fetched", n, plural(len(ls), "layer"), human.Size(done), human.Size(total))
}

// transferKeys are the box's keys.
func (m Model) transferKeys() string {
	x, th := m.xfer, m.th
	end := x.snap.end
	switch {
	case end == nil && x.cancelling:
		return th.Subtle.Render("cancelling: the store keeps nothing half-made")
	case end == nil:
		return th.Key.Render("esc") + " cancel the " + x.verb()
	case !x.push && end.err == nil:
		return th.Key.Render("enter") + " open the image  " + th.Key.Render("esc") + " close"
	}
	return th.Key.Render("esc") + " close"
}
