package compare

import (
	"fmt"
	"strings"
)

// Line is one line of a unified diff: a hunk's header, a line both
// versions have, one only the first has, or one only the second has.
type Line struct {
	Kind LineKind
	// A and B are the line's numbers in each version, from 1; 0 where the
	// version does not have it. A header holds its text only.
	A, B int
	Text string // as the file has it, without the newline
	// NoEOL marks the last line of a version that has no newline after it.
	NoEOL bool
}

// LineKind says what a Line of a unified diff is.
type LineKind uint8

// The kinds of line of a unified diff.
const (
	Context LineKind = iota
	Removed
	Added
	Header
)

// Context is how many unchanged lines a hunk shows around a change.
const contextLines = 3

// Unified turns an edit script from Lines into the lines of a unified
// diff: hunks of changes with up to three unchanged lines around them,
// each hunk under its "@@ -a,n +b,m @@" header. Lines of a and b keep
// their newline, which tells a last line without one.
func Unified(a, b []string, edits []Edit) []Line {
	var out []Line
	var h *hunk
	for i, e := range edits {
		if e.Op == Equal {
			if h == nil {
				continue
			}
			if i < len(edits)-1 && e.N <= 2*contextLines {
				h.equal(a, e.A, e.B, e.N)
				continue
			}
			h.equal(a, e.A, e.B, min(e.N, contextLines))
			out = h.flush(out)
			h = nil
			continue
		}
		if h == nil {
			h = &hunk{}
			if i > 0 && edits[i-1].Op == Equal {
				p := edits[i-1]
				c := min(p.N, contextLines)
				h.start(p.A+p.N-c, p.B+p.N-c)
				h.equal(a, p.A+p.N-c, p.B+p.N-c, c)
			} else {
				h.start(e.A, e.B)
			}
		}
		for j := range e.N {
			if e.Op == Delete {
				h.add(Line{Kind: Removed, A: e.A + j + 1}, a[e.A+j])
			} else {
				h.add(Line{Kind: Added, B: e.B + j + 1}, b[e.B+j])
			}
		}
	}
	if h != nil {
		out = h.flush(out)
	}
	return out
}

// hunk gathers the lines of one hunk and counts them for its header.
type hunk struct {
	a0, b0, an, bn int
	lines          []Line
}

func (h *hunk) start(a0, b0 int) { h.a0, h.b0 = a0, b0 }

func (h *hunk) equal(a []string, ai, bi, n int) {
	for j := range n {
		h.add(Line{Kind: Context, A: ai + j + 1, B: bi + j + 1}, a[ai+j])
	}
}

func (h *hunk) add(l Line, text string) {
	l.Text = strings.TrimSuffix(text, "\n")
	l.NoEOL = !strings.HasSuffix(text, "\n")
	if l.A > 0 {
		h.an++
	}
	if l.B > 0 {
		h.bn++
	}
	h.lines = append(h.lines, l)
}

// flush appends the hunk's header and lines to out. As diff -u writes
// it, an empty side is numbered by the line before it.
func (h *hunk) flush(out []Line) []Line {
	a, b := h.a0+1, h.b0+1
	if h.an == 0 {
		a--
	}
	if h.bn == 0 {
		b--
	}
	out = append(out, Line{Kind: Header, Text: fmt.Sprintf("@@ -%s +%s @@", span(a, h.an), span(b, h.bn))})
	return append(out, h.lines...)
}

func span(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// SplitLines cuts text into lines that keep their newline, at most max of
// them; more reports that text goes on beyond them.
func SplitLines(text []byte, max int) (lines []string, more bool) {
	s := string(text)
	lines = make([]string, 0, min(strings.Count(s, "\n")+1, max))
	for s != "" {
		if len(lines) == max {
			return lines, true
		}
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return append(lines, s), false
		}
		lines = append(lines, s[:i+1])
		s = s[i+1:]
	}
	return lines, false
}
