package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/overlay"
)

// TestChanges checks how overlay's kinds fold into docker's letters.
func TestChanges(t *testing.T) {
	in := []overlay.Change{
		{Path: "/a", Kind: overlay.CopiedUp},     // parent of a change: kept
		{Path: "/a/b", Kind: overlay.CopiedUp},   // parent of a change: kept
		{Path: "/a/b/c", Kind: overlay.Modified}, // changed
		{Path: "/ab", Kind: overlay.CopiedUp},    // nothing beneath: dropped
		{Path: "/etc", Kind: overlay.CopiedUp},   // only mount points beneath: dropped
		{Path: "/etc/hostname", Kind: overlay.Added},
		{Path: "/etc/resolv.conf", Kind: overlay.Added},
		{Path: "/f", Kind: overlay.CopiedUp}, // opened for writing, unchanged: dropped
		{Path: "/g", Kind: overlay.Whiteout}, // hides nothing: dropped
		{Path: "/o", Kind: overlay.Opaque},
		{Path: "/o/gone", Kind: overlay.Removed, Via: overlay.Opaque},
		{Path: "/o/new", Kind: overlay.Added},
		{Path: "/t", Kind: overlay.MetadataOnly},
	}
	want := []Change{{Changed, "/a"}, {Changed, "/a/b"}, {Changed, "/a/b/c"},
		{Changed, "/o"}, {Deleted, "/o/gone"}, {Added, "/o/new"}, {Changed, "/t"}}
	if diff := cmp.Diff(want, changes(in)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
