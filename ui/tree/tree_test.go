package tree_test

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/overlay"
	_ "minidocker/ui/internal/uitest" // the -update flag, so go test ./ui/... -update works
	"minidocker/ui/tree"
)

func sample() *tree.Tree {
	a, u := overlay.Added, overlay.Unmodified
	return tree.New([]tree.Node{
		{Path: "/etc/passwd", Mode: 0o644, Size: 10, Kind: u},
		{Path: "/etc", Mode: fs.ModeDir | 0o755, Kind: u},
		{Path: "/bin/sh", Mode: 0o755, Size: 500, Kind: u},
		{Path: "/app/big", Mode: 0o644, Size: 9000, Kind: a},
		{Path: "/app/Small.txt", Mode: 0o644, Size: 1, Kind: a},
		{Path: "/tmp/gone", Mode: fs.ModeCharDevice | fs.ModeDevice, Kind: overlay.Removed, Whiteout: true},
	})
}

func paths(t *tree.Tree, rows []tree.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, t.Path(r))
	}
	return out
}

func TestRows(t *testing.T) {
	tests := []struct {
		name string
		opts tree.Options
		fold []string
		want []string
	}{
		{name: "all by name", want: []string{"/app", "/app/Small.txt", "/app/big", "/bin", "/bin/sh", "/etc", "/etc/passwd", "/tmp", "/tmp/gone"}},
		{name: "filter keeps parents, ignores case", opts: tree.Options{Filter: filter(t, "small")}, want: []string{"/app", "/app/Small.txt"}},
		{name: "filter with upper case minds case", opts: tree.Options{Filter: filter(t, "Big")}, want: nil},
		{name: "filter on the path", opts: tree.Options{Filter: filter(t, "^/app/.*[.]txt$")}, want: []string{"/app", "/app/Small.txt"}},
		{name: "filter on a directory's path keeps what is beneath", opts: tree.Options{Filter: filter(t, "^/etc")}, want: []string{"/etc", "/etc/passwd"}},
		{name: "filter finds removed entries", opts: tree.Options{Filter: filter(t, "gone")}, want: []string{"/tmp", "/tmp/gone"}},
		{name: "changed only", opts: tree.Options{ChangedOnly: true}, want: []string{"/app", "/app/Small.txt", "/app/big", "/tmp", "/tmp/gone"}},
		{name: "hide added", opts: tree.Options{Hide: map[overlay.DiffKind]bool{overlay.Added: true}}, want: []string{"/bin", "/bin/sh", "/etc", "/etc/passwd", "/tmp", "/tmp/gone"}},
		{name: "hide removed", opts: tree.Options{Hide: map[overlay.DiffKind]bool{overlay.Removed: true}}, want: []string{"/app", "/app/Small.txt", "/app/big", "/bin", "/bin/sh", "/etc", "/etc/passwd", "/tmp"}},
		{name: "by size", opts: tree.Options{SortBySize: true}, want: []string{"/app", "/app/big", "/app/Small.txt", "/bin", "/bin/sh", "/etc", "/etc/passwd", "/tmp", "/tmp/gone"}},
		{name: "folded", fold: []string{"/app", "/etc"}, want: []string{"/app", "/bin", "/bin/sh", "/etc", "/tmp", "/tmp/gone"}},
		{name: "filter inside a folded dir", fold: []string{"/etc"}, opts: tree.Options{Filter: filter(t, "pass")}, want: []string{"/etc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := sample()
			for _, p := range tt.fold {
				tr.SetCollapsed(p, true)
			}
			if diff := cmp.Diff(tt.want, paths(tr, tr.Rows(tt.opts))); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func filter(t *testing.T, pattern string) *tree.Filter {
	t.Helper()
	f, err := tree.NewFilter(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestFilterErrors checks that a pattern that does not compile is one
// line naming it, and that no pattern is no filter.
func TestFilterErrors(t *testing.T) {
	for _, tt := range []struct{ pattern, want string }{
		{"a(b", `regex "a(b": missing closing )`},
		{"*x", `regex "*x": missing argument to repetition operator`},
		{"[z-a]", `regex "[z-a]": invalid character class range`},
	} {
		_, err := tree.NewFilter(tt.pattern)
		if err == nil || err.Error() != tt.want {
			t.Errorf("NewFilter(%q) = %v, want %q", tt.pattern, err, tt.want)
		}
	}
	if f, err := tree.NewFilter(""); f != nil || err != nil || !f.Match("/x") || f.String() != "" {
		t.Errorf(`NewFilter("") = %v, %v: want no filter`, f, err)
	}
	if f := filter(t, "ÉTÉ"); f.Match("/été") || !f.Match("/ÉTÉ") {
		t.Error("an upper-case pattern ignores case")
	}
	if f := filter(t, "été"); !f.Match("/ÉTÉ/x") {
		t.Error("a lower-case pattern minds case")
	}
}

func TestSetAndRemove(t *testing.T) {
	tr := sample()
	rows := tr.Rows(tree.Options{})
	if tr.Set(tree.Node{Path: "/etc/passwd", Mode: 0o600, Size: 99}) {
		t.Error("replacing a node reported a new path")
	}
	if n := tr.Node(rows[6]); n.Size != 99 {
		t.Errorf("a row does not show its replaced node: size %d", n.Size)
	}
	if !tr.Set(tree.Node{Path: "/srv/www/index.html", Mode: 0o644, Kind: overlay.Added}) {
		t.Error("a new path was not reported")
	}
	if n, ok := tr.Lookup("/srv"); !ok || !n.IsDir() || n.Kind != overlay.Added {
		t.Errorf("missing parent made as %+v, %v", n, ok)
	}
	if !tr.Remove("/app") || tr.Remove("/app") {
		t.Error("remove /app twice")
	}
	if _, ok := tr.Lookup("/app/big"); ok {
		t.Error("a removed directory's child is still there")
	}
	want := []string{"/bin", "/bin/sh", "/etc", "/etc/passwd", "/srv", "/srv/www", "/srv/www/index.html", "/tmp", "/tmp/gone"}
	if diff := cmp.Diff(want, paths(tr, tr.Rows(tree.Options{}))); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if tr.Len() != 10 {
		t.Errorf("Len %d, want 10", tr.Len())
	}
}

func TestMark(t *testing.T) {
	dir := fs.ModeDir | 0o755
	tests := []struct {
		name string
		n    tree.Node
		want overlay.DiffKind
	}{
		{"whiteout over a lower file", tree.Node{Mode: fs.ModeCharDevice | fs.ModeDevice, Kind: overlay.Removed, Whiteout: true}, overlay.Whiteout},
		{"whiteout of nothing", tree.Node{Mode: fs.ModeCharDevice | fs.ModeDevice, Kind: overlay.Whiteout, Whiteout: true}, overlay.Whiteout},
		{"opaque dir in upper", tree.Node{Mode: dir, Kind: overlay.Opaque, Opaque: true}, overlay.Opaque},
		{"opaque dir in merged", tree.Node{Mode: dir, Kind: overlay.MetadataOnly, Opaque: true}, overlay.Opaque},
		{"removed beneath an opaque dir", tree.Node{Mode: 0o644, Kind: overlay.Removed}, overlay.Removed},
		{"copied up", tree.Node{Mode: dir, Kind: overlay.CopiedUp}, overlay.CopiedUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.n.Mark(); got != tt.want {
				t.Errorf("Mark() = %v, want %v", got, tt.want)
			}
		})
	}
}
