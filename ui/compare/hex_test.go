package compare

import (
	"bytes"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

func TestBinary(t *testing.T) {
	text := bytes.Repeat([]byte("abc\n"), Sniff/4)
	euro := []byte("€") // 3 bytes
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"empty", nil, false},
		{"ascii", []byte("hello\n"), false},
		{"utf-8", []byte("héllo €\n"), false},
		{"nul", []byte("ab\x00c"), true},
		{"invalid utf-8", []byte("ab\xffc"), true},
		{"latin-1", []byte("caf\xe9\n"), true},
		{"nul after the sniffed bytes", append(bytes.Clone(text), 0), false},
		// A character split by the cut at Sniff is no reason to call it binary.
		{"rune split at the cut", append(append(bytes.Clone(text[:Sniff-1]), euro...), 'x'), false},
		{"file ends inside a rune", append(bytes.Clone(text[:Sniff-2]), euro[:2]...), true},
	}
	for _, tt := range tests {
		if got := Binary(tt.data); got != tt.want {
			t.Errorf("%s: Binary = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFirstDiff(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 10_000)
	changed := bytes.Clone(big)
	changed[9_000] = 8
	tests := []struct {
		name string
		a, b []byte
		want int
	}{
		{"same", []byte("abc"), []byte("abc"), -1},
		{"both empty", nil, nil, -1},
		{"first byte", []byte("abc"), []byte("xbc"), 0},
		{"prefix", []byte("ab"), []byte("abc"), 2},
		{"one empty", nil, []byte("a"), 0},
		{"past a chunk", big, changed, 9_000},
	}
	for _, tt := range tests {
		if got := FirstDiff(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: FirstDiff = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestHexRow(t *testing.T) {
	plain, hl := lipgloss.NewStyle(), lipgloss.NewStyle().Bold(true)
	a := []byte("ABCDEFGH\x00\x01")
	b := []byte("ABCxEFGH")
	tests := []struct {
		name       string
		data, othr []byte
		off, n     int
		want       string
	}{
		{"first row", a, b, 0, 8, "00000000  41 42 43 44 45 46 47 48  ABCDEFGH"},
		{"the end inside", a, b, 8, 8, "00000008  00 01                    .. (end)"},
		{"the end at a row", b, a, 8, 8, "00000008  (end)"},
		{"past the end", b, a, 16, 8, ""},
	}
	for _, tt := range tests {
		got := ansi.Strip(hexRow(tt.data, tt.othr, tt.off, tt.n, plain, hl))
		if got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
		if tt.want != "" && !strings.HasSuffix(tt.want, "(end)") && len(got) != hexRowWidth(tt.n) {
			t.Errorf("%s: %d cells, hexRowWidth says %d", tt.name, len(got), hexRowWidth(tt.n))
		}
	}
	// Only the byte that differs, and what the other side lacks, are lit.
	row := hexRow(a, b, 0, 8, plain, hl)
	if lit := hl.Render("44 "); !strings.Contains(row, lit) || strings.Count(row, "\x1b[1m") != 2 {
		t.Errorf("the differing byte 0x44 is not the one lit: %q", row)
	}
}

func TestHexWidth(t *testing.T) {
	for _, tt := range []struct{ w, want int }{{200, 16}, {hexRowWidth(16), 16}, {hexRowWidth(16) - 1, 8}, {57, 8}, {37, 4}} {
		if got := hexWidth(tt.w); got != tt.want {
			t.Errorf("hexWidth(%d) = %d, want %d", tt.w, got, tt.want)
		}
	}
}
