package overlay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestDiff(t *testing.T) {
	base := []te{
		tf("same", "s"), tf("chmod", "c"), tf("write", "12345"), tf("rm", "gone"),
		td("tree/"), tf("tree/a", "aa"), tf("tree/sub/b", "bbb"),
		td("op/"), tf("op/old", "old"), tf("op/kept", "k"),
		td("todir/"), tf("todir/x", "xx"), tf("tofile", "f"),
	}
	tests := []struct {
		name  string
		layer []te
		want  []Change
	}{
		{"kinds", []te{
			tf("same", "s"), {name: "chmod", typ: '0', data: "c", mode: 0o600}, tf("write", "54321"),
			tf(".wh.rm", ""), tf(".wh.never", ""), tf("new/file", "new"),
		}, []Change{
			{Path: "/chmod", Kind: MetadataOnly, Size: 1},
			{Path: "/never", Kind: Whiteout, Lower: -1},
			{Path: "/new", Kind: Added, Lower: -1},
			{Path: "/new/file", Kind: Added, Size: 3, Lower: -1},
			{Path: "/rm", Kind: Removed, Via: Whiteout, Size: 4},
			{Path: "/same", Kind: CopiedUp, Size: 1},
			{Path: "/write", Kind: Modified, Size: 5},
		}},
		{"whole tree removed", []te{tf(".wh.tree", "")}, []Change{
			{Path: "/tree", Kind: Removed, Via: Whiteout, Size: 5},
		}},
		{"opaque", []te{td("op/"), tf("op/.wh..wh..opq", ""), tf("op/kept", "k")}, []Change{
			{Path: "/op", Kind: Opaque},
			{Path: "/op/kept", Kind: CopiedUp, Size: 1},
			{Path: "/op/old", Kind: Removed, Via: Opaque, Size: 3},
		}},
		{"replacements", []te{tf("todir", "now a file"), tf("tofile/in", "i")}, []Change{
			{Path: "/todir", Kind: Modified, Size: 10},
			{Path: "/todir/x", Kind: Removed, Via: Modified, Size: 2},
			{Path: "/tofile", Kind: Modified, Lower: 0},
			{Path: "/tofile/in", Kind: Added, Size: 1, Lower: -1},
		}},
	}
	below := Merge([]*Tree{readTar(t, base...)})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Diff(below, readTar(t, tc.layer...))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffKindString(t *testing.T) {
	tests := []struct {
		k            DiffKind
		name, letter string
	}{
		{Unmodified, "unmodified", " "},
		{Added, "added", "A"},
		{Modified, "modified", "C"},
		{Removed, "removed", "D"},
		{CopiedUp, "copied-up", "C"},
		{MetadataOnly, "metadata-only", "C"},
		{Opaque, "opaque", "C"},
		{Whiteout, "whiteout", " "},
		{DiffKind(99), "unknown", " "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.k.String(); got != tc.name {
				t.Errorf("String() = %q, want %q", got, tc.name)
			}
			if got := tc.k.Letter(); got != tc.letter {
				t.Errorf("Letter() = %q, want %q", got, tc.letter)
			}
		})
	}
}

func TestEfficiency(t *testing.T) {
	layers := []*Tree{
		readTar(t, tf("big", "0123456789"), tf("kept", "kk"), td("cache/"), tf("cache/a", "aaaa"), td("o/"), tf("o/x", "xxx")),
		readTar(t, tf("big", "0123456789"), tf(".wh.cache", ""), td("o/"), tf("o/.wh..wh..opq", ""), tf("link", "ll"), tlink("link2", "link")),
		readTar(t, tf("big", "01234")),
	}
	got := Merge(layers).Efficiency()
	want := Efficiency{
		Stored:  10 + 2 + 4 + 3 + 10 + 2 + 5,
		Visible: 2 + 2 + 5,
		Wasted:  10 + 4 + 3 + 10,
		Score:   9.0 / 36.0,
		Files: []WastedFile{
			{Path: "/big", Copies: 3, Wasted: 20, Layers: []int{0, 1}},
			{Path: "/cache/a", Copies: 1, Wasted: 4, Layers: []int{0}},
			{Path: "/o/x", Copies: 1, Wasted: 3, Layers: []int{0}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Efficiency (-want +got):\n%s", diff)
	}
	if e := Merge(nil).Efficiency(); e.Score != 1 || e.Stored != 0 {
		t.Errorf("empty stack: %+v", e)
	}
}

// TestDiffContainer makes the changes a container makes, through a real
// overlay mount, and expects Diff of its upper directory to tell each kind.
func TestDiffContainer(t *testing.T) {
	requireOverlayRoot(t)
	for _, metacopy := range []bool{false, true} {
		t.Run(fmt.Sprintf("metacopy=%v", metacopy), func(t *testing.T) {
			base := t.TempDir()
			dirs, trees := buildStack(t, base, [][]layerOp{{
				file("keep.txt", "k"), file("touch.txt", "t"), file("chmod.txt", "c"), file("write.txt", "abc"),
				file("same.txt", "s"), file("gone.txt", "g"), file("dir/x", "x"), file("opq/a", "a"), file("opq/b", "b"),
			}})
			upper, work, mnt := filepath.Join(base, "upper"), filepath.Join(base, "work"), filepath.Join(base, "merged")
			for _, d := range []string{upper, work, mnt} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			opts := "lowerdir=" + dirs[0] + ",upperdir=" + upper + ",workdir=" + work
			if metacopy {
				opts += ",metacopy=on,redirect_dir=on"
			}
			if err := unix.Mount("overlay", mnt, "overlay", 0, opts); err != nil {
				t.Fatalf("mount overlay on %s (%s): %v", mnt, opts, err)
			}
			t.Cleanup(func() { unmount(t, mnt) })
			in := func(p string) string { return filepath.Join(mnt, p) }
			later := time.Unix(fixtureTime+100, 0)
			steps := []error{
				os.Chtimes(in("touch.txt"), later, later),
				os.Chmod(in("chmod.txt"), 0o600),
				os.WriteFile(in("write.txt"), []byte("xyz"), 0o644),
				func() error { f, err := os.OpenFile(in("same.txt"), os.O_WRONLY, 0); f.Close(); return err }(),
				os.Remove(in("gone.txt")),
				os.WriteFile(in("new.txt"), []byte("new"), 0o644),
				os.RemoveAll(in("opq")),
				os.Mkdir(in("opq"), 0o755),
				os.WriteFile(in("opq/c"), []byte("c"), 0o644),
				os.WriteFile(in("dir/y"), []byte("y"), 0o644),
			}
			if err := errors.Join(steps...); err != nil {
				t.Fatal(err)
			}
			up, err := ReadDir(upper)
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				Path      string
				Kind, Via DiffKind
			}
			var got []row
			for _, c := range Diff(Merge(trees), up) {
				got = append(got, row{c.Path, c.Kind, c.Via})
			}
			want := []row{
				{"/chmod.txt", MetadataOnly, 0},
				{"/dir", MetadataOnly, 0},
				{"/dir/y", Added, 0},
				{"/gone.txt", Removed, Whiteout},
				{"/new.txt", Added, 0},
				{"/opq", Opaque, 0},
				{"/opq/a", Removed, Opaque},
				{"/opq/b", Removed, Opaque},
				{"/opq/c", Added, 0},
				{"/same.txt", CopiedUp, 0},
				{"/touch.txt", MetadataOnly, 0},
				{"/write.txt", Modified, 0},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			m := Merge(append(trees, up))
			if diff := cmp.Diff(kernelView(t, mnt), userView(t, m)); diff != "" {
				t.Errorf("view (-kernel +merge):\n%s", diff)
			}
			if e, _ := m.Lookup("/chmod.txt"); metacopy != e.Node.Metacopy || metacopy && e.DataLayer != 0 {
				t.Errorf("chmod.txt: Metacopy %v, DataLayer %d", e.Node.Metacopy, e.DataLayer)
			}
		})
	}
}

// TestCompareClampedTimes: two layers' versions of a file of one size,
// unpacked with the one whole-second time a build clamps them to, are
// compared by their bytes; rsync's quick check would call them equal.
func TestCompareClampedTimes(t *testing.T) {
	dirs, _ := buildStack(t, t.TempDir(), [][]layerOp{
		{file("a.txt", "one"), file("b.txt", "same")},
		{file("a.txt", "two"), file("b.txt", "same")},
	})
	lower, err := ReadDir(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	upper, err := ReadDir(dirs[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := Compare(upper, lower, "/a.txt"); got != Modified {
		t.Errorf("a.txt: %v, want %v", got, Modified)
	}
	if got := Compare(upper, lower, "/b.txt"); got != CopiedUp {
		t.Errorf("b.txt: %v, want %v", got, CopiedUp)
	}
}
