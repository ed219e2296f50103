package buildctx

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// hashOf opens dir as a build context and hashes the sources patterns.
func hashOf(t *testing.T, dir string, patterns ...string) digest.Digest {
	t.Helper()
	c, err := Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srcs, err := c.Sources(patterns)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Hash(srcs)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestHash(t *testing.T) {
	files := map[string]string{
		"app/main.go":     "package main",
		"app/lib/util.go": "package lib",
		"app/lib/twin.go": "package lib",
		"app/link":        "->lib/util.go",
		"app/empty/":      "",
		"app/debug.log":   "log",
		"notes.txt":       "notes",
		".dockerignore":   "**/*.log\n",
	}
	do := func(f func(dir string) error) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			t.Helper()
			if err := f(dir); err != nil {
				t.Fatal(err)
			}
		}
	}
	in := func(dir, name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name     string
		patterns []string
		change   func(t *testing.T, dir string)
		same     bool
	}{
		{"nothing", []string{"app"}, func(*testing.T, string) {}, true},
		{"content", []string{"app"}, do(func(d string) error { return os.WriteFile(in(d, "app/main.go"), []byte("package main "), 0o644) }), false},
		{"content of the same size", []string{"app"}, do(func(d string) error { return os.WriteFile(in(d, "app/main.go"), []byte("package mainx"[1:]), 0o644) }), false},
		{"mode", []string{"app"}, do(func(d string) error { return os.Chmod(in(d, "app/main.go"), 0o755) }), false},
		{"mode of a directory", []string{"app"}, do(func(d string) error { return os.Chmod(in(d, "app/lib"), 0o700) }), false},
		{"setuid bit", []string{"app"}, do(func(d string) error { return os.Chmod(in(d, "app/main.go"), 0o644|os.ModeSetuid) }), false},
		{"mtime only", []string{"app"}, do(func(d string) error {
			old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
			if err := os.Chtimes(in(d, "app/main.go"), old, old); err != nil {
				return err
			}
			return os.Chtimes(in(d, "app/lib"), old, old)
		}), true},
		{"rewritten with the same content", []string{"app"}, do(func(d string) error { return os.WriteFile(in(d, "app/main.go"), []byte("package main"), 0o644) }), true},
		{"rename", []string{"app"}, do(func(d string) error { return os.Rename(in(d, "app/main.go"), in(d, "app/main2.go")) }), false},
		{"rename of the source itself", []string{"*.txt"}, do(func(d string) error { return os.Rename(in(d, "notes.txt"), in(d, "notes2.txt")) }), false},
		{"file added", []string{"app"}, do(func(d string) error { return os.WriteFile(in(d, "app/new.go"), nil, 0o644) }), false},
		{"empty directory added", []string{"app"}, do(func(d string) error { return os.Mkdir(in(d, "app/new"), 0o755) }), false},
		{"symlink target", []string{"app"}, do(func(d string) error {
			if err := os.Remove(in(d, "app/link")); err != nil {
				return err
			}
			return os.Symlink("main.go", in(d, "app/link"))
		}), false},
		{"file becomes a symlink to the same content", []string{"app"}, do(func(d string) error {
			if err := os.Remove(in(d, "app/main.go")); err != nil {
				return err
			}
			if err := os.WriteFile(in(d, "main.go"), []byte("package main"), 0o644); err != nil {
				return err
			}
			return os.Symlink("../main.go", in(d, "app/main.go"))
		}), false},
		{"hard link instead of a copy", []string{"app"}, do(func(d string) error {
			if err := os.Remove(in(d, "app/lib/twin.go")); err != nil {
				return err
			}
			return os.Link(in(d, "app/lib/util.go"), in(d, "app/lib/twin.go"))
		}), false},
		{"excluded file changed", []string{"app"}, do(func(d string) error { return os.WriteFile(in(d, "app/debug.log"), []byte("more log"), 0o644) }), true},
		{"file outside the sources changed", []string{"app"}, do(func(d string) error { return os.WriteFile(in(d, "notes.txt"), []byte("other"), 0o644) }), true},
		{".dockerignore hides a file", []string{"app"}, do(func(d string) error {
			return os.WriteFile(in(d, ".dockerignore"), []byte("**/*.log\napp/lib\n"), 0o644)
		}), false},
		{".dockerignore lets a file in", []string{"app"}, do(func(d string) error { return os.WriteFile(in(d, ".dockerignore"), []byte("notes.txt\n"), 0o644) }), false},
		{".dockerignore changed for other files", []string{"app"}, do(func(d string) error {
			return os.WriteFile(in(d, ".dockerignore"), []byte("**/*.log\nnotes.txt\n"), 0o644)
		}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := newContextDir(t, files)
			before := hashOf(t, dir, tt.patterns...)
			tt.change(t, dir)
			after := hashOf(t, dir, tt.patterns...)
			if (before == after) != tt.same {
				t.Errorf("hash %s before, %s after; want same=%v", before, after, tt.same)
			}
		})
	}
}

// TestHashSourceNames checks that the hash tells apart what copies
// differently: the same files named by different sources.
func TestHashSourceNames(t *testing.T) {
	dir := newContextDir(t, map[string]string{"a": "x", "b": "x", "d/a": "x"})
	seen := map[digest.Digest][]string{}
	for _, ps := range [][]string{{"a"}, {"b"}, {"d"}, {"d/a"}, {"a", "b"}, {"b", "a"}, {"."}} {
		d := hashOf(t, dir, ps...)
		if prev, ok := seen[d]; ok {
			t.Errorf("sources %q and %q hash alike", prev, ps)
		}
		seen[d] = ps
	}
}

func TestHashCache(t *testing.T) {
	dir := newContextDir(t, map[string]string{"app/a": "aaaa", "app/b": "bbbb", "app/l": "->a", "app/.x": "x"})
	c := openCtx(t, dir)
	srcs, err := c.Sources([]string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	hash := func(hc *HashCache) digest.Digest {
		t.Helper()
		c.SetHashCache(hc)
		d, err := c.Hash(srcs)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	fresh := hash(nil)

	// with its racy window, files changed just now are not remembered
	if hc := NewHashCache(); hash(hc) != fresh || hc.Len() != 0 {
		t.Fatalf("files changed just now: %d remembered", hc.Len())
	}
	hc := NewHashCache()
	hc.window = 0
	if got := hash(hc); got != fresh || hc.Len() != 3 {
		t.Fatalf("first hash with a cache: %s, %d remembered; want %s, 3", got, hc.Len(), fresh)
	}
	// the cache is what a second hash reads: a forged entry shows
	for k, e := range hc.m {
		e.sum[0] ^= 1
		hc.m[k] = e
	}
	if hash(hc) == fresh {
		t.Fatal("a second hash did not take the cached sums")
	}

	// same size, same mtime, other content: the change time tells
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	a := filepath.Join(dir, "app/a")
	if err := os.Chtimes(a, old, old); err != nil {
		t.Fatal(err)
	}
	hc = NewHashCache()
	hc.window = 0
	before := hash(hc)
	if err := os.WriteFile(a, []byte("AAAA"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(a, old, old); err != nil {
		t.Fatal(err)
	}
	after := hash(hc)
	if after == before || after != hash(nil) {
		t.Errorf("content change under a cache: %s before, %s after, %s without the cache", before, after, hash(nil))
	}

	// saved and loaded, it holds the same
	path := filepath.Join(t.TempDir(), "cache")
	if err := hc.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadHashCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Len() != hc.Len() || hash(loaded) != after {
		t.Errorf("loaded cache: %d entries, want %d", loaded.Len(), hc.Len())
	}
	for k, e := range loaded.m {
		if w := hc.m[k]; w.sum != e.sum || w.ctime != e.ctime || w.size != e.size {
			t.Errorf("entry %v: loaded %+v, saved %+v", k, e, w)
		}
	}
	for _, bad := range [][]byte{[]byte("junk"), []byte(cacheMagic + "short")} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if hc, err := LoadHashCache(path); err != nil || hc.Len() != 0 {
			t.Errorf("load of %q: %d entries, %v", bad, hc.Len(), err)
		}
	}
	if hc, err := LoadHashCache(filepath.Join(t.TempDir(), "none")); err != nil || hc.Len() != 0 {
		t.Errorf("load of a missing cache: %v", err)
	}
}
