package overlay

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
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
			if got := SafeName(tc.in); got != tc.want {
				t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzSafeName checks that no output holds a control character, an
// invisible format character or invalid UTF-8.
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"plain", "\x1b]52;c;AAAA\x07", "\u202e", "\xff", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := SafeName(s)
		if !utf8.ValidString(out) {
			t.Fatalf("SafeName(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if needsEscape(r) {
				t.Fatalf("SafeName(%q) = %q keeps %U", s, out, r)
			}
		}
		if isPlain(s) && out != s {
			t.Fatalf("SafeName(%q) = %q changed plain text", s, out)
		}
		if strings.ContainsRune(out, 0x1b) {
			t.Fatalf("SafeName(%q) = %q keeps ESC", s, out)
		}
	})
}
