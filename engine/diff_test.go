package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"minidocker/overlay"
)

// TestChanges checks how overlay's kinds become docker's lines, and that
// the engine's own /etc mount points are left out.
func TestChanges(t *testing.T) {
	tests := []struct {
		name string
		in   []overlay.Change
		want []Change
	}{{
		name: "every kind",
		in: []overlay.Change{
			{Path: "/a", Kind: overlay.CopiedUp},
			{Path: "/a/b", Kind: overlay.CopiedUp},
			{Path: "/a/b/c", Kind: overlay.Modified},
			{Path: "/ab", Kind: overlay.CopiedUp},
			{Path: "/f", Kind: overlay.CopiedUp}, // opened for writing, unchanged
			{Path: "/g", Kind: overlay.Whiteout}, // hides nothing: not listed
			{Path: "/o", Kind: overlay.Opaque},
			{Path: "/o/gone", Kind: overlay.Removed, Via: overlay.Opaque},
			{Path: "/o/new", Kind: overlay.Added},
			{Path: "/t", Kind: overlay.MetadataOnly},
		},
		want: []Change{{Changed, "/a"}, {Changed, "/a/b"}, {Changed, "/a/b/c"}, {Changed, "/ab"}, {Changed, "/f"},
			{Changed, "/o"}, {Deleted, "/o/gone"}, {Added, "/o/new"}, {Changed, "/t"}},
	}, {
		name: "etc copied up for the mount points alone",
		in: []overlay.Change{
			{Path: "/etc", Kind: overlay.CopiedUp},
			{Path: "/etc/hostname", Kind: overlay.Added},
			{Path: "/etc/resolv.conf", Kind: overlay.Added},
		},
	}, {
		name: "etc changed besides",
		in: []overlay.Change{
			{Path: "/etc", Kind: overlay.CopiedUp},
			{Path: "/etc/hostname", Kind: overlay.Added},
			{Path: "/etc/passwd", Kind: overlay.CopiedUp},
		},
		want: []Change{{Changed, "/etc"}, {Changed, "/etc/passwd"}},
	}, {
		name: "etc changed by the container",
		in: []overlay.Change{
			{Path: "/etc", Kind: overlay.MetadataOnly},
			{Path: "/etc/resolv.conf", Kind: overlay.Added},
		},
		want: []Change{{Changed, "/etc"}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, changes(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestUpperChangesCopiedUp reads real layer directories: a file copied up
// with the same content, mode and times, as dpkg leaves the files it opens
// for writing, is changed (C), as docker diff lists it, and so is its
// directory.
func TestUpperChangesCopiedUp(t *testing.T) {
	lower, upper := t.TempDir(), t.TempDir()
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, root := range []string{lower, upper} {
		if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(root, "etc", "passwd")
		if err := os.WriteFile(p, []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{p, filepath.Dir(p)} {
			if err := os.Chtimes(q, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(lower, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := upperChanges(upper, []string{lower})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{Changed, "/etc"}, {Changed, "/etc/passwd"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
