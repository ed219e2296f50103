package overlay

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		name    string
		want    entryName
		wantErr error
	}{
		{"a/b", entryName{"a/b", namePlain}, nil},
		{"/a//b/", entryName{"a/b", namePlain}, nil},
		{"././a/./b", entryName{"a/b", namePlain}, nil},
		{"./", entryName{".", nameRoot}, nil},
		{"/", entryName{".", nameRoot}, nil},
		{"a/.wh.b", entryName{"a/b", nameWhiteout}, nil},
		{".wh.b", entryName{"b", nameWhiteout}, nil},
		{"a/.wh..wh..opq", entryName{"a", nameOpaque}, nil},
		{".wh..wh..opq", entryName{".", nameOpaque}, nil},
		{".wh..wh.plnk/1.2", entryName{".wh..wh.plnk/1.2", nameSkip}, nil},
		{"a/.wh..wh.aufs", entryName{"a/.wh..wh.aufs", nameSkip}, nil},
		{"a/b/../c", entryName{"a/c", namePlain}, nil},
		{"../x", entryName{}, ErrUnsafePath},
		{"a/../../x", entryName{}, ErrUnsafePath},
		{"a/.wh.", entryName{}, ErrUnsafePath},
		{"a/.wh..", entryName{}, ErrUnsafePath},
		{".wh.d/f", entryName{}, ErrUnsafePath},
		{"a\nb", entryName{}, ErrUnsafePath},
		{"a\x7fb", entryName{}, ErrUnsafePath},
		{strings.Repeat("n", 256), entryName{}, ErrUnsafePath},
		{strings.Repeat("d/", 2048) + "f", entryName{}, ErrUnsafePath},
	}
	for _, tc := range tests {
		t.Run(tc.name[:min(len(tc.name), 40)], func(t *testing.T) {
			got, err := parseName(tc.name)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("parseName(%q) error %v, want %v", tc.name, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(entryName{})); diff != "" {
				t.Errorf("parseName(%q) (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}

// FuzzParseName checks the name rules alone: whatever the name, a path
// parseName accepts stays inside the layer, is clean, within Linux's
// limits, free of control characters and of components spelled like a
// whiteout (but in skipped aufs metadata), and reads back as itself.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"a/b", "./", "a/.wh.b", "a/.wh..wh..opq", "../x", "a/./../b", "/abs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := parseName(name)
		if err != nil {
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("parseName(%q): %v, not ErrUnsafePath", name, err)
			}
			return
		}
		if strings.ContainsFunc(n.path, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("parseName(%q) = %q: control character", name, n.path)
		}
		if n.path == "." {
			if n.kind != nameRoot && n.kind != nameOpaque {
				t.Fatalf("parseName(%q) = the root as %d", name, n.kind)
			}
			return
		}
		if !filepath.IsLocal(n.path) || filepath.Clean(n.path) != n.path || len(n.path) > maxPathLen {
			t.Fatalf("parseName(%q) = %q: not a clean local path within the limit", name, n.path)
		}
		for c := range strings.SplitSeq(n.path, "/") {
			if len(c) > maxNameLen || n.kind != nameSkip && strings.HasPrefix(c, whiteoutPrefix) {
				t.Fatalf("parseName(%q) = %q: component %q", name, n.path, c)
			}
		}
		if n.kind == namePlain {
			if again, err := parseName(n.path); err != nil || again != n {
				t.Fatalf("parseName(%q) = %v, but parseName(%q) = %v, %v", name, n, n.path, again, err)
			}
		}
	})
}
