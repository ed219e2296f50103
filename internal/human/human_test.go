package human

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestVisible(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "usr/lib/libc.so.6", "usr/lib/libc.so.6"},
		{"unicode kept", "café/日本", "café/日本"},
		{"ansi colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"osc 52 clipboard", "\x1b]52;c;ZWNobyBwd25lZA==\x07", `\x1b]52;c;ZWNobyBwd25lZA==\a`},
		{"c1 csi", "a\u009b2Jb", `a\u009b2Jb`},
		{"newline and tab", "a\nb\tc\r", `a\nb\tc\r`},
		{"del", "a\x7f", `a\x7f`},
		{"backslash doubled", `a\x1b`, `a\\x1b`},
		{"invalid utf-8", "a\xff\xfeb", `a\xff\xfeb`},
		{"bidi override", "evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"zero width", "a\u200bb", `a\u200bb`},
		{"nul", "a\x00b", `a\x00b`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Visible(tc.in); got != tc.want {
				t.Errorf("Visible(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\nb\n", "a; b"},
		{`name "a\\x1b": bad`, `name "a\\x1b": bad`},
		{"bidi \u202e here", `bidi \u202e here`},
		{"esc \x1b[2J", `esc \x1b[2J`},
	}
	for _, tc := range tests {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 20, "short"},
		{"ééééé", 3, "éé…"},
		{"日本語のテキスト", 4, "日本語…"},
		{"abc", 0, ""},
	}
	for _, tc := range tests {
		got := Truncate(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{0, "0B"}, {237, "237B"}, {10240, "10.2kB"}, {154_000_000, "154MB"}, {192_700_000, "193MB"}}
	for _, tc := range tests {
		if got := Size(tc.n); got != tc.want {
			t.Errorf("Size(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := BinarySize(1536 * 1024); got != "1.5MiB" {
		t.Errorf("BinarySize = %q, want 1.5MiB", got)
	}
}

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"1024", 1024}, {"20MB", 20_000_000}, {"20MiB", 20 << 20}, {"20mib", 20 << 20},
		{"1g", 1 << 30}, {"256m", 256 << 20}, {"1.5GB", 1_500_000_000}, {"300kB", 300_000},
		{"512k", 512 << 10}, {"10 MB", 10_000_000}, {"7B", 7}, {"7b", 7},
	}
	for _, tc := range good {
		got, err := ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "NaN", "Inf", "-1", "-1MB", "1e30", "1e3", "+5", "20 MBs", "MB", "1..2", ".5", "5.",
		"99999999999999999999", "9000000000g", "1x", "0x10", "1_000"} {
		if n, err := ParseSize(in); !errors.Is(err, ErrBadSize) {
			t.Errorf("ParseSize(%q) = %d, %v; want ErrBadSize", in, n, err)
		} else if !strings.Contains(err.Error(), "size ") {
			t.Errorf("ParseSize(%q): error %q does not name the size", in, err)
		}
	}
}

func TestParseRAM(t *testing.T) {
	for in, want := range map[string]int64{"256m": 256 << 20, "1g": 1 << 30, "512k": 512 << 10, "100": 100,
		"1.5G": 3 << 29, "64MiB": 64 << 20, "64MB": 64 << 20, "64mb": 64 << 20} {
		if got, err := ParseRAM(in); err != nil || got != want {
			t.Errorf("ParseRAM(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"x", "-1m", "-5", "", "1e30", "1e3", "9999999999g", "NaN", "Inf"} {
		if n, err := ParseRAM(in); !errors.Is(err, ErrBadSize) {
			t.Errorf("ParseRAM(%q) = %d, %v; want ErrBadSize", in, n, err)
		}
	}
}

func TestAgo(t *testing.T) {
	if got := Ago(5 * time.Minute); got != "5 minutes ago" {
		t.Errorf("Ago(5m) = %q", got)
	}
}

// FuzzVisible checks that no output holds a control character, an
// invisible format character or invalid UTF-8, and that plain text is kept.
func FuzzVisible(f *testing.F) {
	for _, s := range []string{"plain", "\x1b]52;c;AAAA\x07", "\u202e", "\xff", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Visible(s), Line(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("%q → %q: invalid UTF-8", s, out)
			}
			for _, r := range out {
				if NeedsEscape(r) {
					t.Fatalf("%q → %q keeps %U", s, out, r)
				}
			}
		}
		if isPlain(s) && Visible(s) != s {
			t.Fatalf("Visible(%q) changed plain text", s)
		}
	})
}

// FuzzParseSize checks that a size is never negative and that what Size
// prints of it reads back within its rounding.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"20MB", "1g", "NaN", "1e30", "1.5GiB", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}
