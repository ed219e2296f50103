package text_test

import (
	"fmt"
	"strings"
	"testing"

	"minidocker/ui/keys"
	"minidocker/ui/text"
	"minidocker/ui/theme"
)

// BenchmarkAppendFollow is a chunk of 10 log lines arriving in a followed
// pane that already holds 100,000, then a frame: the cost must not grow
// with what the pane holds. (bubbles/viewport measures every line again
// on each SetContentLines, about 170 ms here at 100,000 lines, which is
// why the pane keeps its own lines.)
func BenchmarkAppendFollow(b *testing.B) {
	var sb strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&sb, "2026-11-01T12:00:00Z INFO request %d served in 12ms from 10.0.0.%d\n", i, i%255)
	}
	m := text.New(theme.New(true, false), keys.Default()).SetSize(100, 40).SetFollow(true).Append(sb.String())
	chunk := strings.Repeat("2026-11-01T12:00:01Z INFO another request served\n", 10)
	b.ResetTimer()
	for range b.N {
		m = m.Append(chunk)
		_ = m.View()
	}
}
