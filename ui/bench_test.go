package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"minidocker/ui/internal/uitest"
	"minidocker/ui/layers"
)

// bigContainers is fakeContainers whose container has a merged view of
// 100,000 entries.
type bigContainers struct{ fakeContainers }

func (bigContainers) ContainerStack(id string) (layers.Stack, error) {
	s := uitest.Stack()
	s.Lower, s.Merged = uitest.Big(100_000), uitest.Big(100_000)
	return s, nil
}

// BenchmarkUpdateView is a key press through the whole program to a
// rendered frame, on a container whose merged view holds 100,000 entries,
// at 200×60.
func BenchmarkUpdateView(b *testing.B) {
	src := Sources{Images: &fakeImages{}, Mounts: fakeMounts{}}
	src.SetContainers(&bigContainers{})
	m := New(src, Options{Dark: true})
	next, _ := m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	next, _ = next.Update(loadContainers(src.ContainerList)())
	next, _ = next.Update(uitest.Key("2"))
	next, cmd := next.Update(uitest.Key("enter"))
	for _, c := range cmd().(tea.BatchMsg) {
		if msg, ok := c().(stackMsg); ok {
			next, _ = next.Update(msg)
			break
		}
	}
	if next.(Model).detail.layers.Rows() < 100_000 {
		b.Fatalf("the merged pane shows %d rows", next.(Model).detail.layers.Rows())
	}
	down, up := uitest.Key("j"), uitest.Key("k")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := down
		if i%2000 >= 1000 {
			k = up
		}
		next, _ = next.Update(k)
		_ = next.View()
	}
}
