package layers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// TestLiveEqualsFreshBurst changes a directory of 10,000 entries in
// bursts of thousands of changes, as a package install does, while the
// view follows it, and checks after each burst that the view ends as a
// fresh read makes it.
func TestLiveEqualsFreshBurst(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	l0, up := filepath.Join(dir, "l0"), filepath.Join(dir, "up")
	for i := range 100 {
		write(t, filepath.Join(l0, fmt.Sprintf("tmp/l%03d", i)), "lower")
	}
	write(t, filepath.Join(l0, "var/cache/apt/pkgcache.bin"), "cache")
	for i := range busyEntries {
		write(t, filepath.Join(up, fmt.Sprintf("tmp/f%05d", i)), "x")
	}
	lower := []string{l0}
	s, err := layers.ReadStack(lower, up, []string{"l0"})
	must(t, err)
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := layers.WatchUpper(ctx, up, lower)
	must(t, err)
	in := func(f string, i int) string { return filepath.Join(up, "tmp", fmt.Sprintf(f, i)) }

	for i := range 2000 {
		must(t, os.WriteFile(in("n%04d", i), []byte("new"), 0o644)) // made
	}
	for i := range 1000 {
		must(t, appendToFile(in("f%05d", i), "more")) // changed
		must(t, os.Remove(in("f%05d", 9000+i)))       // removed
	}
	for i := range 20 {
		must(t, os.WriteFile(in("l%03d", i), []byte("copied up"), 0o644)) // copied up: ~
	}
	for i := 50; i < 100; i++ {
		must(t, unix.Mknod(in("l%03d", i), unix.S_IFCHR, 0)) // rm of a lower file: -
	}
	for i := range 500 {
		write(t, filepath.Join(up, "tmp/sub", fmt.Sprint("s", i)), "s") // a new directory
	}
	must(t, os.Remove(in("f%05d", 5000)))                      // a file…
	write(t, filepath.Join(in("f%05d", 5000), "inside"), "in") // …made a directory
	write(t, filepath.Join(up, "var/new"), "new")              // rm -rf /var; mkdir /var: O
	must(t, unix.Setxattr(filepath.Join(up, "var"), "trusted.overlay.opaque", []byte("y"), 0))
	m = untilFresh(t, m, ch, lower, up, s)

	for i := range 2000 {
		must(t, os.Remove(in("n%04d", i)))
	}
	must(t, os.RemoveAll(filepath.Join(up, "tmp/sub")))
	for i := 50; i < 60; i++ {
		must(t, os.Remove(in("l%03d", i))) // the lower file shows again
	}
	untilFresh(t, m, ch, lower, up, s)
}

func appendToFile(p, s string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// untilFresh applies the batches of ch to m, the view of s, until its
// upper and merged trees equal a fresh read of the same directories, and
// fails the test if they do not within 30 seconds.
func untilFresh(t *testing.T, m layers.Model, ch <-chan []tree.Node, lower []string, up string, s layers.Stack) layers.Model {
	t.Helper()
	snapshot := func(s layers.Stack) [2][]tree.Node {
		var out [2][]tree.Node
		s.Upper.Walk(func(n tree.Node) { out[0] = append(out[0], n) })
		s.Merged.Walk(func(n tree.Node) { out[1] = append(out[1], n) })
		return out
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case nodes := <-ch:
			m, _ = m.Update(layers.EventsMsg{Nodes: nodes})
		case <-time.After(500 * time.Millisecond):
		case <-deadline:
			fresh, err := layers.ReadStack(lower, up, nil)
			must(t, err)
			t.Fatalf("the live view never equalled a fresh one (-fresh +live):\n%s", cmp.Diff(snapshot(fresh), snapshot(s)))
		}
		fresh, err := layers.ReadStack(lower, up, nil)
		must(t, err)
		// DeepEqual, as strict as cmp.Equal, does not diff the slices.
		if reflect.DeepEqual(snapshot(fresh), snapshot(s)) {
			_ = m.View()
			return m
		}
	}
}
