package buildctx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
)

var (
	oldTime   = time.Date(2001, 2, 3, 4, 5, 6, 700, time.UTC)
	rootFiles = map[string]string{
		"etc/passwd":    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nbad:x:oops:0::/:/bin/sh\n",
		"etc/group":     "root:x:0:\nstaff:x:50:app\napp:x:1001:\n",
		"existing/":     "",
		"file":          "old",
		"etc-link":      "->/etc",
		"rel-link":      "->../../../../../etc",
		"app":           "->/data/app",
		"out2/sub":      "->/etc",
		"out3/sub/":     "",
		"out3/a.txt/in": "in",
		"out3/keep":     "keep",
		"out3/replaced": "old",
	}
	ctxFiles = map[string]string{
		".dockerignore": "dir/secret\n",
		"a.txt":         "a",
		"b.txt":         "b",
		"run.sh":        "#!/bin/sh",
		"dir/x":         "x",
		"dir/sub/y":     "y",
		"dir/lnk":       "->x",
		"dir/secret":    "s",
		"dir/replaced":  "new",
		"payload.tar":   "not really a tar",
	}
)

// newCopyFixture makes a root filesystem and a build context with the
// files above, the context's with fixed times, run.sh setuid and dir/hard a
// hard link of dir/x.
func newCopyFixture(t *testing.T) (root string, c *Context) {
	t.Helper()
	testutil.RequireRoot(t)
	root = filepath.Join(t.TempDir(), "rootfs")
	writeTree(t, root, rootFiles)
	dir := newContextDir(t, ctxFiles)
	if err := os.Chmod(filepath.Join(dir, "run.sh"), 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "dir/x"), filepath.Join(dir, "dir/hard")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.txt", "dir/x", "dir/sub/y", "dir/sub", "dir"} {
		if err := os.Chtimes(filepath.Join(dir, p), oldTime, oldTime); err != nil {
			t.Fatal(err)
		}
	}
	return root, openCtx(t, dir)
}

func TestCopyInto(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		dest     string
		opts     CopyOptions
		list     string   // directory of root to list
		want     []string // its listing
		errHas   string
	}{
		{"file into a dir form", []string{"a.txt"}, "/out/", CopyOptions{}, "out", []string{"a.txt 0644 0:0 a"}, ""},
		{"file into dot form", []string{"a.txt"}, "/out/.", CopyOptions{}, "out", []string{"a.txt 0644 0:0 a"}, ""},
		{"file as dest", []string{"a.txt"}, "/out/renamed", CopyOptions{}, "out", []string{"renamed 0644 0:0 a"}, ""},
		{"file into an existing dir", []string{"a.txt"}, "/existing", CopyOptions{}, "existing", []string{"a.txt 0644 0:0 a"}, ""},
		{"file over a file", []string{"a.txt"}, "/out3/replaced", CopyOptions{}, "out3", []string{
			"a.txt/ 0755 0:0 ", "a.txt/in 0644 0:0 in", "keep 0644 0:0 keep", "replaced 0644 0:0 a", "sub/ 0755 0:0 "}, ""},
		{"setuid kept", []string{"run.sh"}, "/out/", CopyOptions{}, "out", []string{"run.sh 4755 0:0 #!/bin/sh"}, ""},
		{"symlink source copies what it leads to", []string{"dir/lnk"}, "/out/", CopyOptions{}, "out", []string{"lnk 0644 0:0 x"}, ""},
		{"glob", []string{"*.txt"}, "/out/", CopyOptions{}, "out", []string{"a.txt 0644 0:0 a", "b.txt 0644 0:0 b"}, ""},
		{"dir contents", []string{"dir"}, "/out", CopyOptions{}, "out", []string{
			"hard 0644 0:0 x", "lnk 0777 0:0 ->x", "replaced 0644 0:0 new", "sub/ 0755 0:0 ", "sub/y 0644 0:0 y", "x 0644 0:0 x"}, ""},
		{"dir into an existing tree", []string{"dir"}, "/out3/", CopyOptions{}, "out3", []string{
			"a.txt/ 0755 0:0 ", "a.txt/in 0644 0:0 in", "hard 0644 0:0 x", "keep 0644 0:0 keep", "lnk 0777 0:0 ->x", "replaced 0644 0:0 new",
			"sub/ 0755 0:0 ", "sub/y 0644 0:0 y", "x 0644 0:0 x"}, ""},
		{"root of the context", []string{"."}, "/out/", CopyOptions{Chmod: "600"}, "out", []string{
			".dockerignore 0600 0:0 dir/secret\n", "a.txt 0600 0:0 a", "b.txt 0600 0:0 b",
			"dir/ 0600 0:0 ", "dir/hard 0600 0:0 x", "dir/lnk 0777 0:0 ->x", "dir/replaced 0600 0:0 new",
			"dir/sub/ 0600 0:0 ", "dir/sub/y 0600 0:0 y", "dir/x 0600 0:0 x",
			"payload.tar 0600 0:0 not really a tar", "run.sh 0600 0:0 #!/bin/sh"}, ""},
		{"chown by name", []string{"a.txt", "dir/sub"}, "/out/new/", CopyOptions{Chown: "app"}, "out", []string{
			"new/ 0755 1000:1001 ", "new/a.txt 0644 1000:1001 a", "new/y 0644 1000:1001 y"}, ""},
		{"chown by names", []string{"a.txt"}, "/out/", CopyOptions{Chown: "app:staff"}, "out", []string{"a.txt 0644 1000:50 a"}, ""},
		{"chown by number", []string{"a.txt"}, "/out/", CopyOptions{Chown: "1234"}, "out", []string{"a.txt 0644 1234:1234 a"}, ""},
		{"chown by numbers", []string{"a.txt"}, "/out/", CopyOptions{Chown: "1234:5678"}, "out", []string{"a.txt 0644 1234:5678 a"}, ""},
		{"chown by name and number", []string{"a.txt"}, "/out/", CopyOptions{Chown: "app:7"}, "out", []string{"a.txt 0644 1000:7 a"}, ""},
		{"chmod", []string{"dir/sub", "run.sh"}, "/out/", CopyOptions{Chmod: "0751"}, "out", []string{"run.sh 0751 0:0 #!/bin/sh", "y 0751 0:0 y"}, ""},
		{"chmod with special bits", []string{"a.txt"}, "/out/", CopyOptions{Chmod: "2750"}, "out", []string{"a.txt 2750 0:0 a"}, ""},
		{"through a dangling symlink", []string{"a.txt"}, "/app/", CopyOptions{}, "data", []string{"app/ 0755 0:0 ", "app/a.txt 0644 0:0 a"}, ""},
		{"dotdot stops at the root", []string{"a.txt"}, "/../../../out/x", CopyOptions{}, "out", []string{"x 0644 0:0 a"}, ""},

		{"two sources need a slash", []string{"a.txt", "b.txt"}, "/out", CopyOptions{}, "", nil,
			"When using COPY with more than one source file, the destination must be a directory and end with a /"},
		{"a glob of two needs a slash", []string{"*.txt"}, "/out", CopyOptions{}, "", nil, "more than one source file"},
		{"dir over a file", []string{"dir"}, "/file", CopyOptions{}, "", nil, "cannot copy to non-directory: /file"},
		{"dir over a symlink beneath dest", []string{"dir"}, "/out2/", CopyOptions{}, "", nil, "cannot copy to non-directory: /out2/sub"},
		{"file over a directory", []string{"a.txt"}, "/out3/", CopyOptions{}, "", nil, `cannot replace directory "/out3/a.txt" with a file`},
		{"relative dest", []string{"a.txt"}, "out/", CopyOptions{}, "", nil, "not an absolute path"},
		{"unknown user", []string{"a.txt"}, "/out/", CopyOptions{Chown: "nobody"}, "", nil, `no user "nobody" in the image's /etc/passwd`},
		{"unknown group", []string{"a.txt"}, "/out/", CopyOptions{Chown: "app:wheel"}, "", nil, `no group "wheel" in the image's /etc/group`},
		{"bad passwd entry", []string{"a.txt"}, "/out/", CopyOptions{Chown: "bad"}, "", nil, `bad entry for "bad"`},
		{"bad chown", []string{"a.txt"}, "/out/", CopyOptions{Chown: "a:b:c"}, "", nil, "want user, uid, user:group or uid:gid"},
		{"bad chmod", []string{"a.txt"}, "/out/", CopyOptions{Chmod: "999"}, "", nil, "invalid chmod parameter: '999'"},
		{"chmod too big", []string{"a.txt"}, "/out/", CopyOptions{Chmod: "17777"}, "", nil, "between 0 and 07777"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, c := newCopyFixture(t)
			srcs, err := c.Sources(tt.patterns)
			if err != nil {
				t.Fatal(err)
			}
			err = c.CopyInto(root, srcs, tt.dest, tt.opts)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("error %v, want one saying %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, listTree(t, filepath.Join(root, tt.list))); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.list, diff)
			}
		})
	}
}

// TestCopyIntoSymlinkToEtc is the one that matters most: a destination
// through a symlink to /etc in the image lands in the root's /etc, never
// the host's, whichever way the link is written.
func TestCopyIntoSymlinkToEtc(t *testing.T) {
	for _, dest := range []string{
		"/etc-link/minidocker-buildctx-test",
		"/etc-link/",
		"/rel-link/minidocker-buildctx-test",
		"/etc-link/../etc-link/minidocker-buildctx-test",
	} {
		t.Run(dest, func(t *testing.T) {
			root, c := newCopyFixture(t)
			host := "/etc/minidocker-buildctx-test"
			if _, err := os.Lstat(host); err == nil {
				t.Fatalf("%s is on the host before the test", host)
			}
			srcs, err := c.Sources([]string{"a.txt"})
			if err != nil {
				t.Fatal(err)
			}
			name := "minidocker-buildctx-test"
			if strings.HasSuffix(dest, "/") {
				name = "a.txt"
				host = "/etc/a.txt"
			}
			if err := c.CopyInto(root, srcs, dest, CopyOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(host); err == nil {
				os.Remove(host)
				t.Fatalf("the copy landed in the host's %s", host)
			}
			b, err := os.ReadFile(filepath.Join(root, "etc", name))
			if err != nil || string(b) != "a" {
				t.Errorf("root/etc/%s: %q, %v", name, b, err)
			}
			if fi, err := os.Lstat(filepath.Join(root, "etc-link")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link in the image was replaced: %v, %v", fi, err)
			}
		})
	}
}

// TestCopyIntoMetadata checks times, hard links and made parents.
func TestCopyIntoMetadata(t *testing.T) {
	root, c := newCopyFixture(t)
	srcs, err := c.Sources([]string{"dir", "a.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CopyInto(root, srcs, "/made/on/the/way/", CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	at := func(p string) string { return filepath.Join(root, "made/on/the/way", p) }
	for _, p := range []string{"x", "sub/y", "sub", "a.txt"} {
		fi, err := os.Lstat(at(p))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(oldTime) {
			t.Errorf("%s: mtime %v, want %v", p, fi.ModTime(), oldTime)
		}
	}
	x, _ := os.Stat(at("x"))
	hard, _ := os.Stat(at("hard"))
	if !os.SameFile(x, hard) {
		t.Errorf("x and hard are no longer one file")
	}
	for _, p := range []string{"made", "made/on", "made/on/the", "made/on/the/way"} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm() != 0o755 || st.Uid != 0 || st.Gid != 0 {
			t.Errorf("%s: %v %d:%d, want 0755 0:0", p, fi.Mode(), st.Uid, st.Gid)
		}
	}
}

// TestCopyIntoFromStage copies from a stage's root: owners kept unless
// --chown, and a source's absolute symlink resolved inside that root.
func TestCopyIntoFromStage(t *testing.T) {
	root, _ := newCopyFixture(t)
	stage := t.TempDir()
	writeTree(t, stage, map[string]string{
		"opt/app/bin": "bin",
		"opt/app/cfg": "->/etc/cfg",
		"etc/cfg":     "cfg",
		"current":     "->/opt/app",
	})
	for _, p := range []string{"opt/app/bin", "opt/app", "etc/cfg"} {
		if err := os.Lchown(filepath.Join(stage, p), 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	c, err := OpenDir(stage)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tt := range []struct {
		patterns []string
		opts     CopyOptions
		want     []string
	}{
		{[]string{"/current"}, CopyOptions{}, []string{"bin 0644 1000:1000 bin", "cfg 0777 0:0 ->/etc/cfg"}},
		{[]string{"/current/cfg"}, CopyOptions{}, []string{"cfg 0644 1000:1000 cfg"}},
		{[]string{"/current"}, CopyOptions{Chown: "7:8"}, []string{"bin 0644 7:8 bin", "cfg 0777 7:8 ->/etc/cfg"}},
	} {
		srcs, err := c.Sources(tt.patterns)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(root, "out")
		os.RemoveAll(out)
		if err := c.CopyInto(root, srcs, "/out/", tt.opts); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, listTree(t, out)); diff != "" {
			t.Errorf("%q %+v (-want +got):\n%s", tt.patterns, tt.opts, diff)
		}
	}
}

func TestCopyIntoNoSources(t *testing.T) {
	root, c := newCopyFixture(t)
	if err := c.CopyInto(root, nil, "/out/", CopyOptions{}); !errors.Is(err, ErrNoSources) {
		t.Errorf("no sources: %v", err)
	}
}
