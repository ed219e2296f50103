package layers_test

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// removalStack is three real layers that remove in every way a layer can:
// a whiteout (/etc/gone, made again by layer 2), an opaque directory
// (/app/static hides old.css) and a file put over a directory (/dir hides
// dir/f).
func removalStack(t *testing.T) (layers.Stack, []string) {
	t.Helper()
	testutil.RequireRoot(t)
	dirs := uitest.LayerDirs(t,
		[]string{"etc/", "", "etc/gone", "bye", "app/", "", "app/static/", "", "app/static/old.css", "old",
			"app/a", "a", "big", strings.Repeat("x", 1000), "dir/", "", "dir/f", "f"},
		[]string{"etc/", "", "etc/.wh.gone", "", "app/", "", "app/static/", "", "app/static/.wh..wh..opq", "",
			"app/static/new.css", "new", "big", strings.Repeat("y", 1000), "dir", "now a file"},
		[]string{"etc/", "", "etc/gone", "again"},
	)
	s, err := layers.ReadStack(dirs, "", []string{"l0", "l1", "l2"})
	must(t, err)
	return s, dirs
}

// removedIn lists the rows of t marked removed (or whiteouts), with the
// layer that removed them.
func removedIn(t *tree.Tree) map[string]int {
	out := map[string]int{}
	t.Walk(func(n tree.Node) {
		if n.Whiteout || n.Kind == overlay.Removed {
			out[n.Path] = n.Layer
		}
	})
	return out
}

// shownIn lists what t shows of the merged view: path → the layer that
// provides it.
func shownIn(t *tree.Tree) map[string]int {
	out := map[string]int{}
	t.Walk(func(n tree.Node) {
		if !n.Whiteout && n.Kind != overlay.Removed && n.Path != "/" {
			out[n.Path] = n.Layer
		}
	})
	return out
}

// TestUpToIsMerge checks each layer's merged tree: what it shows is what
// overlay.Merge of the layers up to it shows, from the same layers, and
// it lists what they removed on the way and still is gone.
func TestUpToIsMerge(t *testing.T) {
	s, dirs := removalStack(t)
	var trees []*overlay.Tree
	for _, d := range dirs {
		trees = append(trees, readDir(t, d))
	}
	removed := []map[string]int{
		{},
		{"/etc/gone": 1, "/app/static/old.css": 1}, // dir/f is beneath a file now
		{"/app/static/old.css": 1},                 // /etc/gone is back
	}
	for i := range trees {
		got := s.UpTo(i)
		if i == len(trees)-1 {
			got = s.Lower
		}
		want := map[string]int{}
		_ = overlay.Merge(trees[:i+1]).Walk(func(e overlay.Entry) error {
			if e.Path != "/" {
				want[e.Path] = e.Layer
			}
			return nil
		})
		if diff := cmp.Diff(want, shownIn(got)); diff != "" {
			t.Errorf("layers 0–%d show (-merge +view):\n%s", i, diff)
		}
		if diff := cmp.Diff(removed[i], removedIn(got)); diff != "" {
			t.Errorf("layers 0–%d removed (-want +got):\n%s", i, diff)
		}
	}
	if n, _ := s.UpTo(1).Lookup("/etc/gone"); !n.Whiteout {
		t.Errorf("/etc/gone in layers 0–1 is %+v, want layer 1's whiteout", n)
	}
}

// TestFilterFindsRemoved checks that the path filter finds what a layer
// removed, in the merged view and in the layer alone, and that the view
// says why there is nothing to read there.
func TestFilterFindsRemoved(t *testing.T) {
	s, _ := removalStack(t)
	tests := []struct {
		name    string
		presses []string
		want    string // the selected row's path
		hidden  string
	}{
		{"opaque, all layers", typed("/", "static/o", "\r"), "/app/static/old.css", "hidden by the opaque directory /app/static in layer 1"},
		{"opaque, layer 1 alone", append([]string{"a", "<"}, typed("/", "old[.]css$", "\r")...), "/app/static/old.css", "hidden by the opaque directory /app/static in layer 1"},
		{"whiteout, layers 0–1", append([]string{"<"}, typed("/", "^/etc/g", "\r")...), "/etc/gone", "hidden by a whiteout in layer 1"},
		{"made again, all layers", typed("/", "^/etc/g", "\r"), "/etc/gone", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)
			for _, k := range tt.presses {
				if k == "\r" {
					k = "enter"
				}
				m = press(m, k)
			}
			m = selectPath(t, m, tt.want)
			n, _ := m.Selected()
			if got := m.Hidden(n); got != tt.hidden {
				t.Errorf("Hidden(%s) = %q, want %q", n.Path, got, tt.hidden)
			}
			if tt.hidden != "" && !n.Whiteout && n.Mark() != overlay.Removed {
				t.Errorf("the hidden %s is marked %v, want removed:\n%s", n.Path, n.Mark(), ansi.Strip(m.View()))
			}
		})
	}
}
