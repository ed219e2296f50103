// Package human is how minidocker shows values to people, the same in the
// CLI and the terminal UI: untrusted text made visible (Visible, Line),
// sizes in docker's units (Size, BinarySize, ParseSize) and ages (Ago).
// Every printer of a name or text from an image, a layer, a manifest, a
// mount table or a terminal goes through Visible.
package human

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/docker/go-units"
)

// Visible returns s with everything that could act on a terminal made
// visible: C0 and C1 control characters and DEL (so no ANSI CSI or OSC 52
// sequence survives), invalid UTF-8 bytes, and the invisible format
// characters that reorder or hide text (bidirectional overrides, zero-width
// characters) are written as Go escapes such as \x1b, \n, \u202e; a
// backslash is doubled so that the result reads back unambiguously. Other
// text, including printable non-ASCII, is kept as it is.
func Visible(s string) string {
	if isPlain(s) {
		return s
	}
	return escape(s, true)
}

// Line returns an error message as one visible line: newlines become "; "
// and the rest is escaped as Visible does, except that a backslash is kept
// as it is (a message's names are already escaped once).
func Line(s string) string {
	s = strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "; ")
	if isPlain(s) {
		return s
	}
	return escape(s, false)
}

func escape(s string, doubleBackslash bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case r == '\\' && doubleBackslash:
			b.WriteString(`\\`)
		case NeedsEscape(r):
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

// NeedsEscape reports whether r may not be shown as itself: a control
// character, an invisible format character (Cf: bidi controls, zero-width
// joiners), a line or paragraph separator, or anything unprintable.
func NeedsEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		r == '\u2028' || r == '\u2029' || !unicode.IsPrint(r) && r != ' '
}

// Truncate shortens s to at most n runes, marking the cut with "…"; it
// never cuts inside a UTF-8 character. Escape first, then truncate, so
// that an escape is cut as text rather than escaped again.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Size writes n bytes in SI units with three significant digits, as docker
// images, docker history and dive print sizes: 237B, 10.2kB, 154MB.
func Size(n int64) string {
	return units.HumanSizeWithPrecision(float64(n), 3)
}

// BinarySize writes n bytes in binary units, as docker stats does: 1.5MiB.
func BinarySize(n int64) string {
	return units.BytesSize(float64(n))
}

// ErrBadSize is the category of a size that cannot be read.
var ErrBadSize = errors.New("want a size such as 20MB, 20MiB, 512k or 1g")

// ParseSize reads a size as docker's flags take it: a decimal number (a
// fraction allowed) and an optional unit. A unit with an i (KiB, MiB, GiB)
// or a bare letter (k, m, g: docker's --memory 256m) is binary; a unit with
// a B and no i (kB, MB, GB) is decimal, so that what Size prints reads back
// the same. Signs, exponents, NaN, Inf and sizes past 8 EiB are refused.
func ParseSize(s string) (int64, error) { return parseSize(s, true) }

// ParseRAM reads a memory size as docker's --memory and --memory-swap do:
// as ParseSize, but every unit is binary (64mb and 64MB are 64 MiB), which
// is what docker users write.
func ParseRAM(s string) (int64, error) { return parseSize(s, false) }

func parseSize(s string, decimalB bool) (int64, error) {
	num, unit := splitSize(strings.TrimSpace(s))
	lower := strings.ToLower(unit)
	var n int64
	var err error
	switch {
	case num == "" || strings.Count(num, ".") > 1 || num[0] == '.' || num[len(num)-1] == '.' || !validUnit(lower):
		err = ErrBadSize
	case decimalB && len(lower) > 1 && strings.HasSuffix(lower, "b") && !strings.HasSuffix(lower, "ib"):
		n, err = units.FromHumanSize(num + unit)
	default:
		n, err = units.RAMInBytes(num + unit)
	}
	// go-units converts with int64(float): past 8 EiB that is MinInt64 on
	// amd64 and MaxInt64 on arm64.
	if err == nil && (n < 0 || n == math.MaxInt64) {
		err = ErrBadSize
	}
	if err != nil {
		return 0, fmt.Errorf("size \"%s\": %w", Visible(s), ErrBadSize)
	}
	return n, nil
}

// validUnit reports whether u (lower case) is "", b, or k, m, g, t or p
// followed by nothing, b or ib.
func validUnit(u string) bool {
	if u == "" || u == "b" {
		return true
	}
	if !strings.ContainsRune("kmgtp", rune(u[0])) {
		return false
	}
	rest := u[1:]
	return rest == "" || rest == "b" || rest == "ib"
}

// splitSize splits s into its digits and dots, and the unit after them
// (spaces between dropped).
func splitSize(s string) (num, unit string) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	return s[:i], strings.TrimLeft(s[i:], " ")
}

// Ago writes how long ago something happened, as docker ps and docker
// images do: "Less than a second ago", "5 minutes ago", "About an hour ago".
func Ago(d time.Duration) string {
	return units.HumanDuration(d) + " ago"
}
