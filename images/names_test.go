package images

import (
	"regexp"
	"strings"
	"testing"
)

// The grammar of names.go as the regular expressions it replaces: the hand
// matchers must agree with them on every input.
var (
	nameComponentRE = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	hostPartRE      = `(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?`
	repoRE          = regexp.MustCompile(`^` + hostPartRE + nameComponentRE + `(?:/` + nameComponentRE + `)*$`)
	tagRE           = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	holderRE        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
)

func checkGrammar(t *testing.T, s string) {
	if got, want := validRepo(s), repoRE.MatchString(s); got != want {
		t.Errorf("validRepo(%q) = %v, the expression says %v", s, got, want)
	}
	if got, want := validTag(s), tagRE.MatchString(s); got != want {
		t.Errorf("validTag(%q) = %v, the expression says %v", s, got, want)
	}
	if got, want := validHolder(s), holderRE.MatchString(s); got != want {
		t.Errorf("validHolder(%q) = %v, the expression says %v", s, got, want)
	}
}

func TestNameGrammar(t *testing.T) {
	for _, s := range nameSeeds {
		checkGrammar(t, s)
	}
}

var nameSeeds = []string{
	"", "base", "Base", "a", "a-b", "a--b", "a__b", "a___b", "a._b", "a.b.c", "-a", "a-", "_a", "a_",
	"team/app", "localhost:5000/team/app", "local-host:5000/x", "a.b:1/c", "a:/b", "a:x/b", "A/b",
	"-a.b/c", "a-.b/c", "a..b/c", "x/", "/x", "x//y", "x/Y", "registry.example.com/a/b/c",
	"v1.2", "_tag", ".tag", "-tag", "\x1b[31mred", "a b", "é",
}

func FuzzNameGrammar(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(checkGrammar)
}

// TestErrorsShowNamesOnce: an untrusted name appears in an error message
// once, made visible by human.Visible and quoted: no raw control character,
// no second escaping, printable non-ASCII kept as it is.
func TestErrorsShowNamesOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"escape sequence", func() error { _, err := ParseName("\x1b[31mred"); return err }, `image name "\x1b[31mred": must be`},
		{"bidi override", func() error { _, err := ParseName("a\u202eb"); return err }, `image name "a\u202eb": must be`},
		{"backslash", func() error { _, err := ParseName(`a\b`); return err }, `image name "a\\b": must be`},
		{"non-ASCII kept", func() error { _, err := ParseName("héllo"); return err }, `image name "héllo": must be`},
		{"space", func() error { _, err := ParseName("Bad Name"); return err }, `image name "Bad Name": must be`},
		{"tag", func() error { _, err := ParseName("a:\x07"); return err }, `image tag "\a": must be`},
		{"holder", func() error { _, err := (&Store{}).holdPath("x\ny"); return err }, `holder "x\ny": invalid reference`},
		{"format", func() error { _, err := ParseFormat("\x1b]52;c;"); return err }, `format "\x1b]52;c;": want`},
		{"not found", func() error { return notFoundIn("\x1b[2J") }, `image \x1b[2J: not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.ContainsAny(msg, "\x1b\x07\n\u202e") {
				t.Errorf("error %q; want it to contain %q and no raw control character", msg, tc.want)
			}
		})
	}
}

func notFoundIn(ref string) error {
	_, err := find(nil, ref)
	return err
}
