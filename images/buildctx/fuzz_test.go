package buildctx

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/patternmatcher/ignorefile"
)

// FuzzSources feeds a .dockerignore and a source pattern to a context
// that holds nested directories, exceptions' targets and symlinks in and
// out of it. Whatever is resolved must lie inside the context with no
// symlink left in it, never be a file .dockerignore excludes, and hash;
// whatever is refused must say so in one line. Seeds: testdata/fuzz.
func FuzzSources(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "ctx")
	writeTree(f, filepath.Dir(dir), map[string]string{"outside": "o"})
	writeTree(f, dir, map[string]string{
		"a.txt": "a", "b.log": "b", "d/e/f.txt": "f", "d/e/g.log": "g", "d/keep": "k",
		"d/in": "->e/f.txt", "d/up": "->../a.txt", "out": "->../outside", "abs": "->/etc",
		"dd": "->d", "[x]": "bracket", "sp ace/q": "q",
	})
	c, err := OpenDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	c.stage = false // a build context, its .dockerignore set below
	f.Cleanup(func() { c.Close() })
	f.Fuzz(func(t *testing.T, ignore, pattern string) {
		patterns, err := ignorefile.ReadAll(strings.NewReader(ignore))
		if err != nil {
			return
		}
		c.ignore = nil
		if len(patterns) > 0 {
			if c.ignore, err = newMatcher(patterns); err != nil {
				return
			}
		}
		srcs, err := c.Sources([]string{pattern})
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Errorf("error not on one visible line: %q", err)
			}
			return
		}
		for _, s := range srcs {
			p := filepath.Join(dir, s.Rel)
			if s.Rel != "." && (filepath.IsAbs(s.Rel) || s.Rel != filepath.Clean(s.Rel) || strings.HasPrefix(s.Rel, "..")) {
				t.Fatalf("source %+v: Rel is not clean and inside", s)
			}
			if real, err := filepath.EvalSymlinks(p); err != nil || real != p {
				t.Fatalf("source %+v resolves to %s (%v)", s, real, err)
			}
		}
		// A file the walk yields must be one .dockerignore keeps as
		// BuildKit decides it, path by path from the top down
		// (MatchesUsingParentResults). MatchesOrParentMatches can differ:
		// with "*", "!d/*", "*" it excludes d/e/f.txt, which the top-down
		// match keeps, as the third pattern is skipped for d and leaves d/e
		// no parent mark (seed reinclude-after-skip).
		walkSources(t, c, srcs, func(_, rel string, dir bool) {
			if c.ignore == nil || dir {
				return
			}
			if !c.visible(rel, false) {
				t.Fatalf("walk of %+v yields %s, which .dockerignore excludes", srcs, rel)
			}
		})
		if _, err := c.Hash(srcs); err != nil {
			t.Fatalf("hash of %+v: %v", srcs, err)
		}
	})
}

// FuzzChown feeds --chown values and /etc/passwd and /etc/group contents
// to the parser and the lookup: no panic, ids in range, numbers read as
// BuildKit reads them, errors on one visible line. Seeds: testdata/fuzz.
func FuzzChown(f *testing.F) {
	f.Fuzz(func(t *testing.T, spec string, passwd, group []byte) {
		read := func(file string) ([]byte, error) {
			switch file {
			case "/etc/passwd":
				return passwd, nil
			case "/etc/group":
				return group, nil
			}
			return nil, fs.ErrNotExist
		}
		s, err := parseChown(spec)
		var o owner
		if err == nil {
			o, err = s.resolve(read)
		}
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Errorf("error not on one visible line: %q", err)
			}
			return
		}
		for _, id := range []int{o.uid, o.gid} {
			if id < 0 || id >= 1<<32-1 {
				t.Fatalf("--chown=%q: id %d out of range", spec, id)
			}
		}
		user, grp, _ := strings.Cut(spec, ":")
		if u, err := strconv.ParseUint(user, 10, 32); err == nil && int(u) != o.uid {
			t.Fatalf("--chown=%q: uid %d", spec, o.uid)
		}
		if g, err := strconv.ParseUint(grp, 10, 32); err == nil && int(g) != o.gid {
			t.Fatalf("--chown=%q: gid %d", spec, o.gid)
		}
	})
}

// TestFuzzSeedsExist keeps the seed corpora from going missing: a fuzz
// target without seeds runs nothing under go test.
func TestFuzzSeedsExist(t *testing.T) {
	for _, name := range []string{"FuzzSources", "FuzzChown"} {
		es, err := os.ReadDir(filepath.Join("testdata", "fuzz", name))
		if len(es) < 3 {
			t.Errorf("%s: %d seeds (%v), want 3 or more", name, len(es), err)
		}
	}
}
