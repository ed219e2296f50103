package layers_test

import (
	"fmt"
	"testing"

	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// bigModel is the container view over a merged tree of n entries.
func bigModel(n int) layers.Model {
	s := uitest.Stack()
	s.Lower = uitest.Big(n)
	s.Merged = uitest.Big(n)
	return layers.New(theme.New(true, false), keys.Default(), s).SetSize(200, 60)
}

// BenchmarkUpdateView is a key press to a rendered frame on a tree of
// 100,000 entries: moving the cursor must cost no more than drawing the
// rows on screen.
func BenchmarkUpdateView(b *testing.B) {
	m := bigModel(100_000)
	down, up := uitest.Key("j"), uitest.Key("k")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := down
		if i%2000 >= 1000 {
			k = up
		}
		m, _ = m.Update(k)
		_ = m.View()
	}
}

// BenchmarkEventsView is a batch of 10 changes applied to a 100,000-entry
// view, then a frame: no rebuild of the merged view, one flatten.
func BenchmarkEventsView(b *testing.B) {
	m := bigModel(100_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var nodes []tree.Node
		for j := 0; j < 10; j++ {
			nodes = append(nodes, tree.Node{Path: fmt.Sprintf("/d%d/f%d", (i*10+j)%1000, j), Kind: overlay.Modified, Mode: 0o644, Size: int64(i)})
		}
		m, _ = m.Update(layers.EventsMsg{Nodes: nodes})
		_ = m.View()
	}
}

// BenchmarkFilterKey is one key typed into the filter: every row is
// matched again.
func BenchmarkFilterKey(b *testing.B) {
	m := bigModel(100_000)
	m, _ = m.Update(uitest.Key("/"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, _ = m.Update(uitest.Key("f"))
		_ = m.View()
		m, _ = m.Update(uitest.Key("backspace"))
	}
}

// BenchmarkFilterRegexKey is one key typed into a filter that is a
// regular expression, not plain text: every path is matched by it.
func BenchmarkFilterRegexKey(b *testing.B) {
	m := bigModel(100_000)
	m, _ = m.Update(uitest.Key("/"))
	for _, k := range "d1.*/f" {
		m, _ = m.Update(uitest.Key(string(k)))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, _ = m.Update(uitest.Key("9"))
		_ = m.View()
		m, _ = m.Update(uitest.Key("backspace"))
	}
}

// BenchmarkLayerListKey is j or k on an image's layer list, each layer's
// tree 100,000 entries: the tree shown changes, and is flattened again.
func BenchmarkLayerListKey(b *testing.B) {
	s := uitest.ImageStack()
	big := []*tree.Tree{uitest.Big(100_000), uitest.Big(100_000)}
	s.Layers, s.Lower = big, uitest.Big(100_000)
	s.Counts = nil
	s.UpTo = func(int) *tree.Tree { return big[0] }
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(200, 60)
	m, _ = m.Update(uitest.Key("tab"))
	down, up := uitest.Key("j"), uitest.Key("k")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := down
		if i%2 == 0 {
			k = up
		}
		m, _ = m.Update(k)
		_ = m.View()
	}
}
