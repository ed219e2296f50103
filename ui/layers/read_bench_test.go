package layers_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
)

// bigUpper makes a lower layer of a few hundred files and an upper
// directory of 100 directories of 1,000 empty files each, as
// scripts/tui-figures.sh writes inside a container.
func bigUpper(tb testing.TB) (lower, upper string) {
	tb.Helper()
	dir := tb.TempDir()
	lower, upper = filepath.Join(dir, "lower"), filepath.Join(dir, "upper")
	for _, d := range []string{"bin", "etc", "usr/bin", "usr/lib", "var/log"} {
		for i := range 25 {
			p := filepath.Join(lower, d, fmt.Sprintf("file%d", i))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for i := range 100 {
		d := filepath.Join(upper, "data", fmt.Sprintf("d%d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
		for j := range 1000 {
			f, err := os.Create(filepath.Join(d, fmt.Sprintf("f%d", j)))
			if err != nil {
				tb.Fatal(err)
			}
			f.Close()
		}
	}
	return lower, upper
}

// BenchmarkReadStack100k reads a container's stack whose upper directory
// holds 100,000 entries and opens the layer view on it; it reports the
// heap the view keeps (heap-MB, after a GC) and what reading it allocated.
func BenchmarkReadStack100k(b *testing.B) {
	lower, upper := bigUpper(b)
	var keep layers.Model
	// The peak of the heap goal: the heap the runtime lets grow before it
	// collects, what the process's peak RSS follows.
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
		var maxGoal uint64
		for {
			metrics.Read(sample)
			maxGoal = max(maxGoal, sample[0].Value.Uint64(), sample[1].Value.Uint64())
			select {
			case <-done:
				peak <- maxGoal
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s, err := layers.ReadStack([]string{lower}, upper, []string{"base"})
		if err != nil {
			b.Fatal(err)
		}
		keep = layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 37)
	}
	b.StopTimer()
	close(done)
	b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MB")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	runtime.KeepAlive(keep)
}

// BenchmarkFirstLayerStep is the first < on an image whose bottom layer
// holds 100,000 entries: the tree of layers 0 to 0 merged is made then,
// and kept for the next time.
func BenchmarkFirstLayerStep(b *testing.B) {
	small, big := bigUpper(b)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s, err := layers.ReadStack([]string{big, small}, "", []string{"big", "small"})
		if err != nil {
			b.Fatal(err)
		}
		m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 37)
		b.StartTimer()
		m, _ = m.Update(uitest.Key("<"))
		_ = m.View()
	}
}
