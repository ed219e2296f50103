package ui

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// TestPreviewGolden is the preview of a directory: its entries as ls -l
// lists them, at both sizes.
func TestPreviewGolden(t *testing.T) {
	// The image opens on all its layers merged; /etc is the 7th row.
	ks := []string{"enter", "j", "j", "j", "j", "j", "j", "p"}
	for _, sz := range [][2]int{{120, 40}, {80, 24}} {
		name := map[int]string{120: "preview_dir_120x40", 80: "preview_dir_80x24"}[sz[0]]
		t.Run(name, func(t *testing.T) {
			m, _, _ := newTest(t, sz[0], sz[1], false)
			m = press(t, m, ks...)
			if m.detail == nil || m.detail.preview == nil {
				t.Fatalf("no preview (status %q)", m.status)
			}
			uitest.Golden(t, name, m.render())
		})
	}
}

// TestDirListingOneLine checks that a name with a line break in it stays
// on its line of the listing.
func TestDirListingOneLine(t *testing.T) {
	got := dirListing("/d", []tree.Node{{Path: "/d/a\nb", Mode: 0o644, Size: 1}, {Path: "/d/l", Mode: fs.ModeSymlink | 0o777, Link: "x\ry"}})
	want := "/d: 2 entries\n\n  -rw-r--r-- 0:0     1B a␤b\n  lrwxrwxrwx 0:0        l → x␤y"
	if got != want {
		t.Errorf("listing:\n%q\nwant\n%q", got, want)
	}
}

// TestHiddenEntry checks that preview and extract of what a layer removed
// say why there is nothing to read, on the status line, and that the
// message goes away by itself.
func TestHiddenEntry(t *testing.T) {
	// /tmp/cache, the whiteout of layer 1, is the 12th row of the merged
	// view of the image.
	to := append([]string{"enter"}, strings.Split(strings.Repeat("j", 11), "")...)
	for _, k := range []string{"p", "x"} {
		m, _, _ := newTest(t, 120, 40, false)
		now := time.Unix(1_700_000_000, 0)
		m.now = func() time.Time { return now }
		m = press(t, m, append(to, k)...)
		if n, _ := m.detail.layers.Selected(); n.Path != "/tmp/cache" {
			t.Fatalf("the cursor is on %s", n.Path)
		}
		op := map[string]string{"p": "preview", "x": "extract"}[k]
		want := "error: " + op + " /tmp/cache: hidden by a whiteout in layer 1"
		if m.status != want || m.dialog.Active() || m.detail.preview != nil {
			t.Errorf("%s: status %q, dialog %v, preview %v; want %q", k, m.status, m.dialog.Active(), m.detail.preview != nil, want)
		}
		// The refresh that comes every RefreshEvery clears it once it
		// has been on screen StatusFor.
		m = send(t, m, refreshMsg{})
		now = now.Add(StatusFor - time.Second)
		if m = send(t, m, refreshMsg{}); m.status != want {
			t.Errorf("the status went before StatusFor: %q", m.status)
		}
		now = now.Add(time.Second)
		if m = send(t, m, refreshMsg{}); m.status != "" {
			t.Errorf("the status stays after StatusFor: %q", m.status)
		}
	}
}

// TestExtractDialog checks that extracting a directory asks where to and
// as what, and says so when the answer is neither dir nor tar.
func TestExtractDialog(t *testing.T) {
	m, _, _ := newTest(t, 120, 40, false)
	m = press(t, m, "enter", "x") // /app, a directory
	v := m.dialog.View()
	if !m.dialog.Active() || !strings.Contains(v, "/tmp/app") || !strings.Contains(v, "as") || !strings.Contains(v, "dir") {
		t.Fatalf("the dialog does not ask where and as what:\n%s", v)
	}
	m = press(t, m, "tab", "backspace", "backspace", "backspace", "z", "i", "p", "enter")
	if want := `error: extract /app: as "zip": want dir or tar`; m.status != want {
		t.Errorf("status %q, want %q", m.status, want)
	}
}

// TestExtractDirectory extracts a directory of real layers, as a directory
// and as a tar, from the merged view and from one layer alone, and checks
// each against what the layers hold there: the kernel's overlay of the
// same layers for the merged view, the layer's own directory for a layer
// alone (whiteouts and the opaque marker left out).
func TestExtractDirectory(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	dirs := uitest.LayerDirs(t,
		[]string{"app/", "", "app/bin/", "", "app/bin/tool", "#!/bin/sh\n", "app/static/", "", "app/static/old.css", "old",
			"app/conf", "v1", "app/gone", "bye", "app/sub/", "", "app/sub/deep/", "", "app/sub/deep/f", "deep",
			"etc/", "", "etc/hosts", "h"},
		[]string{"app/", "", "app/static/", "", "app/static/.wh..wh..opq", "", "app/static/new.css", "new", "app/conf", "v2",
			"app/.wh.gone", "", "app/link -> bin/tool", ""},
	)
	if err := os.Chmod(filepath.Join(dirs[0], "app/bin/tool"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dirs[0], "app/sub/deep"), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := layers.ReadStack(dirs, "", []string{"l0", "l1"})
	if err != nil {
		t.Fatal(err)
	}
	merged := mountLayers(t, dirs)
	tests := []struct {
		name    string
		presses []string
		want    string // the directory that holds what /app should give
	}{
		{"all layers", nil, filepath.Join(merged, "app")},
		{"layer 1 alone", []string{"a"}, filepath.Join(dirs[1], "app")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)
			for _, k := range tt.presses {
				v, _ = v.Update(uitest.Key(k))
			}
			entries := v.Subtree("/app")
			want := hostFiles(t, tt.want)
			out := filepath.Join(t.TempDir(), "out")
			if _, err := extractDir(v.Open(), entries, "/app", out); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, hostFiles(t, out)); diff != "" {
				t.Errorf("extracted as a directory (-layers +extracted):\n%s", diff)
			}
			tarPath := filepath.Join(t.TempDir(), "app.tar")
			if _, err := extractTar(v.Open(), entries, "/app", tarPath); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, tarFiles(t, tarPath, "app")); diff != "" {
				t.Errorf("extracted as a tar (-layers +extracted):\n%s", diff)
			}
			if _, err := extractDir(v.Open(), entries, "/app", out); !errors.Is(err, fs.ErrExist) {
				t.Errorf("extracting over an existing directory: %v, want it refused", err)
			}
		})
	}
}

// mountLayers mounts the kernel's overlay of dirs (bottom first),
// read-only, and unmounts it when the test ends.
func mountLayers(t *testing.T, dirs []string) string {
	t.Helper()
	target := t.TempDir()
	var lower []string
	for i := len(dirs) - 1; i >= 0; i-- {
		lower = append(lower, dirs[i])
	}
	if err := unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(lower, ":")); err != nil {
		t.Fatalf("mount overlay on %s: %v", target, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(target, 0); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
	return target
}

// hostFiles describes what is beneath dir: path → type, mode, owner and
// content or target. Whiteouts and the opaque marker, which are how a
// layer directory records a removal, are left out, as extracting leaves
// out what a layer removed.
func hostFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0 {
			return nil // a whiteout
		}
		rel, _ := filepath.Rel(dir, p)
		desc := fi.Mode().String() + " " + itoa(st.Uid) + ":" + itoa(st.Gid)
		switch {
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += " " + string(b)
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " → " + target
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tarFiles describes a tar as hostFiles describes a directory, its names
// taken relative to top.
func tarFiles(t *testing.T, p, top string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(top, filepath.Clean(h.Name))
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("tar entry %q is not beneath %s", h.Name, top)
		}
		desc := h.FileInfo().Mode().String() + " " + itoa(uint32(h.Uid)) + ":" + itoa(uint32(h.Gid))
		switch h.Typeflag {
		case tar.TypeReg:
			c, _ := io.ReadAll(tr)
			desc += " " + string(c)
		case tar.TypeSymlink:
			desc += " → " + h.Linkname
		}
		out[rel] = desc
	}
	return out
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
