package compare

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
)

// Sniff is how many leading bytes decide whether content is text.
const Sniff = 8 << 10

// Binary reports whether content is binary: a NUL byte, or bytes that are
// not UTF-8, in its first Sniff bytes. A character the cut at Sniff splits
// does not count as invalid.
func Binary(data []byte) bool {
	head := data[:min(len(data), Sniff)]
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	if len(data) > len(head) {
		head = trimSplitRune(head)
	}
	return !utf8.Valid(head)
}

// trimSplitRune drops the start of a character cut short at the end of b.
func trimSplitRune(b []byte) []byte {
	for i := 1; i <= min(utf8.UTFMax-1, len(b)); i++ {
		if c := b[len(b)-i]; utf8.RuneStart(c) {
			if c >= utf8.RuneSelf && !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

// FirstDiff returns the offset of the first byte where a and b differ, the
// length of the shorter when it is the start of the longer, or -1 when
// they are the same.
func FirstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	const chunk = 4 << 10
	i := 0
	for i+chunk <= n && bytes.Equal(a[i:i+chunk], b[i:i+chunk]) {
		i += chunk
	}
	for ; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) == len(b) {
		return -1
	}
	return n
}

// hexWindow is how many bytes from the first difference the hex view
// shows.
const hexWindow = 4 << 10

// hexWidth is how many bytes a row of one side shows in w cells: 16, 8
// or 4, as many as fit beside the offset and the ASCII column.
func hexWidth(w int) int {
	for _, n := range []int{16, 8} {
		if hexRowWidth(n) <= w {
			return n
		}
	}
	return 4
}

// hexRowWidth is the cells of a row of n bytes: an 8-digit offset, the
// bytes in hex, and the bytes as ASCII.
func hexRowWidth(n int) int { return 8 + 2 + 3*n + 1 + n }

// hexRow draws the n bytes of data from off, those that differ from other
// (or that other lacks) in diff's style. The row where data ends says so;
// rows past it are blank.
func hexRow(data, other []byte, off, n int, plain, diff lipgloss.Style) string {
	switch {
	case off > len(data):
		return ""
	case off == len(data):
		return plain.Render(fmt.Sprintf("%08x  (end)", off))
	}
	var hex, text strings.Builder
	// Runs of bytes that differ, or not, are drawn in one piece each: a
	// style per byte costs more than the rest of the frame.
	end := min(off+n, len(data))
	for i := off; i < end; {
		d := differs(data, other, i)
		j := i
		for j < end && differs(data, other, j) == d {
			j++
		}
		var h, t strings.Builder
		for k := i; k < j; k++ {
			fmt.Fprintf(&h, "%02x ", data[k])
			t.WriteByte(printable(data[k]))
		}
		if d {
			hex.WriteString(diff.Render(h.String()))
			text.WriteString(diff.Render(t.String()))
		} else {
			hex.WriteString(h.String())
			text.WriteString(t.String())
		}
		i = j
	}
	hex.WriteString(strings.Repeat("   ", off+n-end))
	row := plain.Render(fmt.Sprintf("%08x  ", off)) + hex.String() + " " + text.String()
	if end < off+n {
		row += plain.Render(" (end)")
	}
	return row
}

func differs(data, other []byte, i int) bool {
	return i < len(data) && (i >= len(other) || data[i] != other[i])
}

// printable is b as the ASCII column shows it: itself when it is
// printable ASCII, else a dot.
func printable(b byte) byte {
	if b >= 0x20 && b < 0x7f {
		return b
	}
	return '.'
}
