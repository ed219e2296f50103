package buildctx

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"minidocker/internal/testutil"
)

// benchContext makes the context: 1,000 small files (10
// directories of 100, 100 bytes to 4 KiB each) under app/, and a
// .dockerignore, as a COPY of 1,000 files reads them.
func benchContext(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "ctx")
	files := map[string]string{".dockerignore": "**/*.log\n"}
	for i := range 1000 {
		files[fmt.Sprintf("app/d%d/f%03d.txt", i%10, i)] = string(make([]byte, 100+(i*37)%4000))
	}
	writeTree(b, dir, files)
	return dir
}

// BenchmarkCacheKey is what a cached rebuild does for the COPY: open the
// context, resolve the source and hash its 1,000 files.
func BenchmarkCacheKey(b *testing.B) {
	dir := benchContext(b)
	b.ResetTimer()
	for b.Loop() {
		c, err := Open(dir, "")
		if err != nil {
			b.Fatal(err)
		}
		srcs, err := c.Sources([]string{"app"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Hash(srcs); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkCacheKeyWithHashCache is the same with a HashCache saved by
// the build before, as the builder keeps one: load it, open the context,
// resolve the source, hash (one lstat a file, no read), save the cache.
func BenchmarkCacheKeyWithHashCache(b *testing.B) {
	dir := benchContext(b)
	path := filepath.Join(b.TempDir(), "hashcache")
	warm := NewHashCache()
	warm.window = 0 // the files were made just now
	c := openCtx(b, dir)
	c.SetHashCache(warm)
	srcs, err := c.Sources([]string{"app"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Hash(srcs); err != nil {
		b.Fatal(err)
	}
	if err := warm.Save(path); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		hc, err := LoadHashCache(path)
		if err != nil {
			b.Fatal(err)
		}
		c, err := Open(dir, "")
		if err != nil {
			b.Fatal(err)
		}
		c.SetHashCache(hc)
		srcs, err := c.Sources([]string{"app"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Hash(srcs); err != nil {
			b.Fatal(err)
		}
		c.Close()
		if hc.Len() != 1000 {
			b.Fatalf("cache of %d files, want 1000", hc.Len())
		}
		if err := hc.Save(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHash hashes the 1,000 files of an open context.
func BenchmarkHash(b *testing.B) {
	c := openCtx(b, benchContext(b))
	srcs, err := c.Sources([]string{"app"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Hash(srcs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopyInto copies the 1,000 files into a fresh directory of a
// root each time, as a COPY that misses the cache does, beside cp -a of
// the same files to the same filesystem for a reference: creating files
// is most of the time, and it is the filesystem's.
func BenchmarkCopyInto(b *testing.B) {
	testutil.RequireRoot(b)
	c := openCtx(b, benchContext(b))
	srcs, err := c.Sources([]string{"app"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("buildctx", func(b *testing.B) {
		root := b.TempDir()
		i := 0
		for b.Loop() {
			i++
			if err := c.CopyInto(root, srcs, fmt.Sprintf("/copy%d/", i), CopyOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cp-a", func(b *testing.B) {
		cp := testutil.RequireTool(b, "cp")
		root := b.TempDir()
		i := 0
		for b.Loop() {
			i++
			out, err := exec.Command(cp, "-a", filepath.Join(c.Dir(), "app"), filepath.Join(root, fmt.Sprintf("copy%d", i))).CombinedOutput()
			if err != nil {
				b.Fatalf("cp -a: %v: %s", err, out)
			}
		}
	})
}
