package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"minidocker/overlay"
)

// TestMeterFigures checks the meter's arithmetic: the layers once against
// a whole image per container, the upper directories on both sides.
func TestMeterFigures(t *testing.T) {
	ctrs := func(uppers ...int64) []ContainerSize {
		var out []ContainerSize
		for _, u := range uppers {
			out = append(out, ContainerSize{Upper: u})
		}
		return out
	}
	for _, tc := range []struct {
		name                 string
		m                    Meter
		uppers, disk, copies int64
		saved                int64
		savings              float64
	}{
		{"no container", Meter{Content: 900, Layers: 900}, 0, 900, 0, 0, 0},
		{"one container", Meter{Content: 900, Layers: 900, Containers: ctrs(100)}, 100, 1000, 1000, 0, 0},
		{"three wrote nothing", Meter{Content: 900, Layers: 900, Containers: ctrs(0, 0, 0)}, 0, 900, 2700, 1800, 2.0 / 3},
		{"three wrote", Meter{Content: 900, Layers: 900, Containers: ctrs(100, 200, 300)}, 600, 1500, 3300, 1800, 1800.0 / 3300},
		// A layer listed twice is stored once: sharing saves it even for one.
		{"layer listed twice", Meter{Content: 1000, Layers: 900, Containers: ctrs(50)}, 50, 950, 1050, 100, 100.0 / 1050},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m
			got := fmt.Sprint(m.Uppers(), m.Disk(), m.Copies(), m.Saved(), fmt.Sprintf("%.4f", m.Savings()))
			want := fmt.Sprint(tc.uppers, tc.disk, tc.copies, tc.saved, fmt.Sprintf("%.4f", tc.savings))
			if got != want {
				t.Errorf("uppers disk copies saved savings = %s, want %s", got, want)
			}
		})
	}
}

// TestMeterUpperContent checks that an upper directory is measured by the
// rule a layer's content is (overlay.LayerBytes over the same directory):
// regular files' sizes, a hard-linked file once, symlinks and directories
// nothing.
func TestMeterUpperContent(t *testing.T) {
	dir := t.TempDir()
	write := func(p string, n int) {
		t.Helper()
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Repeat("x", n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/passwd", 1234)
	write("a/b/c/deep", 70_000)
	write("hl", 500)
	write("empty", 0)
	for _, err := range []error{
		os.Link(filepath.Join(dir, "hl"), filepath.Join(dir, "a/hl2")),
		os.Link(filepath.Join(dir, "hl"), filepath.Join(dir, "a/b/hl3")),
		os.Symlink("/a/very/long/target/that/is/not/content", filepath.Join(dir, "sym")),
		os.Mkdir(filepath.Join(dir, "emptydir"), 0o755),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := upperContent(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(1234 + 70_000 + 500); got != want {
		t.Errorf("upperContent = %d, want %d", got, want)
	}
	tr, err := overlay.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if lb := overlay.LayerBytes(tr); got != lb {
		t.Errorf("upperContent = %d, overlay.LayerBytes = %d: one rule, two answers", got, lb)
	}
	if _, err := upperContent(filepath.Join(dir, "nosuch")); err != errGone {
		t.Errorf("upperContent of a missing directory: %v, want errGone", err)
	}
}

// BenchmarkMeterUpper measures an upper directory of 10,000 files in 100
// directories, as a package install leaves: what a running container's
// meter costs each refresh.
func BenchmarkMeterUpper(b *testing.B) {
	dir := b.TempDir()
	for d := range 100 {
		sub := filepath.Join(dir, "usr", fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 100 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d", f)), []byte("content"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if n, err := upperContent(dir); err != nil || n != 10_000*7 {
			b.Fatal(n, err)
		}
	}
}
