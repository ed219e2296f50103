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
	if t.heavy && focused {
		tl, tr, bl, br, hz, vt = "┏", "┓", "┗", "┛", "━", "┃"
	}
	var b strings.Builder
	title = ansi.Truncate(title, max(w-3, 0), "…")
	tw := 0
	if title != "" {
		tw = ansi.StringWidth(title) + 2
	}
	b.WriteString(frame.Render(tl + hz))
	if tw > 0 {
		ts := t.Title
		if focused {
			ts = t.TitleFocus
		}
		b.WriteString(ts.Render(" " + title + " "))
	}
	b.WriteString(frame.Render(strings.Repeat(hz, max(w-1-tw, 0)) + tr))
	lines := strings.Split(body, "\n")
	side := frame.Render(vt)
	blank := strings.Repeat(" ", w)
	for i := 0; i < h; i++ {
		l := blank
		if i < len(lines) {
			l = lines[i]
			if !t.exact || l == "" {
				l = Fit(l, w)
			}
		}
		b.WriteByte('\n')
		b.WriteString(side)
		b.WriteString(l)
		b.WriteString(side)
	}
	b.WriteByte('\n')
	b.WriteString(frame.Render(bl + strings.Repeat(hz, w) + br))
	return b.String()
}

// Exact returns the theme for a Box whose body lines are already exactly
// w cells wide, so that measuring them can be skipped: the cost of a frame
// of a big tree is mostly measuring text.
func (t Theme) Exact() Theme {
	t.exact = true
	return t
}

// JoinLines puts blocks side by side, line by line; every block must have
// the same number of lines, each as wide as the block.
func JoinLines(blocks ...string) string {
	split := make([][]string, len(blocks))
	n := 0
	for i, bl := range blocks {
		split[i] = strings.Split(bl, "\n")
		n = max(n, len(split[i]))
	}
	var b strings.Builder
	for y := 0; y < n; y++ {
		if y > 0 {
			b.WriteByte('\n')
		}
		for _, lines := range split {
			if y < len(lines) {
				b.WriteString(lines[y])
			}
		}
	}
	return b.String()
}

// Fit cuts or pads a styled line to exactly w cells.
func Fit(l string, w int) string {
	if isASCII(l) {
		if len(l) > w {
			return l[:max(w-1, 0)] + "…"
		}
		return l + strings.Repeat(" ", w-len(l))
	}
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

// isASCII reports whether s is printable ASCII, one cell a byte.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// Cut fits plain (unstyled) text to w cells, cheaply when it is ASCII.
func Cut(s string, w int) string { return Fit(s, w) }

// Tail keeps the last cells of s that fit in w, after an ellipsis.
func Tail(s string, w int) string {
	n := ansi.StringWidth(s)
	if n <= w || w < 2 {
		return s
	}
	return "…" + ansi.TruncateLeft(s, n-w+1, "")
}
