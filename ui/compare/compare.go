// Package compare is the compare view: two versions of one path, such as
// the file the lower layers give and the one a container's upper
// directory holds, shown one against the other — a unified diff for text,
// both sizes and a hex view of the first bytes that differ for binary
// content, the entries a directory gains and loses. The diff is Myers's
// O(ND) algorithm (Lines).
//
// The caller reads the versions (Side) and says what they are; Build,
// which may take a while on large files, runs off the UI's goroutine, and
// the Model shows its Doc.
package compare

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"minidocker/internal/human"
	"minidocker/overlay"
)

// Limits of a comparison: the bytes read of each version, the lines of
// text compared, and the edits the diff searches before it settles for a
// longer one.
const (
	MaxRead  = 4 << 20
	MaxLines = 50_000
	MaxEdits = 1_000
)

// Side is one version of the path.
type Side struct {
	// Name is the version's role, short: "lower", "upper", "below",
	// "layer 2".
	Name string
	// Label says where the version comes from: "layer 1 (d4e5f6 RUN …)",
	// "upper directory". What says what it is, in one line: "file
	// -rw-r--r-- 0:0 220 B", "whiteout c 0:0", "nothing". Both are shown
	// as they are: the caller makes names in them visible.
	Label, What string
	// Read says that Data holds the version's content to compare: a
	// regular file's first MaxRead bytes at most. A side without content
	// (nothing there, a whiteout) compares as empty.
	Read bool
	Data []byte
	Size int64 // the content's whole size
	// Err says why the content could not be read.
	Err error
}

// Entry is an entry a directory gains, loses or changes, with its
// marker's kind and a word of why.
type Entry struct {
	Kind overlay.DiffKind
	Name string // as the layer holds it (unsafe to print)
	Note string
}

// Input is what to compare.
type Input struct {
	Path         string // as the layer holds it (unsafe to print)
	Lower, Upper Side
	// Message says in one line what the comparison is: a new file, a
	// whiteout, a path the upper directory does not hold.
	Message string
	// Dir compares a directory by its Entries rather than by content.
	Dir     bool
	Entries []Entry
}

// Doc is a comparison ready to show.
type Doc struct {
	in      Input
	body    body
	summary string
	lines   []Line // the unified diff of text
	numW    int    // the width of its line numbers
	at      int    // the first byte that differs, -1 for none
}

type body uint8

const (
	noBody body = iota
	textBody
	hexBody
	dirBody
)

// Build compares the two sides: text line by line, binary content byte
// by byte (either side binary makes both so), a directory by its entries.
func Build(in Input) Doc {
	d := Doc{in: in, at: -1}
	lo, up := in.Lower, in.Upper
	switch {
	case lo.Err != nil || up.Err != nil:
	case in.Dir:
		d.body = dirBody
		d.summary = dirSummary(in.Entries)
	case !lo.Read && !up.Read:
	case Binary(lo.Data) || Binary(up.Data):
		d.body = hexBody
		d.binary()
	default:
		d.body = textBody
		d.text()
	}
	return d
}

// text diffs the sides as lines, within the limits, and says what they cut.
func (d *Doc) text() {
	lo, up := d.in.Lower, d.in.Upper
	a, moreA := textLines(lo)
	b, moreB := textLines(up)
	edits, shortest := Lines(a, b, MaxEdits)
	d.lines = Unified(a, b, edits)
	adds, dels, hunks, last := 0, 0, 0, 0
	for i := range d.lines {
		l := &d.lines[i]
		switch l.Kind {
		case Header:
			hunks++
			continue
		case Added:
			adds++
		case Removed:
			dels++
		}
		last = max(last, l.A, l.B)
		l.Text = human.Visible(expandTabs(l.Text))
	}
	d.numW = len(strconv.Itoa(last))
	parts := []string{"text"}
	if hunks == 0 {
		parts = append(parts, fmt.Sprintf("the same %d lines", len(a)))
	} else {
		parts = append(parts, plural(hunks, "hunk"), fmt.Sprintf("+%d -%d", adds, dels))
	}
	for _, s := range []struct {
		side Side
		more bool
		n    int
	}{{lo, moreA, len(a)}, {up, moreB, len(b)}} {
		switch {
		case s.more:
			parts = append(parts, fmt.Sprintf("%s: the first %d lines only", s.side.Name, s.n))
		case int64(len(s.side.Data)) < s.side.Size:
			parts = append(parts, fmt.Sprintf("%s: the first %s only", s.side.Name, human.Size(int64(len(s.side.Data)))))
		}
	}
	if !shortest {
		parts = append(parts, fmt.Sprintf("over %d lines differ: shown as one change", MaxEdits))
	}
	d.summary = strings.Join(parts, " · ")
}

// textLines are a side's lines, at most MaxLines; a last line cut short
// by the read limit is left out, as it would show as a change.
func textLines(s Side) ([]string, bool) {
	lines, more := SplitLines(s.Data, MaxLines)
	if !more && int64(len(s.Data)) < s.Size && len(lines) > 0 && !strings.HasSuffix(lines[len(lines)-1], "\n") {
		lines = lines[:len(lines)-1]
	}
	return lines, more
}

// binary finds the first byte that differs and sums up both sizes.
func (d *Doc) binary() {
	lo, up := d.in.Lower, d.in.Upper
	d.at = FirstDiff(lo.Data, up.Data)
	parts := []string{"binary"}
	switch {
	case d.at < 0 && (int64(len(lo.Data)) < lo.Size || int64(len(up.Data)) < up.Size):
		parts = append(parts, "the first "+human.Size(int64(len(lo.Data)))+" are the same")
	case d.at < 0:
		parts = append(parts, "the same bytes")
	default:
		parts = append(parts, fmt.Sprintf("first difference at byte %d (0x%x)", d.at, d.at))
	}
	parts = append(parts, lo.Name+" "+size(lo)+", "+up.Name+" "+size(up))
	d.summary = strings.Join(parts, " · ")
}

// size is a side's size in bytes, or "none".
func size(s Side) string {
	if !s.Read {
		return "none"
	}
	return fmt.Sprintf("%d B", s.Size)
}

func dirSummary(es []Entry) string {
	var add, rm, other int
	for _, e := range es {
		switch e.Kind {
		case overlay.Added:
			add++
		case overlay.Removed, overlay.Whiteout:
			rm++
		default:
			other++
		}
	}
	return fmt.Sprintf("directory · %d added · %d removed · %d changed", add, rm, other)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// expandTabs puts spaces for tabs, to the next multiple of four columns,
// so that a tab neither shows as an escape nor moves the terminal's
// cursor past the cell a frame measured.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		if s[i] == '\t' {
			n := 4 - col%4
			b.WriteString(strings.Repeat(" ", n))
			col += n
		} else {
			b.WriteString(s[i : i+size]) // bytes kept as they are, for Visible
			col++
		}
		i += size
	}
	return b.String()
}
