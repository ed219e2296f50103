package buildctx

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// writeTree makes files in dir: a name ending in "/" is a directory, a
// value starting with "->" a symlink to the rest, anything else a file
// with that content (mode 0644, directories 0755).
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		v := files[name]
		var err error
		switch {
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(p, 0o755)
		case strings.HasPrefix(v, "->"):
			err = os.Symlink(strings.TrimPrefix(v, "->"), p)
		default:
			err = os.WriteFile(p, []byte(v), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// listTree describes what dir holds, one line a file, sorted:
// "path mode uid:gid content" ("->target" for a symlink, "/" after a
// directory's path).
func listTree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fi.Sys().(*syscall.Stat_t)
		what := ""
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			what = "->" + target
		case fi.IsDir():
			rel += "/"
		case !fi.Mode().IsRegular():
			what = fi.Mode().Type().String()
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			what = string(b)
		}
		out = append(out, fmt.Sprintf("%s %04o %d:%d %s", rel, fi.Mode().Perm()|specialBits(fi.Mode()), st.Uid, st.Gid, what))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func specialBits(m fs.FileMode) fs.FileMode {
	var b fs.FileMode
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// contextFiles lists every file the sources cover, as a copy walks them:
// each source's path, then what is beneath a directory ("/" after a
// directory).
func contextFiles(t testing.TB, c *Context, srcs []Source) []string {
	t.Helper()
	var out []string
	walkSources(t, c, srcs, func(shown, _ string, dir bool) {
		if dir {
			shown += "/"
		}
		out = append(out, shown)
	})
	return out
}

// walkSources calls fn with each file the sources cover: its path as a
// copy names it, its path in the context, and whether it is a directory.
func walkSources(t testing.TB, c *Context, srcs []Source, fn func(shown, rel string, dir bool)) {
	t.Helper()
	var walk func(rel, shown string)
	walk = func(rel, shown string) {
		d, err := c.root.Open(rel)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		mi, err := c.matchInfo(rel)
		if err != nil {
			t.Fatal(err)
		}
		es, err := c.list(d, rel, mi)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			p := path.Join(shown, e.name)
			fn(p, e.rel, e.isDir())
			if e.isDir() {
				walk(e.rel, p)
			}
		}
	}
	for _, s := range srcs {
		fn(s.Path, s.Rel, s.Dir)
		if s.Dir {
			walk(s.Rel, s.Path)
		}
	}
}

// openCtx opens dir as a build context with no Dockerfile of its own,
// closed when the test ends.
func openCtx(t testing.TB, dir string) *Context {
	t.Helper()
	c, err := Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
