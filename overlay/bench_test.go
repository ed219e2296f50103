package overlay

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// benchPaths is the size of the generated base layer.
const benchPaths = 500_000

var (
	benchOnce  sync.Once
	benchBase  string
	benchDirs  []string
	benchError error
)

// benchStack generates, once per process, a stack of three layer
// directories: a base of 500,000 paths (50 × 100 directories of 99 files),
// a layer rewriting 1% of the files and whiting out 50 directories, and a
// layer with 50 opaque directories.
func benchStack(b *testing.B) []string {
	b.Helper()
	benchOnce.Do(func() {
		// OVERLAY_BENCH_DIR keeps the generated stack between runs.
		if keep := os.Getenv("OVERLAY_BENCH_DIR"); keep != "" {
			if _, err := os.Stat(filepath.Join(keep, "l2")); err == nil {
				benchDirs = []string{filepath.Join(keep, "l0"), filepath.Join(keep, "l1"), filepath.Join(keep, "l2")}
				return
			}
			if benchError = os.MkdirAll(keep, 0o755); benchError != nil {
				return
			}
			benchDirs, benchError = genStack(keep)
			return
		}
		benchBase, benchError = os.MkdirTemp("", "overlay-bench-")
		if benchError != nil {
			return
		}
		benchDirs, benchError = genStack(benchBase)
	})
	if benchError != nil {
		b.Fatal(benchError)
	}
	return benchDirs
}

func genStack(base string) ([]string, error) {
	var dirs []string
	for i := range 3 {
		d := filepath.Join(base, fmt.Sprint("l", i))
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
		dirs = append(dirs, d)
	}
	n := 1
	for a := range 50 {
		for c := range 100 {
			d := filepath.Join(dirs[0], fmt.Sprintf("top%02d/dir%03d", a, c))
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, err
			}
			n++
			for f := range 99 {
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("file%03d.txt", f)), []byte("content"), 0o644); err != nil {
					return nil, err
				}
				n++
				if f == 0 && c != 99 {
					p := filepath.Join(dirs[1], fmt.Sprintf("top%02d/dir%03d/file%03d.txt", a, c, f))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						return nil, err
					}
					if err := os.WriteFile(p, []byte("changed content"), 0o644); err != nil {
						return nil, err
					}
				}
			}
		}
		if err := unix.Mknod(filepath.Join(dirs[1], fmt.Sprintf("top%02d/dir099", a)), unix.S_IFCHR, 0); err != nil {
			return nil, err
		}
		o := filepath.Join(dirs[2], fmt.Sprintf("top%02d/dir050", a))
		if err := os.MkdirAll(o, 0o755); err != nil {
			return nil, err
		}
		if err := unix.Setxattr(o, opaqueXattr, []byte("y"), 0); err != nil && os.Geteuid() == 0 {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(o, "only"), []byte("x"), 0o644); err != nil {
			return nil, err
		}
	}
	return dirs, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchBase != "" {
		os.RemoveAll(benchBase)
	}
	os.Exit(code)
}

// BenchmarkReadDir reads the 500,000-path layer and reports the heap it
// keeps (MB-kept) besides time.
func BenchmarkReadDir(b *testing.B) {
	dirs := benchStack(b)
	var t *Tree
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var err error
		t, err = ReadDir(dirs[0])
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(t.Len()), "paths")
	b.ReportMetric(keptMB(func() any { t2, _ := ReadDir(dirs[0]); return t2 }), "MB-kept")
}

// BenchmarkReadStack reads the three layers of the stack.
func BenchmarkReadStack(b *testing.B) {
	dirs := benchStack(b)
	for b.Loop() {
		for _, d := range dirs {
			if _, err := ReadDir(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMerge merges the three read layers.
func BenchmarkMerge(b *testing.B) {
	dirs := benchStack(b)
	var trees []*Tree
	for _, d := range dirs {
		t, err := ReadDir(d)
		if err != nil {
			b.Fatal(err)
		}
		trees = append(trees, t)
	}
	var m *Merged
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m = Merge(trees)
	}
	b.StopTimer()
	b.ReportMetric(float64(m.Len()), "paths")
	b.ReportMetric(keptMB(func() any { return Merge(trees) }), "MB-kept")
}

// BenchmarkLookup looks one deep path up in the merged view.
func BenchmarkLookup(b *testing.B) {
	dirs := benchStack(b)
	var trees []*Tree
	for _, d := range dirs {
		t, err := ReadDir(d)
		if err != nil {
			b.Fatal(err)
		}
		trees = append(trees, t)
	}
	m := Merge(trees)
	b.ResetTimer()
	for b.Loop() {
		if _, ok := m.Lookup("/top42/dir042/file000.txt"); !ok {
			b.Fatal("not found")
		}
	}
}

// keptMB returns the live heap, in MB, that the value made by mk holds.
func keptMB(mk func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := mk()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / 1e6
}

// synthLayers reads the gzip layers "go run ./scripts/synth -layers DIR"
// writes, from the directory OVERLAY_SYNTH_LAYERS names, decompressed.
func synthLayers(b *testing.B) [][]byte {
	b.Helper()
	dir := os.Getenv("OVERLAY_SYNTH_LAYERS")
	if dir == "" {
		b.Skip("OVERLAY_SYNTH_LAYERS is not set")
	}
	var out [][]byte
	for i := 1; ; i++ {
		f, err := os.Open(filepath.Join(dir, fmt.Sprintf("layer%d.tar.gz", i)))
		if err != nil {
			break
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	if len(out) == 0 {
		b.Fatalf("no layer*.tar.gz in %s", dir)
	}
	return out
}

// BenchmarkSynthReadTar reads the synthetic image's decompressed layer
// streams with ReadTar and merges them.
func BenchmarkSynthReadTar(b *testing.B) {
	layers := synthLayers(b)
	var m *Merged
	for b.Loop() {
		var trees []*Tree
		for _, l := range layers {
			t, err := ReadTar(bytes.NewReader(l))
			if err != nil {
				b.Fatal(err)
			}
			trees = append(trees, t)
		}
		m = Merge(trees)
	}
	b.ReportMetric(float64(m.Len()), "paths")
}

// BenchmarkSynthReadDir unpacks the synthetic image's layers once, then
// reads the layer directories with ReadDir and merges them.
func BenchmarkSynthReadDir(b *testing.B) {
	layers := synthLayers(b)
	base := b.TempDir()
	var dirs []string
	for i, l := range layers {
		d := filepath.Join(base, fmt.Sprint(i))
		if err := os.Mkdir(d, 0o755); err != nil {
			b.Fatal(err)
		}
		if _, err := Unpack(bytes.NewReader(l), d, UnpackOptions{}); err != nil {
			b.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	var m *Merged
	b.ResetTimer()
	for b.Loop() {
		var trees []*Tree
		for _, d := range dirs {
			t, err := ReadDir(d)
			if err != nil {
				b.Fatal(err)
			}
			trees = append(trees, t)
		}
		m = Merge(trees)
	}
	b.StopTimer()
	b.ReportMetric(float64(m.Len()), "paths")
	b.ReportMetric(float64(m.Efficiency().Wasted)/1e6, "MB-wasted")
}
