package overlay

import (
	"testing"

	"minidocker/internal/human"
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
			if got := SafeName(tc.in); got != tc.want || got != human.Visible(tc.in) {
				t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
