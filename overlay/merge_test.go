package overlay

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// kernelStacks are layer stacks (bottom first) whose merged view the
// kernel's overlayfs must agree with.
var kernelStacks = []struct {
	name   string
	layers [][]layerOp
}{
	{"plain", [][]layerOp{
		{file("a", "1"), file("d/x", "x"), dir("e")},
		{file("b", "2"), file("d/y", "y")},
	}},
	{"whiteouts", [][]layerOp{
		{file("a", "1"), file("d/x", "x"), file("d/y", "y"), file("gone/deep/f", "f")},
		{whiteout("a"), whiteout("d/x"), whiteout("gone"), whiteout("never")},
	}},
	{"whiteout hides lower only", [][]layerOp{
		{file("a", "1")},
		{whiteout("a")},
		{file("a", "again")},
	}},
	{"opaque dir", [][]layerOp{
		{file("d/x", "x"), file("d/sub/y", "y"), file("keep", "k")},
		{opaque("d"), file("d/z", "z"), file("d/sub/w", "w")},
	}},
	{"opaque in the middle", [][]layerOp{
		{file("d/a", "a")},
		{opaque("d"), file("d/b", "b")},
		{file("d/c", "c")},
	}},
	{"dir to file", [][]layerOp{
		{file("d/x", "x"), file("d/sub/y", "y")},
		{file("d", "now a file")},
	}},
	{"file to dir", [][]layerOp{
		{file("f", "file"), file("g/x", "x")},
		{file("f/inner", "in")},
		{dir("g")},
	}},
	{"symlinks not followed", [][]layerOp{
		{dir("real"), file("real/x", "x"), symlink("link", "real"), symlink("dangling", "/nowhere")},
		{file("link/y", "y")},
		{symlink("real/x", "../elsewhere")},
	}},
	{"hardlinks", [][]layerOp{
		{file("h1", "shared"), hardlink("h2", "h1"), file("d/h3", "other"), hardlink("d/h4", "d/h3")},
		{file("h1", "changed")},
	}},
	{"modes and owners", [][]layerOp{
		{file("x", "x").withMode(0o600), file("s", "s").withMode(0o4755)},
		{layerOp{kind: opFile, path: "x", data: "x", mode: 0o640, uid: 1000}},
	}},
	{"whiteout of a dir then a dir again", [][]layerOp{
		{file("d/x", "x")},
		{whiteout("d")},
		{file("d/y", "y")},
	}},
	{"xattr whiteouts", [][]layerOp{
		{file("d/x", "x"), file("d/y", "y")},
		{dir("d"), xwhiteout("d/x"), file("d/z", "z")},
		{file("d/w", "w")},
	}},
	{"redirect", [][]layerOp{
		{file("old/a", "a"), file("old/b", "b")},
		{redirect("new", "/old"), file("new/c", "c"), whiteout("old")},
	}},
	{"opaque root ignored", [][]layerOp{
		{file("a", "a")},
		{opaque("."), file("b", "b")},
	}},
	{"fifo and deep", [][]layerOp{
		{layerOp{kind: opFifo, path: "p/q/fifo"}, file("p/q/r/s/t", "t")},
		{whiteout("p/q/r/s"), file("p/q/r/u", "u")},
	}},
}

// TestMergeMatchesKernel mounts each stack with overlayfs and compares the
// kernel's view with Merge's, path by path: type, permissions, owner, size,
// symlink target and content.
func TestMergeMatchesKernel(t *testing.T) {
	requireOverlayRoot(t)
	for _, tc := range kernelStacks {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dirs, trees := buildStack(t, base, tc.layers)
			mnt := mountLowers(t, base, dirs)
			want := kernelView(t, mnt)
			got := userView(t, Merge(trees))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("merged view differs from the kernel's (-kernel +merge):\n%s", diff)
			}
		})
	}
}

// entryRow is a merged entry as the provenance tests compare it.
type entryRow struct {
	Path    string
	Type    string
	Layer   int
	Shadows []int
	Opaque  bool
	Kind    string
}

func mergedRows(tb testing.TB, m *Merged) []entryRow {
	tb.Helper()
	var rows []entryRow
	err := m.Walk(func(e Entry) error {
		rows = append(rows, entryRow{Path: e.Path, Type: typeName(e.Node.Mode), Layer: e.Layer, Shadows: e.Shadows, Opaque: e.Opaque, Kind: e.Kind.String()})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

// TestMergeProvenance checks, on layers read from tars, which layer
// provides each path, what it shadows and how it changed.
func TestMergeProvenance(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]te
		want   []entryRow
	}{
		{"copy-up kinds", [][]te{
			{tf("same", "s"), tf("chmod", "c"), tf("write", "w1"), tf("grow", "g"), td("d/"), tf("d/x", "x")},
			{tf("same", "s"), {name: "chmod", typ: '0', data: "c", mode: 0o600}, tf("write", "w2"), tf("grow", "gg"), td("d/"), tf("d/y", "y")},
		}, []entryRow{
			{Path: "/", Type: "dir", Layer: 1, Shadows: []int{0}, Kind: "copied-up"},
			{Path: "/chmod", Type: "file", Layer: 1, Shadows: []int{0}, Kind: "metadata-only"},
			{Path: "/d", Type: "dir", Layer: 1, Shadows: []int{0}, Kind: "copied-up"},
			{Path: "/d/x", Type: "file", Layer: 0, Kind: "added"},
			{Path: "/d/y", Type: "file", Layer: 1, Kind: "added"},
			{Path: "/grow", Type: "file", Layer: 1, Shadows: []int{0}, Kind: "modified"},
			{Path: "/same", Type: "file", Layer: 1, Shadows: []int{0}, Kind: "copied-up"},
			{Path: "/write", Type: "file", Layer: 1, Shadows: []int{0}, Kind: "modified"},
		}},
		{"whiteout, opaque, replacement", [][]te{
			{tf("a", "a"), td("o/"), tf("o/old", "o"), tf("f", "f"), td("d/"), tf("d/x", "x")},
			{tf(".wh.a", ""), td("o/"), tf("o/.wh..wh..opq", ""), tf("o/new", "n"), tf("f/in", "i"), tf("d", "file")},
			{tf("a", "back")},
		}, []entryRow{
			{Path: "/", Type: "dir", Layer: 2, Shadows: []int{1, 0}, Kind: "copied-up"},
			{Path: "/a", Type: "file", Layer: 2, Shadows: []int{0}, Kind: "modified"},
			{Path: "/d", Type: "file", Layer: 1, Shadows: []int{0}, Kind: "modified"},
			{Path: "/f", Type: "dir", Layer: 1, Shadows: []int{0}, Kind: "modified"},
			{Path: "/f/in", Type: "file", Layer: 1, Kind: "added"},
			{Path: "/o", Type: "dir", Layer: 1, Shadows: []int{0}, Opaque: true, Kind: "copied-up"},
			{Path: "/o/new", Type: "file", Layer: 1, Kind: "added"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var trees []*Tree
			for _, l := range tc.layers {
				trees = append(trees, readTar(t, l...))
			}
			got := mergedRows(t, Merge(trees))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("merged (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMergeLookup checks Lookup, Children and the empty stack.
func TestMergeLookup(t *testing.T) {
	m := Merge([]*Tree{readTar(t, tf("etc/a", "1"), tf("etc/b", "2")), readTar(t, tf("etc/.wh.a", ""), tf("etc/c", "3"))})
	if _, ok := m.Lookup("/etc/a"); ok {
		t.Error("Lookup found a whited-out path")
	}
	e, ok := m.Lookup("etc/b")
	if !ok || e.Layer != 0 || e.Path != "/etc/b" {
		t.Errorf("Lookup(etc/b) = %+v, %v", e, ok)
	}
	var names []string
	for _, c := range m.Children("/etc") {
		names = append(names, c.Node.Name)
	}
	if diff := cmp.Diff([]string{"b", "c"}, names); diff != "" {
		t.Errorf("Children (-want +got):\n%s", diff)
	}
	if n := Merge(nil).Len(); n != 1 {
		t.Errorf("Merge(nil).Len() = %d, want 1", n)
	}
}
