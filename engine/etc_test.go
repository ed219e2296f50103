package engine

import (
	"errors"
	"testing"
)

func TestParseHost(t *testing.T) {
	for in, want := range map[string]string{
		"db:192.0.2.9": "192.0.2.9\tdb", "db=192.0.2.9": "192.0.2.9\tdb", "v6:[2001:db8::1]": "2001:db8::1\tv6",
		"v6:2001:db8::1": "2001:db8::1\tv6", "v6=::1": "::1\tv6",
	} {
		if got, err := ParseHost(in); err != nil || got != want {
			t.Errorf("ParseHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "db", ":1.2.3.4", "db:", "db:host-gateway", "db:300.1.1.1", "v6:fe80::1%eth0", "a b:1.2.3.4", "x\x1b:1.2.3.4"} {
		if _, err := ParseHost(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseHost(%q): %v, want ErrInvalid", in, err)
		}
	}
}

// FuzzParseHost checks that an accepted extra host makes one line of
// /etc/hosts: an address, a tab, a name without blanks or controls.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"db:192.0.2.9", "v6=[::1]", "x:y", "\n:1.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line, err := ParseHost(s)
		if err != nil {
			return
		}
		for _, r := range line {
			if r == '\n' || r < ' ' && r != '\t' {
				t.Fatalf("ParseHost(%q) = %q", s, line)
			}
		}
	})
}
