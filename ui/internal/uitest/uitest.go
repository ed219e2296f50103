// Package uitest holds what the UI's tests share: golden files with an
// -update flag, and an in-memory stack of layers to draw.
package uitest

import (
	"archive/tar"
	"bytes"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"minidocker/overlay"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/tree"
)

// Update rewrites the golden files instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Dir is where golden files live.
var Dir = "testdata"

// Golden compares got with testdata/name, or writes it there with -update.
// A name ending in .ansi keeps the escape sequences; others are compared
// with them stripped.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	if !strings.HasSuffix(name, ".ansi") {
		got = ansi.Strip(got)
	}
	p := filepath.Join(Dir, name+".golden")
	if *Update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// EvilName is a file name holding an escape sequence that would turn the
// terminal red, and a bell.
const EvilName = "\x1b[31mred\x07"

func file(p string, size int64, k overlay.DiffKind, layer int) tree.Node {
	return tree.Node{Path: p, Mode: 0o644, Size: size, Kind: k, Layer: layer}
}

func dir(p string, k overlay.DiffKind, layer int) tree.Node {
	return tree.Node{Path: p, Mode: fs.ModeDir | 0o755, Kind: k, Layer: layer}
}

// Stack returns a container's stack: two image layers and an upper
// directory that copied a file up, made one, deleted one (a whiteout) and
// replaced a directory (opaque).
func Stack() layers.Stack {
	u, a, m, r := overlay.Unmodified, overlay.Added, overlay.Modified, overlay.Removed
	l0 := []tree.Node{
		dir("/bin", a, 0), {Path: "/bin/sh", Mode: 0o755, Size: 125_000, Kind: a},
		{Path: "/bin/ls", Mode: 0o755, Size: 138_000, Kind: a},
		{Path: "/bin/vi", Mode: fs.ModeSymlink | 0o777, Link: "busybox", Kind: a},
		dir("/etc", a, 0), file("/etc/passwd", 1200, a, 0), file("/etc/hosts", 180, a, 0),
		file("/etc/"+EvilName, 5, a, 0),
		dir("/usr", a, 0), dir("/usr/share", a, 0), dir("/usr/share/doc", a, 0),
		file("/usr/share/doc/README", 4000, a, 0), dir("/tmp", a, 0), file("/tmp/cache", 9000, a, 0),
	}
	l1 := []tree.Node{
		dir("/etc", u, 1), file("/etc/passwd", 1300, m, 1), dir("/app", a, 1), file("/app/main.py", 2500, a, 1),
		dir("/tmp", u, 1), {Path: "/tmp/cache", Mode: fs.ModeCharDevice | fs.ModeDevice, Kind: r, Layer: 1, Whiteout: true},
	}
	lower := []tree.Node{}
	for _, n := range l0 {
		if n.Path != "/etc/passwd" && n.Path != "/tmp/cache" {
			n.Kind = u
			lower = append(lower, n)
		}
	}
	lower = append(lower, tree.Node{Path: "/etc/passwd", Mode: 0o644, Size: 1300, Kind: u, Layer: 1, Shadows: []int{0}},
		dir("/app", u, 1), file("/app/main.py", 2500, u, 1))
	upper := []tree.Node{
		dir("/etc", overlay.CopiedUp, 2), {Path: "/etc/hosts", Mode: 0o644, Size: 220, Kind: m, Layer: 2, Shadows: []int{0}},
		dir("/root", a, 2), file("/root/.ash_history", 40, a, 2),
		dir("/bin", overlay.CopiedUp, 2), {Path: "/bin/ls", Mode: fs.ModeCharDevice | fs.ModeDevice, Kind: overlay.Whiteout, Layer: 2, Whiteout: true},
		dir("/usr", overlay.CopiedUp, 2), dir("/usr/share", overlay.CopiedUp, 2),
		{Path: "/usr/share/doc", Mode: fs.ModeDir | 0o755, Kind: overlay.Opaque, Layer: 2, Opaque: true, Shadows: []int{0}},
		file("/usr/share/doc/NEW", 10, a, 2),
	}
	var merged []tree.Node
	for _, n := range lower {
		switch n.Path {
		case "/bin/ls", "/usr/share/doc/README", "/etc/hosts", "/usr/share/doc":
			continue
		}
		merged = append(merged, n)
	}
	merged = append(merged,
		tree.Node{Path: "/etc/hosts", Mode: 0o644, Size: 220, Kind: m, Layer: 2, Shadows: []int{0}},
		dir("/root", a, 2), file("/root/.ash_history", 40, a, 2),
		tree.Node{Path: "/usr/share/doc", Mode: fs.ModeDir | 0o755, Kind: overlay.Opaque, Layer: 2, Opaque: true, Shadows: []int{0}},
		file("/usr/share/doc/NEW", 10, a, 2))
	// Layer 0 alone merged: what it adds, read as unmodified.
	upTo0 := tree.New(nil)
	for _, n := range l0 {
		n.Kind = u
		upTo0.Set(n)
	}
	return layers.Stack{
		Names:  []string{"a1b2c3 ADD rootfs.tar /", "d4e5f6 RUN pip install app"},
		Sizes:  []int64{11_000_000, 1_300_000},
		Layers: []*tree.Tree{tree.New(l0), tree.New(l1)},
		Lower:  tree.New(lower),
		Upper:  tree.New(upper),
		Merged: tree.New(merged),
		UpTo: func(i int) *tree.Tree {
			if i == 0 {
				return upTo0
			}
			return tree.New(nil)
		},
		Open: func(n tree.Node) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("content of " + n.Path + "\n")), nil
		},
	}
}

// ImageStack returns Stack without its upper directory: an image, whose
// merged view lists what layer 1 removed, as ReadStack's does.
func ImageStack() layers.Stack {
	s := Stack()
	s.Upper, s.Merged = nil, nil
	s.Digests = []string{"sha256:a1b2c3" + strings.Repeat("0", 58), "sha256:d4e5f6" + strings.Repeat("1", 58)}
	s.CreatedBy = []string{"ADD rootfs.tar /", "RUN pip install app && rm -rf /tmp/cache"}
	gone, _ := s.Layers[1].Lookup("/tmp/cache")
	s.Lower.Set(gone)
	s.Efficiency = overlay.Efficiency{Stored: 285_180, Visible: 275_080, Wasted: 10_100, Score: 0.9646,
		Files: []overlay.WastedFile{{Path: "/tmp/cache", Copies: 1, Wasted: 9000, Layers: []int{0}},
			{Path: "/etc/passwd", Copies: 2, Wasted: 1200, Layers: []int{0}}}}
	return s
}

// Big returns a merged tree of n entries: directories of 100 files each.
func Big(n int) *tree.Tree {
	nodes := make([]tree.Node, 0, n)
	for d := 0; len(nodes) < n; d++ {
		dp := "/d" + itoa(d)
		nodes = append(nodes, dir(dp, overlay.Unmodified, 0))
		for f := 0; f < 99 && len(nodes) < n; f++ {
			k := overlay.Unmodified
			if f%10 == 0 {
				k = overlay.CopiedUp
			}
			nodes = append(nodes, file(dp+"/f"+itoa(f), int64(f*100), k, 0))
		}
	}
	return tree.New(nodes)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// Key returns the key press a binding string names: "j", "tab",
// "ctrl+a", "shift+tab", "esc", "enter", "space", "up", "pgdown"…
func Key(s string) tea.KeyPressMsg { return keys.Press(s) }

// LayerDirs unpacks layers into directories under a test's temporary
// directory, bottom first, as the image store does (overlay.Unpack: the
// whiteouts become 0:0 character devices, the opaque markers xattrs, so
// it needs root). Each layer is name, content pairs: a name ending in /
// is a directory, one "NAME -> TARGET" a symlink; whiteout markers are
// spelled out here in code, never committed as files.
func LayerDirs(t testing.TB, layers ...[]string) []string {
	t.Helper()
	base := t.TempDir()
	var dirs []string
	for i, files := range layers {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for k := 0; k+1 < len(files); k += 2 {
			name, body := files[k], files[k+1]
			hdr := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(body)), ModTime: time.Unix(1_700_000_000, 0)}
			switch {
			case strings.HasSuffix(name, "/"):
				hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
			case strings.Contains(name, " -> "):
				hdr.Name, hdr.Linkname, _ = strings.Cut(name, " -> ")
				hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeSymlink, 0o777, 0
			}
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			if hdr.Typeflag == tar.TypeReg {
				if _, err := io.WriteString(tw, body); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(base, "l"+itoa(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := overlay.Unpack(&buf, dir, overlay.UnpackOptions{}); err != nil {
			t.Fatalf("unpack layer %d: %v", i, err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}
