package theme

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Box draws body in a frame of inner size w×h with title set into the top
// edge. Body lines are cut or padded to w; missing lines are blank, extra
// ones dropped, so a box always takes exactly (w+2)×(h+2) cells.
func (t Theme) Box(title, body string, w, h int, focused bool) string {
	w, h = max(w, 1), max(h, 0)
	frame := t.Frame
	if focused {
		frame = t.FrameFocus
	}
	tl, tr, bl, br, hz, vt := "╭", "╮", "╰", "╯", "─", "│"
	if t.NoColor && focused {
		tl, tr, bl, br, hz, vt = "┏", "┓", "┗", "┛", "━", "┃"
	}
	var b strings.Builder
	title = ansi.Truncate(title, max(w-2, 0), "…")
	tw := 0
	if title != "" {
		tw = ansi.StringWidth(title) + 2
	}
	b.WriteString(frame.Render(tl + hz))
	if tw > 0 {
		b.WriteString(t.Title.Render(" " + title + " "))
	}
	b.WriteString(frame.Render(strings.Repeat(hz, max(w-1-tw, 0)) + tr))
	lines := strings.Split(body, "\n")
	side := frame.Render(vt)
	for i := 0; i < h; i++ {
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		b.WriteByte('\n')
		b.WriteString(side)
		b.WriteString(Fit(l, w))
		b.WriteString(side)
	}
	b.WriteByte('\n')
	b.WriteString(frame.Render(bl + strings.Repeat(hz, w) + br))
	return b.String()
}

// Fit cuts or pads a styled line to exactly w cells.
func Fit(l string, w int) string {
	n := ansi.StringWidth(l)
	if n > w {
		l = ansi.Truncate(l, w, "…")
		n = ansi.StringWidth(l)
	}
	if n < w {
		l += strings.Repeat(" ", w-n)
	}
	return l
}
