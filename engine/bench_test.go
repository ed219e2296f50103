package engine

import (
	"io"
	"testing"
)

// BenchmarkRunTrue runs /bin/true in a fresh container, from creating it
// to removing it: monitor, namespaces, overlay, /proc /sys /dev, cgroup
// creation and removal, and teardown.
func BenchmarkRunTrue(b *testing.B) {
	f := newFixture(b)
	runTrue(b, f, f.open(b))
}

// runTrue creates, starts, waits for and removes /bin/true on e, b.N times.
func runTrue(b *testing.B, f fixture, e *Engine) {
	spec := Spec{Layers: f.layers, Resources: Resources{Memory: 64 << 20, Pids: 100}, Process: Process{Args: []string{"/bin/true"}}}
	b.ResetTimer()
	for b.Loop() {
		st, err := e.Create(spec)
		if err != nil {
			b.Fatal(err)
		}
		sess, err := e.Start(st.ID, true)
		if err != nil {
			b.Fatal(err)
		}
		if code, err := sess.Wait(io.Discard, io.Discard); err != nil || code != 0 {
			b.Fatalf("exit %d, %v", code, err)
		}
		sess.Close()
		if _, err := e.Remove(st.ID, false); err != nil {
			b.Fatal(err)
		}
	}
}
