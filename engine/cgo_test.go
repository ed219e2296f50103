package engine

import "testing"

// TestBuiltWithCgo fails when the binary under test was built without cgo:
// Go does that silently where no C compiler is installed, and such a
// minidocker cannot exec into a container. make deps installs gcc.
func TestBuiltWithCgo(t *testing.T) {
	if !WithCgo {
		t.Fatal("built without cgo: exec and the early start of a run are missing; install gcc (make deps)")
	}
}
