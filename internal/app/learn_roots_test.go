package app

import (
	"testing"

	"minidocker/engine"
	"minidocker/internal/lesson"
)

// TestLessonRoots checks that every way into a root a lesson may name is
// one the engine knows, a different one each, and that the lessons the
// binary carries name only those.
func TestLessonRoots(t *testing.T) {
	seen := map[engine.RootEntry]string{}
	for _, r := range append([]string{""}, lesson.Roots...) {
		e, err := engine.ParseRootEntry(r)
		if err != nil {
			t.Errorf("lesson root %q: %v", r, err)
			continue
		}
		if prev, ok := seen[e]; ok && !(r == "pivot_root" && prev == "") {
			t.Errorf("lesson roots %q and %q are both the engine's %s", prev, r, e)
		}
		seen[e] = r
	}
	if len(seen) != len(engine.RootEntries) {
		t.Errorf("the lessons name %d of the engine's %d ways into a root", len(seen), len(engine.RootEntries))
	}
	ls, err := New(t.TempDir()).Lessons()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		for i, s := range l.Steps {
			if _, err := engine.ParseRootEntry(l.ForStep(i).Root); err != nil {
				t.Errorf("%s:%d: %v", l.File, s.Line, err)
			}
		}
	}
}
