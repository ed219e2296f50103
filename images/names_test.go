package images

import (
	"regexp"
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
