package overlay

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SafeName returns s with everything that could act on a terminal made
// visible: C0 and C1 control characters and DEL (so no ANSI CSI or OSC 52
// sequence survives), invalid UTF-8 bytes, and the invisible format
// characters that reorder or hide text (bidirectional overrides, zero-width
// characters) are written as Go escapes such as \x1b, \n, \u202e; a
// backslash is doubled so that the result reads back unambiguously. Other
// text, including printable non-ASCII, is kept as it is. Names from layers,
// manifests and mount tables go through SafeName before they are printed.
func SafeName(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case r == '\\':
			b.WriteString(`\\`)
		case needsEscape(r):
			q := strconv.QuoteRuneToASCII(r) // 'x' with the escape inside
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII without a backslash.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// needsEscape reports whether r may not be shown as itself.
func needsEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		r == '\u2028' || r == '\u2029' || !unicode.IsPrint(r) && r != ' '
}
