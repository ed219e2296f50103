package overlay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// TestWatchThroughOverlay mounts an overlay with an upper directory, makes
// changes through the merged mount and expects each to be reported.
func TestWatchThroughOverlay(t *testing.T) {
	requireOverlayRoot(t)
	base := t.TempDir()
	dirs, _ := buildStack(t, base, [][]layerOp{{
		file("lower.txt", "lower"), file("mode.txt", "m"), file("del.txt", "d"),
		file("ldir/a", "a"), file("ldir/sub/b", "b"), file("deep/sub/c", "c"),
	}})
	upper, work, mnt := filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "merged")
	for _, d := range []string{upper, work, mnt} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=" + dirs[0] + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", mnt, "overlay", 0, opts); err != nil {
		t.Fatalf("mount overlay on %s: %v", mnt, err)
	}
	t.Cleanup(func() { unmount(t, mnt) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := Watch(ctx, upper)
	if err != nil {
		t.Fatal(err)
	}
	debugEvents = func(e Event) { t.Logf("event %+v", e) }
	defer func() { debugEvents = nil }()
	in := func(p string) string { return filepath.Join(mnt, p) }
	steps := []struct {
		name string
		do   func() error
		want []Event // path and kind; Size checked when not zero
	}{
		{"create", func() error { return os.WriteFile(in("new.txt"), []byte("new"), 0o644) },
			[]Event{{Path: "/new.txt", Kind: Added}}},
		{"copy-up by append", func() error { return appendFile(in("lower.txt"), "+") },
			[]Event{{Path: "/lower.txt", Kind: Added, Size: 6}}},
		{"write again", func() error { return appendFile(in("lower.txt"), "++") },
			[]Event{{Path: "/lower.txt", Kind: Modified, Size: 8}}},
		{"copy-up by chmod", func() error { return os.Chmod(in("mode.txt"), 0o600) },
			[]Event{{Path: "/mode.txt", Kind: Added}}},
		{"chmod", func() error { return os.Chmod(in("mode.txt"), 0o640) },
			[]Event{{Path: "/mode.txt", Kind: MetadataOnly}}},
		{"delete a lower file", func() error { return os.Remove(in("del.txt")) },
			[]Event{{Path: "/del.txt", Kind: Whiteout}}},
		{"rename", func() error { return os.Rename(in("new.txt"), in("renamed.txt")) },
			[]Event{{Path: "/new.txt", Kind: Removed}, {Path: "/renamed.txt", Kind: Added}}},
		{"mkdir", func() error { return os.Mkdir(in("newdir"), 0o755) },
			[]Event{{Path: "/newdir", Kind: Added}}},
		{"copy-up of a deep path", func() error { return os.WriteFile(in("deep/sub/c"), []byte("cc"), 0o644) },
			[]Event{{Path: "/deep", Kind: Added}, {Path: "/deep/sub", Kind: Added}, {Path: "/deep/sub/c", Kind: Added, Size: 2}}},
		{"rm -rf a lower dir", func() error { return os.RemoveAll(in("ldir")) },
			[]Event{{Path: "/ldir", Kind: Whiteout}}},
		{"mkdir it again", func() error { return os.Mkdir(in("ldir"), 0o755) },
			[]Event{{Path: "/ldir", Kind: Opaque}}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if missing := awaitEvents(events, s.want, 5*time.Second); len(missing) > 0 {
			t.Errorf("%s: no event %+v", s.name, missing)
		}
	}
	cancel()
	for range events { // the channel closes after cancel
	}
}

func appendFile(p, s string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	return errors.Join(err, f.Close())
}

var debugEvents func(Event)

// awaitEvents reads batches until every wanted event was seen or the
// timeout passes, and returns those not seen. A wanted Added with a size is
// met by the Added of the path followed by events reaching that size: a
// file created (or copied up) and then written is two changes in the upper
// dir, which the watcher may report apart or as one.
func awaitEvents(events <-chan []Event, want []Event, timeout time.Duration) []Event {
	want = slices.Clone(want)
	added := map[string]bool{}
	deadline := time.After(timeout)
	for len(want) > 0 {
		select {
		case batch, ok := <-events:
			if !ok {
				return want
			}
			for _, e := range batch {
				if debugEvents != nil {
					debugEvents(e)
				}
				if e.Kind == Added {
					added[e.Path] = true
				}
				want = slices.DeleteFunc(want, func(w Event) bool {
					if w.Path != e.Path || (w.Size != 0 && w.Size != e.Size) {
						return false
					}
					return w.Kind == e.Kind || (w.Kind == Added && e.Kind == Modified && added[e.Path])
				})
			}
		case <-deadline:
			return want
		}
	}
	return nil
}

// TestWatchCoalesce checks that a batch keeps one event per path.
func TestWatchCoalesce(t *testing.T) {
	got := coalesce([]Event{
		{Path: "/b", Kind: Added}, {Path: "/a", Kind: Modified}, {Path: "/b", Kind: Modified},
		{Path: "/a", Kind: MetadataOnly}, {Path: "/c", Kind: Added}, {Path: "/c", Kind: Removed},
	})
	want := []Event{{Path: "/a", Kind: MetadataOnly}, {Path: "/b", Kind: Added}, {Path: "/c", Kind: Removed}}
	if !slices.Equal(got, want) {
		t.Errorf("coalesce = %+v, want %+v", got, want)
	}
}

// BenchmarkWatchLatency creates 1,000 files a second for two seconds in a
// watched directory and reports the 95th percentile of the time from each
// write to its event (p95-ms) and how many events were missed.
func BenchmarkWatchLatency(b *testing.B) {
	for b.Loop() {
		dir := b.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		events, err := Watch(ctx, dir)
		if err != nil {
			b.Fatal(err)
		}
		const n = 2000
		sent := make([]time.Time, n)
		lat := make([]time.Duration, 0, n)
		done := make(chan struct{})
		go func() {
			defer close(done)
			seen := 0
			for batch := range events {
				now := time.Now()
				for _, e := range batch {
					var i int
					if _, err := fmt.Sscanf(e.Path, "/f%d", &i); err == nil && e.Kind == Added && i < n {
						lat = append(lat, now.Sub(sent[i]))
						seen++
					}
				}
				if seen == n {
					return
				}
			}
		}()
		tick := time.NewTicker(time.Millisecond)
		for i := range n {
			<-tick.C
			sent[i] = time.Now()
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("f", i)), []byte("x"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		cancel()
		<-done
		slices.Sort(lat)
		if len(lat) > 0 {
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		}
		b.ReportMetric(float64(n-len(lat)), "missed")
	}
}

// TestWatchBurst makes 20,000 changes as fast as it can, more than the
// kernel's event queue may hold, and expects every one to be reported.
func TestWatchBurst(t *testing.T) {
	dir := t.TempDir()
	for i := range 10 {
		if err := os.Mkdir(filepath.Join(dir, fmt.Sprint("d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := Watch(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	var want []Event
	for i := range n {
		p := fmt.Sprintf("d%d/f%d", i%10, i)
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, p), 0o600); err != nil {
			t.Fatal(err)
		}
		want = append(want, Event{Path: "/" + p, Kind: Added})
	}
	seen := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < n {
		select {
		case batch := <-events:
			for _, e := range batch {
				if e.Kind == Added {
					seen[e.Path] = true
				}
			}
		case <-deadline:
			var missing []string
			for _, w := range want {
				if !seen[w.Path] {
					missing = append(missing, w.Path)
				}
			}
			t.Fatalf("%d of %d creations not reported, first %v", len(missing), n, missing[:min(5, len(missing))])
		}
	}
}

// TestWatchMadeOpaque checks that a directory made opaque reports what it
// holds again, as a new directory: a watcher's reader drops what it held
// beneath the directory and takes these instead.
func TestWatchMadeOpaque(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "usr/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usr/bin/env"), []byte("env"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := Watch(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(dir, "usr"), opaqueXattr, []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	want := []Event{{Path: "/usr", Kind: Opaque}, {Path: "/usr/bin", Kind: Added}, {Path: "/usr/bin/env", Kind: Added}}
	if missing := awaitEvents(events, want, 5*time.Second); len(missing) > 0 {
		t.Errorf("not reported: %v", missing)
	}
}

// TestWatchRescanNames checks the two rescans of a directory changed
// behind the watcher's back: listing its names finds what was made or
// removed and an entry whose type changed, but not new content, which
// only stat'ing it whole finds.
func TestWatchRescanNames(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		writeFile(t, filepath.Join(dir, "d", n), "x")
	}
	w, err := newWatcher(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(w.fd)
	writeFile(t, filepath.Join(dir, "d/new"), "new")
	if err := os.Remove(filepath.Join(dir, "d/b")); err != nil {
		t.Fatal(err)
	}
	if err := appendFile(filepath.Join(dir, "d/a"), "more"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "d/c")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "d/c/inside"), "in")

	var names []Event
	if err := w.rescanDir("d", &names, true, false); err != nil {
		t.Fatal(err)
	}
	want := []Event{{Path: "/d/b", Kind: Removed}, {Path: "/d/c", Kind: Modified},
		{Path: "/d/c/inside", Kind: Added, Size: 2}, {Path: "/d/new", Kind: Added, Size: 3}}
	if got := coalesce(names); !slices.Equal(got, want) {
		t.Errorf("listing the names reported %+v, want %+v", got, want)
	}
	if _, ok := w.dirs["d/c"]; !ok {
		t.Error("the directory that took a file's place is not watched")
	}
	var whole []Event
	if err := w.rescanDir("d", &whole, true, true); err != nil {
		t.Fatal(err)
	}
	want = []Event{{Path: "/d/a", Kind: Modified, Size: 5}}
	if !slices.Equal(whole, want) {
		t.Errorf("stat'ing the directory whole reported %+v, want %+v", whole, want)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWatchQuietDirStatedWhole changes a file through a hard link outside
// the watched tree, which inotify reports to neither of the file's
// directories, and expects the change once the file's directory, busy
// just before, has been quiet for a while.
func TestWatchQuietDirStatedWhole(t *testing.T) {
	base := t.TempDir()
	up := filepath.Join(base, "up")
	writeFile(t, filepath.Join(up, "d/f"), "x")
	writeFile(t, filepath.Join(base, "elsewhere/keep"), "")
	if err := os.Link(filepath.Join(up, "d/f"), filepath.Join(base, "elsewhere/f")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := Watch(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(up, "d/g"), "g") // d is busy
	if missing := awaitEvents(events, []Event{{Path: "/d/g", Kind: Added}}, 5*time.Second); len(missing) > 0 {
		t.Fatalf("no event %+v", missing)
	}
	if err := appendFile(filepath.Join(base, "elsewhere/f"), "yz"); err != nil {
		t.Fatal(err)
	}
	if missing := awaitEvents(events, []Event{{Path: "/d/f", Kind: Modified, Size: 3}}, 10*time.Second); len(missing) > 0 {
		t.Errorf("a change without an event was never found: %+v", missing)
	}
}

// TestWatchPaced makes a change every millisecond for about a second and
// expects every one reported, in no more batches than the pacing allows:
// one at once, then one per watchBatchEvery at most.
func TestWatchPaced(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := Watch(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	start := time.Now()
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := range n {
			<-tick.C
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("f", i)), []byte("x"), 0o644); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	seen, batches := map[string]bool{}, 0
	deadline := time.After(30 * time.Second)
	for len(seen) < n {
		select {
		case batch := <-events:
			batches++
			for _, e := range batch {
				if e.Kind == Added {
					seen[e.Path] = true
				}
			}
		case <-deadline:
			t.Fatalf("%d of %d creations reported", len(seen), n)
		}
	}
	if most := int(time.Since(start)/watchBatchEvery) + 1; batches > most {
		t.Errorf("%d batches in %v, want at most %d (one per %v)", batches, time.Since(start), most, watchBatchEvery)
	}
}
