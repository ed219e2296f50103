package layers_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
)

// bigVersions writes a 1 MB text file and a 1 MB binary in a lower layer,
// and changed copies in an upper directory: the text with a line changed
// every 1,600 lines and one added at the end (as an editor or a package
// manager leaves a config), the binary with 16 bytes patched past its
// middle.
func bigVersions(b *testing.B) layers.Stack {
	b.Helper()
	dir := b.TempDir()
	lower, upper := filepath.Join(dir, "l0"), filepath.Join(dir, "up")
	var text, changed strings.Builder
	for i := 0; text.Len() < 1<<20; i++ {
		line := fmt.Sprintf("option.%06d = value %d # a line of a long configuration file\n", i, i*7)
		text.WriteString(line)
		if i%1600 == 800 {
			line = fmt.Sprintf("option.%06d = changed %d\n", i, i)
		}
		changed.WriteString(line)
	}
	changed.WriteString("option.last = added\n")
	bin := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range bin {
		bin[i] = byte(r.Uint32())
	}
	patched := append([]byte{}, bin...)
	copy(patched[700_000:], "PATCHED BY A RUN")
	for _, f := range []struct{ dir, name, data string }{
		{lower, "data/big.txt", text.String()}, {upper, "data/big.txt", changed.String()},
		{lower, "data/big.bin", string(bin)}, {upper, "data/big.bin", string(patched)},
	} {
		p := filepath.Join(f.dir, f.name)
		must(b, os.MkdirAll(filepath.Dir(p), 0o755))
		must(b, os.WriteFile(p, []byte(f.data), 0o644))
	}
	s, err := layers.ReadStack([]string{lower}, upper, []string{"base"})
	must(b, err)
	return s
}

// benchmarkCompare is the compare key on path to the first frame that
// shows the comparison: the key, the command that reads and compares both
// versions, its answer and the frame; then esc.
func benchmarkCompare(b *testing.B, path string) {
	m := layers.New(theme.New(true, false), keys.Default(), bigVersions(b)).SetSize(120, 40)
	m = selectPath(b, focus(b, m, "merged"), path)
	d, esc := uitest.Key("d"), uitest.Key("esc")
	b.ResetTimer()
	for range b.N {
		open, cmd := m.Update(d)
		open, _ = open.Update(cmd())
		_ = open.View()
		m, _ = open.Update(esc)
	}
}

// benchmarkCompareFrame is benchmarkCompare without the command's work,
// which runs off the UI's goroutine: what the UI itself spends.
func benchmarkCompareFrame(b *testing.B, path string) {
	m := layers.New(theme.New(true, false), keys.Default(), bigVersions(b)).SetSize(120, 40)
	m = selectPath(b, focus(b, m, "merged"), path)
	d, esc := uitest.Key("d"), uitest.Key("esc")
	b.ResetTimer()
	for range b.N {
		open, cmd := m.Update(d)
		b.StopTimer()
		msg := cmd()
		b.StartTimer()
		open, _ = open.Update(msg)
		_ = open.View()
		m, _ = open.Update(esc)
	}
}

// BenchmarkCompareFrame is the UI's share of opening each comparison.
func BenchmarkCompareFrame(b *testing.B) {
	b.Run("text", func(b *testing.B) { benchmarkCompareFrame(b, "/data/big.txt") })
	b.Run("binary", func(b *testing.B) { benchmarkCompareFrame(b, "/data/big.bin") })
}

// BenchmarkCompareText1MB opens the comparison of two 1 MB texts that
// differ in 12 lines.
func BenchmarkCompareText1MB(b *testing.B) { benchmarkCompare(b, "/data/big.txt") }

// BenchmarkCompareBinary1MB opens the comparison of two 1 MB binaries
// that differ in 16 bytes at 700,000.
func BenchmarkCompareBinary1MB(b *testing.B) { benchmarkCompare(b, "/data/big.bin") }

// BenchmarkCompareScroll is a key that scrolls an open comparison, to
// the frame.
func BenchmarkCompareScroll(b *testing.B) {
	m := layers.New(theme.New(true, false), keys.Default(), bigVersions(b)).SetSize(120, 40)
	m = selectPath(b, focus(b, m, "merged"), "/data/big.txt")
	m, cmd := m.Update(uitest.Key("d"))
	m, _ = m.Update(cmd())
	down, up := uitest.Key("j"), uitest.Key("k")
	b.ResetTimer()
	for i := range b.N {
		k := down
		if i%100 >= 50 {
			k = up
		}
		m, _ = m.Update(k)
		_ = m.View()
	}
}
