package overlay

import (
	"path/filepath"
	"testing"

	"minidocker/internal/testutil"
)

// TestChangeAt checks that ChangeAt, reading one path, says what Diff over
// the layers read whole says of every path the upper layer holds.
func TestChangeAt(t *testing.T) {
	testutil.RequireRoot(t)
	lower := [][]layerOp{
		{dir("etc"), file("etc/hosts", "127.0.0.1\n"), file("etc/passwd", "root\n"), file("bin/sh", "sh"), file("bin/ls", "ls"),
			dir("usr/share/doc"), file("usr/share/doc/README", "read me"), symlink("lib", "usr/lib"), file("gone", "x"), file("opt/x", "x")},
		{file("etc/passwd", "root\nuser\n"), whiteout("bin/ls"), opaque("opt"), file("opt/y", "y"), file("file-then-dir", "f")},
	}
	upper := []layerOp{
		file("etc/hosts", "127.0.0.1\n10.0.0.1 db\n"),                                                  // modified
		file("etc/passwd", "root\nuser\n"),                                                             // same content, other mtime
		{kind: opFile, path: "bin/sh", data: "sh", mode: 0o755},                                        // chmod
		{kind: opFile, path: "usr/share/doc/README", data: "read me", mode: 0o644, mtime: fixtureTime}, // copied up
		whiteout("gone"), opaque("usr/share/doc"), file("usr/share/doc/NEW", "new"),
		file("bin/ls", "new ls"), // over a lower whiteout: new
		file("opt/x", "x"),       // beneath an opaque lower dir: new
		file("opt/y", "y2"),
		dir("file-then-dir"), file("file-then-dir/a", "a"),
		symlink("lib", "usr/lib64"),
		file("root/.profile", "PS1=#"),
	}
	base := t.TempDir()
	dirs, trees := buildStack(t, base, append(lower, upper))
	below := Merge(trees[:len(lower)])
	for _, c := range Diff(below, trees[len(lower)]) {
		switch c.Kind {
		case Removed, Whiteout, Opaque:
			continue
		}
		t.Run(c.Path, func(t *testing.T) {
			got, ok, err := ChangeAt(dirs[len(lower)], dirs[:len(lower)], c.Path)
			if err != nil || !ok {
				t.Fatalf("ChangeAt: %v, %v", ok, err)
			}
			if got.Kind != c.Kind || got.Lower != c.Lower {
				t.Errorf("ChangeAt says %v over layer %d, Diff %v over layer %d", got.Kind, got.Lower, c.Kind, c.Lower)
			}
			if want, _ := trees[len(lower)].Lookup(c.Path); got.Node != want {
				t.Errorf("node %+v, ReadDir read %+v", got.Node, want)
			}
		})
	}
	if _, ok, err := ChangeAt(dirs[len(lower)], dirs[:len(lower)], "/nosuch"); ok || err != nil {
		t.Errorf("ChangeAt of a missing path: %v, %v", ok, err)
	}
	if _, _, err := ChangeAt(filepath.Join(base, "nosuch"), nil, "/"); err == nil {
		t.Error("ChangeAt of the root: no error")
	}
}
