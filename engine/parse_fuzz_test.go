package engine

import (
	"errors"
	"path"
	"strings"
	"testing"
)

// The mount parsers take what a user typed. Whatever it is, they must not
// panic, must refuse with ErrInvalid and no raw control character, and
// what they accept must be mountable: a clean absolute target that is
// neither / nor inside /proc, and for a bind an absolute source. Seeds
// are in testdata/fuzz/.

func FuzzParseVolume(f *testing.F) {
	for _, s := range []string{"/a:/b", "/a:/b:ro,z", "data:/b:nocopy", "/b", "/a:/", "/a:/proc", "/x:/dev:rslave"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkParsed(t, s, ParseVolume) })
}

func FuzzParseMount(f *testing.F) {
	for _, s := range []string{"type=bind,src=/a,dst=/b,ro", "type=tmpfs,dst=/t,tmpfs-size=1m", `"src=a,b",dst=/c`, "dst=/v,volume-nocopy"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkParsed(t, s, ParseMount) })
}

func FuzzParseTmpfs(f *testing.F) {
	for _, s := range []string{"/run", "/run:size=64m,mode=1777", "/t:exec,ro,rshared", "/:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := checkParsed(t, s, ParseTmpfs)
		if v.Target != "" {
			tmpfsMount(v) // its options must make a mount
		}
	})
}

// checkParsed parses s and checks the result's invariants.
func checkParsed(t *testing.T, s string, parse func(string) (Volume, error)) Volume {
	v, err := parse(s)
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("%q: error %v is not ErrInvalid", s, err)
		}
		if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("%q: error %q holds a control character", s, err)
		}
		return Volume{}
	}
	if !path.IsAbs(v.Target) || path.Clean(v.Target) != v.Target || v.Target == "/" || insideProc(v.Target) {
		t.Fatalf("%q: accepted target %q", s, v.Target)
	}
	switch v.Type {
	case TypeBind:
		if !path.IsAbs(v.Source) {
			t.Fatalf("%q: bind source %q", s, v.Source)
		}
	case TypeVolume:
		if v.Source != "" || v.Name != "" && !validVolumeName(v.Name) {
			t.Fatalf("%q: volume %q from %q", s, v.Name, v.Source)
		}
	case TypeTmpfs:
		if v.Source != "" || len(v.Options) == 0 {
			t.Fatalf("%q: tmpfs with source %q, options %q", s, v.Source, v.Options)
		}
	default:
		t.Fatalf("%q: type %q", s, v.Type)
	}
	if reason := v.check(); reason != "" {
		t.Fatalf("%q: accepted %+v, which check refuses: %s", s, v, reason)
	}
	return v
}
