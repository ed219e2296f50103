package layers

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"minidocker/overlay"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// TestCount checks docker's A/C/D rule kind by kind: every kind a path of
// the layer that the layers below show too is changed, copied-up parents
// and opaque directories included; what the layer hides is deleted.
func TestCount(t *testing.T) {
	tests := []struct {
		kind overlay.DiffKind
		want Counts
	}{
		{overlay.Added, Counts{Added: 1}},
		{overlay.Modified, Counts{Changed: 1}},
		{overlay.MetadataOnly, Counts{Changed: 1}},
		{overlay.CopiedUp, Counts{Changed: 1}},
		{overlay.Opaque, Counts{Changed: 1}},
		{overlay.Removed, Counts{Deleted: 1}},
		{overlay.Whiteout, Counts{}}, // hides nothing
		{overlay.Unmodified, Counts{}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			if got := count([]overlay.Change{{Path: "/x", Kind: tt.kind}}); got != tt.want {
				t.Errorf("count(%v) = %+v, want %+v", tt.kind, got, tt.want)
			}
		})
	}
}

// TestLayerListCounts checks that the layer list shows a layer's counts
// by that rule, for a stack whose counts New works out from the trees: a
// copied-up parent and an opaque directory are changes, not deletions.
func TestLayerListCounts(t *testing.T) {
	dir := fs.ModeDir | 0o755
	l0 := tree.New([]tree.Node{{Path: "/a", Mode: dir, Kind: overlay.Added}, {Path: "/a/f", Mode: 0o644, Kind: overlay.Added},
		{Path: "/b", Mode: dir, Kind: overlay.Added}, {Path: "/b/g", Mode: 0o644, Kind: overlay.Added}})
	l1 := tree.New([]tree.Node{
		{Path: "/a", Mode: dir, Kind: overlay.CopiedUp, Layer: 1},
		{Path: "/a/f", Mode: 0o644, Kind: overlay.Modified, Layer: 1},
		{Path: "/a/new", Mode: 0o644, Kind: overlay.Added, Layer: 1},
		{Path: "/a/gone", Mode: fs.ModeCharDevice | fs.ModeDevice, Kind: overlay.Whiteout, Whiteout: true, Layer: 1},
		{Path: "/b", Mode: dir, Kind: overlay.Opaque, Opaque: true, Layer: 1},
		{Path: "/b/g", Mode: 0o644, Kind: overlay.Removed, Layer: 1},
	})
	s := Stack{Names: []string{"base", "top"}, Layers: []*tree.Tree{l0, l1}, Lower: tree.New(nil)}
	view := ansi.Strip(New(theme.New(true, false), keys.Default(), s).SetSize(120, 30).View())
	for _, want := range []string{"▪0 +4 ~0 -0 base", "▶1 +1 ~3 -1 top"} {
		if !strings.Contains(view, want) {
			t.Errorf("the layer list has no %q:\n%s", want, view)
		}
	}
}
