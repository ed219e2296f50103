package overlay

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// te is a tar entry of a test layer.
type te struct {
	name string
	typ  byte
	data string // content, or link target
	mode int64
	uid  int
}

func tf(name, data string) te  { return te{name: name, typ: tar.TypeReg, data: data, mode: 0o644} }
func td(name string) te        { return te{name: name, typ: tar.TypeDir, mode: 0o755} }
func tsym(name, to string) te  { return te{name: name, typ: tar.TypeSymlink, data: to, mode: 0o777} }
func tlink(name, to string) te { return te{name: name, typ: tar.TypeLink, data: to, mode: 0o644} }

// makeTar writes entries as an uncompressed tar.
func makeTar(tb testing.TB, entries ...te) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, ModTime: time.Unix(fixtureTime, 0), Format: tar.FormatPAX}
		switch e.typ {
		case tar.TypeReg:
			h.Size = int64(len(e.data))
		case tar.TypeSymlink, tar.TypeLink:
			h.Linkname = e.data
		}
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.data)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func readTar(tb testing.TB, entries ...te) *Tree {
	tb.Helper()
	t, err := ReadTar(bytes.NewReader(makeTar(tb, entries...)))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// nodeRow is a node as the tree tests compare it.
type nodeRow struct {
	Path     string
	Type     string
	Size     int64
	Link     string
	Hardlink string
	Marks    string
}

func marks(n Node) string {
	var s string
	if n.Whiteout {
		s += "W"
	}
	if n.Opaque {
		s += "O"
	}
	if n.XWhiteouts {
		s += "X"
	}
	if n.Redirect != "" {
		s += "R=" + n.Redirect
	}
	if n.Metacopy {
		s += "M"
	}
	return s
}

func treeRows(tb testing.TB, t *Tree) []nodeRow {
	tb.Helper()
	var rows []nodeRow
	err := t.Walk(func(p string, n Node) error {
		r := nodeRow{Path: p, Type: typeName(n.Mode), Link: n.Link, Hardlink: n.Hardlink, Marks: marks(n)}
		if n.Mode.IsRegular() {
			r.Size = n.Size
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

func TestReadTar(t *testing.T) {
	tests := []struct {
		name    string
		entries []te
		want    []nodeRow
	}{
		{"files and implicit parents", []te{tf("./a/b/c", "abc"), td("d/"), tsym("d/s", "../a")}, []nodeRow{
			{Path: "/", Type: "dir"},
			{Path: "/a", Type: "dir"},
			{Path: "/a/b", Type: "dir"},
			{Path: "/a/b/c", Type: "file", Size: 3},
			{Path: "/d", Type: "dir"},
			{Path: "/d/s", Type: "symlink", Link: "../a"},
		}},
		{"whiteouts and opaque", []te{td("d/"), tf("d/.wh.x", ""), td("o/"), tf("o/.wh..wh..opq", ""), tf("o/keep", "k"), tf(".wh..wh.plnk", "")}, []nodeRow{
			{Path: "/", Type: "dir"},
			{Path: "/d", Type: "dir"},
			{Path: "/d/x", Type: "char", Marks: "W"},
			{Path: "/o", Type: "dir", Marks: "O"},
			{Path: "/o/keep", Type: "file", Size: 1},
		}},
		{"whiteout of own path", []te{tf("f", "1"), tf(".wh.f", ""), td("d/"), tf(".wh.d", "")}, []nodeRow{
			{Path: "/", Type: "dir"},
			{Path: "/d", Type: "dir", Marks: "O"},
			{Path: "/f", Type: "file", Size: 1},
		}},
		{"dir after its whiteout is opaque", []te{tf(".wh.d", ""), td("d/"), tf("d/n", "n")}, []nodeRow{
			{Path: "/", Type: "dir"},
			{Path: "/d", Type: "dir", Marks: "O"},
			{Path: "/d/n", Type: "file", Size: 1},
		}},
		{"later entry replaces", []te{tf("d/x", "x"), tf("d", "file now"), tf("g", "g"), td("g/")}, []nodeRow{
			{Path: "/", Type: "dir"},
			{Path: "/d", Type: "file", Size: 8},
			{Path: "/g", Type: "dir"},
		}},
		{"hardlink", []te{tf("a", "data"), tlink("b", "./a")}, []nodeRow{
			{Path: "/", Type: "dir"},
			{Path: "/a", Type: "file", Size: 4},
			{Path: "/b", Type: "file", Size: 4, Hardlink: "/a"},
		}},
		{"absolute names", []te{tf("/abs/x", "x"), td("./")}, []nodeRow{
			{Path: "/", Type: "dir"},
			{Path: "/abs", Type: "dir"},
			{Path: "/abs/x", Type: "file", Size: 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := treeRows(t, readTar(t, tc.entries...))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadTarErrors(t *testing.T) {
	good := makeTar(t, tf("a", "0123456789"))
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"escape", makeTar(t, tf("../x", "x")), ErrUnsafePath},
		{"escape inside", makeTar(t, tf("a/../../x", "x")), ErrUnsafePath},
		{"hardlink escape", makeTar(t, tlink("l", "../../etc/passwd")), ErrUnsafePath},
		{"empty whiteout", makeTar(t, tf("d/.wh.", "")), ErrUnsafePath},
		{"truncated", good[:515], ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTar(bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) {
				t.Errorf("ReadTar: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestTreeLookup checks lookups by the path forms callers use.
func TestTreeLookup(t *testing.T) {
	tr := readTar(t, tf("etc/passwd", "root"), tf("etc/group", "g"))
	for _, p := range []string{"etc/passwd", "/etc/passwd", "./etc/passwd", "/etc/../etc/passwd"} {
		if n, ok := tr.Lookup(p); !ok || n.Name != "passwd" {
			t.Errorf("Lookup(%q) = %v, %v", p, n, ok)
		}
	}
	if _, ok := tr.Lookup("etc/shadow"); ok {
		t.Error("Lookup(etc/shadow) found a node")
	}
	var names []string
	for _, n := range tr.Children("/etc") {
		names = append(names, n.Name)
	}
	if diff := cmp.Diff([]string{"group", "passwd"}, names); diff != "" {
		t.Errorf("Children (-want +got):\n%s", diff)
	}
}

// TestReadDir reads every marker of the overlayfs form from a directory.
func TestReadDir(t *testing.T) {
	requireOverlayRoot(t)
	base := t.TempDir()
	ops := []layerOp{
		file("f", "hello"), hardlink("f2", "f"), symlink("s", "f"), whiteout("gone"),
		opaque("o"), file("o/in", "i"), xwhiteout("x/del"), file("x/zero", ""), redirect("r", "/old"),
		{kind: opFifo, path: "p"},
	}
	if err := buildLayer(base, ops); err != nil {
		t.Fatal(err)
	}
	tr, err := ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	want := []nodeRow{
		{Path: "/", Type: "dir"},
		{Path: "/f", Type: "file", Size: 5},
		{Path: "/f2", Type: "file", Size: 5, Hardlink: "/f"},
		{Path: "/gone", Type: "char", Marks: "W"},
		{Path: "/o", Type: "dir", Marks: "O"},
		{Path: "/o/in", Type: "file", Size: 1},
		{Path: "/p", Type: "fifo"},
		{Path: "/r", Type: "dir", Marks: "R=/old"},
		{Path: "/s", Type: "symlink", Link: "f"},
		{Path: "/x", Type: "dir", Marks: "X"},
		{Path: "/x/del", Type: "file", Marks: "W"},
		{Path: "/x/zero", Type: "file"},
	}
	if diff := cmp.Diff(want, treeRows(t, tr)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if tr.Dir() != base {
		t.Errorf("Dir() = %q, want %q", tr.Dir(), base)
	}
}

// TestReadDirMissing wraps the error of a directory that is not there.
func TestReadDirMissing(t *testing.T) {
	_, err := ReadDir(filepath.Join(t.TempDir(), "none"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir: %v, want ErrNotExist", err)
	}
}

// TestReadTarMatchesUnpack reads a layer as a tar and, applied, as a
// directory, and expects the same nodes.
func TestReadTarMatchesUnpack(t *testing.T) {
	requireOverlayRoot(t)
	data := makeTar(t, td("d/"), tf("d/.wh.x", ""), td("o/"), tf("o/.wh..wh..opq", ""), tf("o/keep", "k"), tsym("s", "o"), tf("f", "ff"))
	dir := t.TempDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Unpack(bytes.NewReader(data), dir, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	fromDir, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fromTar, err := ReadTar(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(treeRows(t, fromTar), treeRows(t, fromDir)); diff != "" {
		t.Errorf("ReadDir of the unpacked layer differs from ReadTar (-tar +dir):\n%s", diff)
	}
}

// TestReadDirRepeatedNames reads a tree whose directories repeat their
// parents' names: each path must be listed once, at its own place.
func TestReadDirRepeatedNames(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a/a/a", "a/b/a", "b/a/b"} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	tr.Walk(func(p string, n Node) error { got = append(got, p); return nil })
	want := []string{"/", "/a", "/a/a", "/a/a/a", "/a/b", "/a/b/a", "/b", "/b/a", "/b/a/b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}
