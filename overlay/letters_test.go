package overlay

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLetter(t *testing.T) {
	want := map[DiffKind]string{
		Unmodified: " ", Added: "A", Modified: "C", Removed: "D",
		CopiedUp: "C", MetadataOnly: "C", Opaque: "C", Whiteout: " ",
	}
	for k, l := range want {
		if got := k.Letter(); got != l {
			t.Errorf("%s.Letter() = %q, want %q", k, got, l)
		}
	}
}

// TestDockerDiff checks the rule on every kind: a copied-up path is C even
// with nothing beneath it, a whiteout that hides nothing is left out.
func TestDockerDiff(t *testing.T) {
	in := []Change{
		{Path: "/o/new", Kind: Added},
		{Path: "/a", Kind: CopiedUp},
		{Path: "/a/b", Kind: CopiedUp},
		{Path: "/a/b/c", Kind: Modified},
		{Path: "/a-b", Kind: CopiedUp},
		{Path: "/f", Kind: CopiedUp},
		{Path: "/g", Kind: Whiteout},
		{Path: "/h", Kind: Removed, Via: Whiteout},
		{Path: "/o", Kind: Opaque},
		{Path: "/o/gone", Kind: Removed, Via: Opaque},
		{Path: "/t", Kind: MetadataOnly},
		{Path: "/u", Kind: Unmodified},
	}
	want := []DockerChange{
		{"C", "/a"}, {"C", "/a/b"}, {"C", "/a/b/c"}, {"C", "/a-b"}, {"C", "/f"}, {"D", "/h"},
		{"C", "/o"}, {"D", "/o/gone"}, {"A", "/o/new"}, {"C", "/t"},
	}
	got := DockerDiff(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DockerDiff (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Counts{Added: 1, Changed: 7, Deleted: 2}, Count(in)); diff != "" {
		t.Errorf("Count (-want +got):\n%s", diff)
	}
}

// TestCountStack counts each layer of a known stack, and checks that the
// counts are those of the lines DockerDiff lists.
func TestCountStack(t *testing.T) {
	layers := []*Tree{
		readTar(t, td("etc/"), tf("etc/conf", "a"), tf("etc/keep", "k"), td("var/"), tf("var/log", "l"), td("opt/"), tf("opt/x", "x")),
		// dpkg -i: a new file, a file rewritten the same, a file changed.
		readTar(t, td("etc/"), tf("etc/conf", "b"), tf("etc/keep", "k"), tf("etc/new", "n"), td("usr/"), tf("usr/bin", "b")),
		// rm of a file and of a file never there, an opaque directory.
		readTar(t, tf("var/.wh.log", ""), tf(".wh.nothing", ""), td("opt/"), tf("opt/.wh..wh..opq", ""), tf("opt/y", "y")),
	}
	want := []Counts{
		{Added: 7},                         // /etc /etc/conf /etc/keep /var /var/log /opt /opt/x
		{Added: 3, Changed: 3},             // A /etc/new /usr /usr/bin; C /etc /etc/conf /etc/keep
		{Added: 1, Changed: 2, Deleted: 2}, // A /opt/y; C /opt /var; D /var/log /opt/x
	}
	for i := range layers {
		changes := Diff(Merge(layers[:i]), layers[i])
		got := Count(changes)
		if diff := cmp.Diff(want[i], got); diff != "" {
			t.Errorf("layer %d: Count (-want +got):\n%s", i, diff)
		}
		var fromLines Counts
		for _, l := range DockerDiff(changes) {
			fromLines.Add(map[string]DiffKind{"A": Added, "C": Modified, "D": Removed}[l.Letter], 1)
		}
		if fromLines != got {
			t.Errorf("layer %d: Count %+v, but DockerDiff lists %+v", i, got, fromLines)
		}
	}
}
