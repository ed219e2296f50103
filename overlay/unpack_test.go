package overlay

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// tarEntry is one entry of a layer tar built in a test.
type tarEntry struct {
	hdr  tar.Header
	body string
	size int64 // header size when it differs from len(body)
}

var epoch = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

func tFile(name, body string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, ModTime: epoch}, body: body}
}

func tDir(name string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: epoch}}
}

func tSym(name, target string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, ModTime: epoch}}
}

func tLink(name, target string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, ModTime: epoch}}
}

// tWhiteout is the OCI whiteout entry deleting dir/name.
func tWhiteout(dir, name string) tarEntry { return tFile(filepath.Join(dir, ".wh."+name), "") }

// with returns e changed by f.
func with(e tarEntry, f func(h *tar.Header)) tarEntry { f(&e.hdr); return e }

// outsideMark in a link target stands for the planted directory outside
// the target.
const outsideMark = "@OUT@"

// buildTar writes entries as a tar, replacing outsideMark in link targets.
func buildTar(t testing.TB, entries []tarEntry, outside string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		h.Linkname = strings.ReplaceAll(h.Linkname, outsideMark, outside)
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if e.size != 0 {
			h.Size = e.size
		}
		if len(h.PAXRecords) > 0 {
			h.Format = tar.FormatPAX
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("write header %q: %v", h.Name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatalf("write %q: %v", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("close tar: %v", err)
	}
	return buf.Bytes()
}

// newTarget makes parent/root, the empty target, and parent/outside/victim,
// a file that no unpack may touch. It returns root and outside.
func newTarget(t testing.TB) (string, string) {
	t.Helper()
	parent := t.TempDir()
	out := plantOutside(t, parent)
	root := filepath.Join(parent, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { makeWritable(root) })
	return root, out
}

// plantOutside makes parent/outside/victim and returns parent/outside.
func plantOutside(t testing.TB, parent string) string {
	t.Helper()
	out := filepath.Join(parent, "outside")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "victim"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// makeWritable lets the owner write every directory under root: without
// root, directories a layer made read-only would stop their removal.
func makeWritable(root string) {
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
}

// checkOutside fails the test when anything beside root changed in its
// parent: only root and outside may be there, outside holding only the
// untouched victim.
func checkOutside(t testing.TB, root, out string) {
	t.Helper()
	names := func(dir string) []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("read %s: %v", dir, err)
		}
		var ns []string
		for _, e := range ents {
			ns = append(ns, e.Name())
		}
		return ns
	}
	if got := names(filepath.Dir(root)); !slices.Equal(got, []string{"outside", "root"}) {
		t.Errorf("parent of target holds %q, want [outside root]", got)
	}
	if got := names(out); !slices.Equal(got, []string{"victim"}) {
		t.Errorf("outside holds %q, want [victim]", got)
	}
	fi, err := os.Lstat(filepath.Join(out, "victim"))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Errorf("victim changed: %v, %v", fi, err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "victim")); string(b) != "precious" {
		t.Errorf("victim holds %q", b)
	}
}

// node describes one path of an unpacked tree.
type node struct {
	Type   string // dir, file, symlink, char, block, fifo
	Mode   string // permission and setuid/setgid/sticky bits, octal; none for symlinks
	UID    int
	GID    int
	Data   string // file content
	Nlink  uint64 // files only
	Link   string
	Rdev   string // devices: major:minor
	Xattrs map[string]string
}

func dirN(mode string) node            { return node{Type: "dir", Mode: mode} }
func fileN(mode, data string) node     { return node{Type: "file", Mode: mode, Data: data, Nlink: 1} }
func symN(target string) node          { return node{Type: "symlink", Link: target} }
func whN() node                        { return node{Type: "char", Mode: "0000", Rdev: "0:0"} }
func opaqueN(n node) node              { n.Xattrs = map[string]string{opaqueXattr: "y"}; return n }
func owned(n node, uid, gid int) node  { n.UID, n.GID = uid, gid; return n }
func linked(n node, nlink uint64) node { n.Nlink = nlink; return n }

// describe walks root and describes every path in it, "." for root.
func describe(t testing.TB, root string) map[string]node {
	t.Helper()
	tree := map[string]node{}
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		n := node{UID: int(st.Uid), GID: int(st.Gid), Mode: fmt.Sprintf("%04o", st.Mode&0o7777)}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			n.Type = "dir"
		case unix.S_IFREG:
			n.Type, n.Nlink = "file", uint64(st.Nlink)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n.Data = string(b)
		case unix.S_IFLNK:
			n.Type, n.Mode = "symlink", ""
			n.Link, _ = os.Readlink(p)
		case unix.S_IFCHR, unix.S_IFBLK:
			n.Type = map[uint32]string{unix.S_IFCHR: "char", unix.S_IFBLK: "block"}[st.Mode&unix.S_IFMT]
			n.Rdev = fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		case unix.S_IFIFO:
			n.Type = "fifo"
		}
		n.Xattrs = xattrs(t, p)
		tree[rel] = n
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return tree
}

// xattrs lists the xattrs of p, without a security.selinux label.
func xattrs(t testing.TB, p string) map[string]string {
	sz, err := unix.Llistxattr(p, nil)
	if err != nil || sz == 0 {
		return nil
	}
	buf := make([]byte, sz)
	sz, err = unix.Llistxattr(p, buf)
	if err != nil {
		t.Fatalf("llistxattr %s: %v", p, err)
	}
	m := map[string]string{}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:sz]), "\x00"), "\x00") {
		if name == "security.selinux" {
			continue
		}
		v := make([]byte, 256)
		n, err := unix.Lgetxattr(p, name, v)
		if err != nil {
			t.Fatalf("lgetxattr %s %s: %v", p, name, err)
		}
		m[name] = string(v[:n])
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// unpackCase is one layer and what unpacking it must give.
type unpackCase struct {
	name    string
	entries []tarEntry
	opts    UnpackOptions
	wantErr error           // a sentinel, or nil for success
	errText string          // when set, the error must read exactly this
	want    map[string]node // the whole tree, "." included; nil: not checked
	check   func(t *testing.T, root string)
}

func runCases(t *testing.T, cases []unpackCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root, out := newTarget(t)
			_, err := Unpack(bytes.NewReader(buildTar(t, tc.entries, out)), root, tc.opts)
			checkOutside(t, root, out)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Unpack: %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("Unpack error %v, want %v", err, tc.wantErr)
			case tc.errText != "" && err.Error() != tc.errText:
				t.Errorf("Unpack error reads %q, want %q", err, tc.errText)
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, describe(t, root)); diff != "" {
					t.Errorf("tree (-want +got):\n%s", diff)
				}
			}
			if tc.check != nil {
				tc.check(t, root)
			}
		})
	}
}

var rootN = dirN("0755")

func TestUnpackWhiteouts(t *testing.T) {
	testutil.RequireRoot(t)
	runCases(t, []unpackCase{{
		name:    "whiteout becomes a 0:0 char device",
		entries: []tarEntry{tDir("etc/"), tWhiteout("etc", "passwd"), tWhiteout(".", "top")},
		want:    map[string]node{".": rootN, "etc": dirN("0755"), "etc/passwd": whN(), "top": whN()},
	}, {
		name:    "whiteout without its directory",
		entries: []tarEntry{tWhiteout("a/b", "c")},
		want:    map[string]node{".": rootN, "a": dirN("0755"), "a/b": dirN("0755"), "a/b/c": whN()},
	}, {
		name:    "opaque marker becomes an xattr",
		entries: []tarEntry{tDir("d/"), tFile("d/.wh..wh..opq", ""), tFile("d/keep", "k")},
		want:    map[string]node{".": rootN, "d": opaqueN(dirN("0755")), "d/keep": fileN("0644", "k")},
	}, {
		name: "opaque marker before its directory",
		entries: []tarEntry{
			tFile("d/.wh..wh..opq", ""),
			with(tDir("d"), func(h *tar.Header) { h.Mode = 0o750 }),
		},
		want: map[string]node{".": rootN, "d": opaqueN(dirN("0750"))},
	}, {
		name:    "opaque root",
		entries: []tarEntry{tFile(".wh..wh..opq", "")},
		want:    map[string]node{".": opaqueN(rootN)},
	}, {
		name: "aufs metadata is skipped",
		entries: []tarEntry{
			tDir(".wh..wh.plnk/"), tFile(".wh..wh.plnk/123.456", "x"),
			tFile(".wh..wh.aufs", ""), tDir("a/"), tFile("a/.wh..wh.orph", ""),
		},
		want: map[string]node{".": rootN, "a": dirN("0755")},
	}, {
		name:    "whiteout of nothing",
		entries: []tarEntry{tFile("a/.wh.", "")},
		wantErr: ErrUnsafePath,
		errText: `entry "a/.wh.": whiteout names no file`,
	}, {
		name:    "whiteout of dot",
		entries: []tarEntry{tFile("a/.wh..", "")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "whiteout of dot dot",
		entries: []tarEntry{tFile(".wh...", "")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "whiteout name as a directory",
		entries: []tarEntry{tFile(".wh.a/b", "")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "whiteout beneath a symlink",
		entries: []tarEntry{tSym("l", outsideMark), tWhiteout("l", "victim")},
		wantErr: ErrUnsafePath,
	}})
}

func TestUnpackNames(t *testing.T) {
	testutil.RequireRoot(t)
	long := strings.Repeat("n", 255)
	deep := strings.Repeat(long+"/", 15) + strings.Repeat("m", 255) // 4095 bytes
	runCases(t, []unpackCase{{
		name:    "parent escape",
		entries: []tarEntry{tFile("../x", "x")},
		wantErr: ErrUnsafePath,
		errText: `entry "../x": path escapes layer`,
	}, {
		name:    "escape after a directory",
		entries: []tarEntry{tFile("a/../../x", "x")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "escape through a directory to outside",
		entries: []tarEntry{tDir("a/"), tFile("a/../../outside/victim", "x")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "absolute path lands inside",
		entries: []tarEntry{tFile("/etc/passwd", "root:x:0:0")},
		want:    map[string]node{".": rootN, "etc": dirN("0755"), "etc/passwd": fileN("0644", "root:x:0:0")},
	}, {
		name:    "double slash is absolute",
		entries: []tarEntry{tFile("//etc/passwd", "x")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "dot slash prefixes and trailing slashes",
		entries: []tarEntry{tDir("./"), tDir("././a/"), tFile("./a/./b", "b"), tDir("a/c//")},
		want:    map[string]node{".": rootN, "a": dirN("0755"), "a/b": fileN("0644", "b"), "a/c": dirN("0755")},
	}, {
		name:    "root as a file",
		entries: []tarEntry{tFile(".", "x")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "newline",
		entries: []tarEntry{tFile("a\nb", "x")},
		wantErr: ErrUnsafePath,
		errText: `entry "a\nb": control character in name`,
	}, {
		name:    "escape sequence",
		entries: []tarEntry{tFile("\x1b[2Jx", "x")},
		wantErr: ErrUnsafePath,
		errText: `entry "\x1b[2Jx": control character in name`,
	}, {
		name:    "delete character",
		entries: []tarEntry{tDir("a\x7f/")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "control character in a hardlink target",
		entries: []tarEntry{tFile("a", "x"), tLink("b", "a\r")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "longest component",
		entries: []tarEntry{tFile(long, "x")},
		want:    map[string]node{".": rootN, long: fileN("0644", "x")},
	}, {
		name:    "component too long",
		entries: []tarEntry{tFile(long+"n", "x")},
		wantErr: ErrUnsafePath,
		errText: fmt.Sprintf("entry %q: name longer than 255 bytes", long+"n"),
	}, {
		name:    "longest path",
		entries: []tarEntry{tFile(deep, "x")},
		check: func(t *testing.T, root string) {
			r, err := os.OpenRoot(root)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := r.Lstat(deep); err != nil {
				t.Error(err)
			}
		},
	}, {
		name:    "path too long",
		entries: []tarEntry{tFile(deep+"m", "x")},
		wantErr: ErrUnsafePath,
	}})
}

func TestUnpackSymlinks(t *testing.T) {
	testutil.RequireRoot(t)
	probe := fmt.Sprintf("minidocker-unpack-probe-%d", os.Getpid())
	runCases(t, []unpackCase{{
		name:    "targets are kept as they are",
		entries: []tarEntry{tSym("abs", "/etc/passwd"), tSym("rel", "../../x"), tSym("out", outsideMark)},
		check: func(t *testing.T, root string) {
			got := describe(t, root)
			want := map[string]node{".": rootN, "abs": symN("/etc/passwd"), "rel": symN("../../x")}
			delete(got, "out")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		},
	}, {
		name:    "file through a symlink outside",
		entries: []tarEntry{tSym("link", outsideMark), tFile("link/victim", "pwned")},
		wantErr: ErrUnsafePath,
		errText: `entry "link/victim": parent "link" is a symlink`,
	}, {
		name:    "file through a symlink to /tmp",
		entries: []tarEntry{tSym("link", "/tmp"), tFile("link/"+probe, "pwned")},
		wantErr: ErrUnsafePath,
		check: func(t *testing.T, _ string) {
			if _, err := os.Lstat(filepath.Join("/tmp", probe)); err == nil {
				t.Errorf("/tmp/%s was written", probe)
			}
		},
	}, {
		name:    "directory through a symlink to dot dot",
		entries: []tarEntry{tSym("up", ".."), tDir("up/outside/new/")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "file through a symlink to a directory of the layer",
		entries: []tarEntry{tDir("d/"), tSym("l", "d"), tFile("l/x", "x")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "file through a symlink deeper down",
		entries: []tarEntry{tDir("a/"), tSym("a/l", "/"), tFile("a/l/b/c", "x")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "file beneath a file",
		entries: []tarEntry{tFile("f", "x"), tFile("f/x", "x")},
		wantErr: ErrUnsafePath,
		errText: `entry "f/x": parent "f" is not a directory`,
	}, {
		name:    "hardlink through a symlink",
		entries: []tarEntry{tSym("l", outsideMark), tLink("h", "l/victim")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "file replaces a symlink, not written through it",
		entries: []tarEntry{tSym("l", outsideMark+"/victim"), tFile("l", "mine")},
		want:    map[string]node{".": rootN, "l": fileN("0644", "mine")},
	}, {
		name:    "directory replaces a symlink",
		entries: []tarEntry{tSym("l", outsideMark), tDir("l/"), tFile("l/victim", "mine")},
		want:    map[string]node{".": rootN, "l": dirN("0755"), "l/victim": fileN("0644", "mine")},
	}})
}

func TestUnpackHardlinks(t *testing.T) {
	testutil.RequireRoot(t)
	runCases(t, []unpackCase{{
		name:    "to an earlier file",
		entries: []tarEntry{tFile("a/f", "data"), tLink("b/g", "a/f"), tLink("h", "/a/f")},
		want: map[string]node{
			".": rootN, "a": dirN("0755"), "b": dirN("0755"),
			"a/f": linked(fileN("0644", "data"), 3), "b/g": linked(fileN("0644", "data"), 3), "h": linked(fileN("0644", "data"), 3),
		},
		check: func(t *testing.T, root string) {
			a, _ := os.Stat(filepath.Join(root, "a/f"))
			b, _ := os.Stat(filepath.Join(root, "b/g"))
			if !os.SameFile(a, b) {
				t.Error("a/f and b/g are not the same inode")
			}
		},
	}, {
		name:    "to an earlier symlink, not followed",
		entries: []tarEntry{tSym("s", "../outside/victim"), tLink("h", "s")},
		want:    map[string]node{".": rootN, "s": symN("../outside/victim"), "h": symN("../outside/victim")},
	}, {
		name:    "to a later entry",
		entries: []tarEntry{tLink("h", "f"), tFile("f", "x")},
		wantErr: ErrUnsafePath,
		errText: `entry "h": hardlink to "f", not an earlier file of this layer`,
	}, {
		name:    "to a directory",
		entries: []tarEntry{tDir("d/"), tLink("h", "d")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "escaping",
		entries: []tarEntry{tLink("h", "../outside/victim")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "absolute outside",
		entries: []tarEntry{tLink("h", outsideMark+"/victim")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "to itself",
		entries: []tarEntry{tFile("f", "x"), tLink("f", "f")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "to a whiteout",
		entries: []tarEntry{tWhiteout(".", "w"), tLink("h", "w")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "to a file removed with its directory",
		entries: []tarEntry{tFile("d/f", "x"), tFile("d", "now a file"), tLink("h", "d/f")},
		wantErr: ErrUnsafePath,
	}, {
		name:    "original replaced afterwards",
		entries: []tarEntry{tFile("f", "old"), tLink("h", "f"), tFile("f", "new")},
		want:    map[string]node{".": rootN, "f": fileN("0644", "new"), "h": fileN("0644", "old")},
	}})
}

var capNetBind = "\x01\x00\x00\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" // cap_net_bind_service=ep

func xattrRecords(kv ...string) func(h *tar.Header) {
	return func(h *tar.Header) {
		h.PAXRecords = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			h.PAXRecords[xattrRecordPrefix+kv[i]] = kv[i+1]
		}
	}
}

func TestUnpackMetadata(t *testing.T) {
	testutil.RequireRoot(t)
	mode := func(m int64) func(*tar.Header) { return func(h *tar.Header) { h.Mode = m } }
	owner := func(u, g int) func(*tar.Header) { return func(h *tar.Header) { h.Uid, h.Gid = u, g } }
	runCases(t, []unpackCase{{
		name: "owner and mode",
		entries: []tarEntry{
			with(with(tDir("home/"), owner(1000, 100)), mode(0o700)),
			with(with(tFile("home/f", "x"), owner(1000, 100)), mode(0o600)),
			with(tSym("home/l", "f"), owner(1000, 100)),
		},
		want: map[string]node{
			".": rootN, "home": owned(dirN("0700"), 1000, 100),
			"home/f": owned(fileN("0600", "x"), 1000, 100), "home/l": owned(symN("f"), 1000, 100),
		},
	}, {
		name: "setuid, setgid and sticky survive chown",
		entries: []tarEntry{
			with(with(tFile("su", "x"), owner(1000, 1000)), mode(0o4755)),
			with(with(tFile("sg", "x"), owner(0, 50)), mode(0o2711)),
			with(tDir("tmp/"), mode(0o1777)),
			with(with(tDir("shared/"), owner(0, 50)), mode(0o2775)),
		},
		want: map[string]node{
			".": rootN, "su": owned(fileN("4755", "x"), 1000, 1000), "sg": owned(fileN("2711", "x"), 0, 50),
			"tmp": dirN("1777"), "shared": owned(dirN("2775"), 0, 50),
		},
	}, {
		name: "groups in setgid and group-owned directories",
		entries: []tarEntry{
			with(with(tDir("shared/"), owner(0, 50)), mode(0o2775)),
			tFile("shared/root", "x"),                      // would inherit group 50
			with(tFile("shared/staff", "x"), owner(0, 50)), // inherits it
			tFile("shared/implied/f", "x"),
			with(tSym("shared/l", "root"), owner(0, 50)),
			with(tDir("shared/sub/"), owner(0, 50)),
			tFile("shared/sub/f", "x"),
			with(tDir("grp/"), owner(0, 50)),
			tFile("grp/f", "x"),
			with(tFile("grp/g", "x"), owner(0, 50)),
		},
		want: map[string]node{
			".": rootN, "shared": owned(dirN("2775"), 0, 50),
			"shared/root": fileN("0644", "x"), "shared/staff": owned(fileN("0644", "x"), 0, 50),
			"shared/implied": owned(dirN("0755"), 0, 50), "shared/implied/f": fileN("0644", "x"),
			"shared/l": owned(symN("root"), 0, 50), "shared/sub": owned(dirN("0755"), 0, 50), "shared/sub/f": fileN("0644", "x"),
			"grp": owned(dirN("0755"), 0, 50), "grp/f": fileN("0644", "x"), "grp/g": owned(fileN("0644", "x"), 0, 50),
		},
	}, {
		name: "xattrs, capability after chown",
		entries: []tarEntry{
			with(with(tFile("ping", "x"), owner(1000, 1000)), xattrRecords("security.capability", capNetBind, "user.note", "hi")),
			with(tDir("d/"), xattrRecords("user.d", "1")),
		},
		want: map[string]node{
			".":    rootN,
			"ping": {Type: "file", Mode: "0644", UID: 1000, GID: 1000, Data: "x", Nlink: 1, Xattrs: map[string]string{"security.capability": capNetBind, "user.note": "hi"}},
			"d":    {Type: "dir", Mode: "0755", Xattrs: map[string]string{"user.d": "1"}},
		},
	}, {
		name:    "trusted xattr",
		entries: []tarEntry{with(tFile("f", "x"), xattrRecords("trusted.overlay.opaque", "y"))},
		wantErr: ErrUnsupported,
		errText: `entry "f": xattr "trusted.overlay.opaque" not allowed in a layer`,
	}, {
		name:    "trusted xattr on a hardlink",
		entries: []tarEntry{tFile("f", "x"), with(tLink("h", "f"), xattrRecords("trusted.x", "y"))},
		wantErr: ErrUnsupported,
	}, {
		name:    "unknown xattr namespace",
		entries: []tarEntry{with(tDir("d"), xattrRecords("foo.bar", "y"))},
		wantErr: ErrUnsupported,
	}, {
		name:    "fifo",
		entries: []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "p", Mode: 0o620, Uid: 7, Gid: 8, ModTime: epoch}}},
		want:    map[string]node{".": rootN, "p": {Type: "fifo", Mode: "0620", UID: 7, GID: 8}},
	}, {
		name:    "char device",
		entries: []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}}},
		wantErr: ErrUnsupported,
		errText: `entry "dev/null": device node 1:3 not supported`,
	}, {
		name:    "char device 0:0",
		entries: []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "w"}}},
		wantErr: ErrUnsupported,
	}, {
		name:    "block device",
		entries: []tarEntry{{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "sda", Devmajor: 8}}},
		wantErr: ErrUnsupported,
	}, {
		name:    "owner out of range",
		entries: []tarEntry{with(tFile("f", "x"), owner(1<<32, 0))},
		wantErr: ErrMalformed,
	}})
}

func TestUnpackTimes(t *testing.T) {
	testutil.RequireRoot(t)
	at := func(sec int64) func(*tar.Header) {
		return func(h *tar.Header) {
			h.ModTime, h.AccessTime, h.Format = time.Unix(sec, 5000), time.Unix(sec+1, 0), tar.FormatPAX
		}
	}
	entries := []tarEntry{
		with(tDir("a/"), at(1_000_000_000)),
		with(tDir("a/b/"), at(1_100_000_000)),
		with(tFile("a/b/f", "x"), at(1_200_000_000)),
		with(tSym("a/l", "nowhere"), at(1_300_000_000)),
		with(tFile("a/g", "x"), at(1_400_000_000)), // written after a/b was listed
	}
	root, out := newTarget(t)
	if _, err := Unpack(bytes.NewReader(buildTar(t, entries, out)), root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for _, p := range []string{"a", "a/b", "a/b/f", "a/l", "a/g"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, p), &st); err != nil {
			t.Fatal(err)
		}
		got[p] = [2]int64{st.Mtim.Nano(), st.Atim.Sec}
	}
	want := map[string][2]int64{
		"a":     {1_000_000_000e9 + 5000, 1_000_000_001},
		"a/b":   {1_100_000_000e9 + 5000, 1_100_000_001},
		"a/b/f": {1_200_000_000e9 + 5000, 1_200_000_001},
		"a/l":   {1_300_000_000e9 + 5000, 1_300_000_001},
		"a/g":   {1_400_000_000e9 + 5000, 1_400_000_001},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mtime ns, atime s (-want +got):\n%s", diff)
	}
}

func TestUnpackReplace(t *testing.T) {
	testutil.RequireRoot(t)
	runCases(t, []unpackCase{{
		name:    "file over file",
		entries: []tarEntry{tFile("f", "old"), with(tFile("f", "new"), func(h *tar.Header) { h.Mode = 0o600 })},
		want:    map[string]node{".": rootN, "f": fileN("0600", "new")},
	}, {
		name:    "directory over file",
		entries: []tarEntry{tFile("d", "old"), tDir("d/"), tFile("d/x", "x")},
		want:    map[string]node{".": rootN, "d": dirN("0755"), "d/x": fileN("0644", "x")},
	}, {
		name:    "file over a directory tree",
		entries: []tarEntry{tFile("d/e/f", "x"), tSym("d/s", "/"), tFile("d", "file"), tFile("d2/x", "y")},
		want:    map[string]node{".": rootN, "d": fileN("0644", "file"), "d2": dirN("0755"), "d2/x": fileN("0644", "y")},
	}, {
		name: "tree replaced, then made again",
		entries: []tarEntry{
			tFile("d/e/f", "x"), tSym("d", "/"), tDir("d/"), tFile("d/e/g", "y"),
		},
		want: map[string]node{".": rootN, "d": dirN("0755"), "d/e": dirN("0755"), "d/e/g": fileN("0644", "y")},
	}, {
		name: "directory over directory takes the new metadata",
		entries: []tarEntry{
			tDir("d/"), tFile("d/x", "x"),
			with(tDir("d/"), func(h *tar.Header) { h.Mode, h.Uid = 0o700, 5 }),
		},
		want: map[string]node{".": rootN, "d": owned(dirN("0700"), 5, 0), "d/x": fileN("0644", "x")},
	}, {
		name:    "symlink over file",
		entries: []tarEntry{tFile("f", "x"), tSym("f", "g")},
		want:    map[string]node{".": rootN, "f": symN("g")},
	}, {
		name:    "file of this layer over its whiteout",
		entries: []tarEntry{tWhiteout(".", "f"), tFile("f", "x")},
		want:    map[string]node{".": rootN, "f": fileN("0644", "x")},
	}, {
		name:    "whiteout after a file of this layer",
		entries: []tarEntry{tFile("f", "x"), tWhiteout(".", "f")},
		want:    map[string]node{".": rootN, "f": fileN("0644", "x")},
	}, {
		name:    "directory of this layer over its whiteout is opaque",
		entries: []tarEntry{tWhiteout(".", "d"), tDir("d/"), tFile("d/x", "x")},
		want:    map[string]node{".": rootN, "d": opaqueN(dirN("0755")), "d/x": fileN("0644", "x")},
	}, {
		name:    "whiteout after a directory of this layer makes it opaque",
		entries: []tarEntry{tDir("d/"), tFile("d/x", "x"), tWhiteout(".", "d")},
		want:    map[string]node{".": rootN, "d": opaqueN(dirN("0755")), "d/x": fileN("0644", "x")},
	}, {
		name:    "entry beneath a whiteout of this layer",
		entries: []tarEntry{tWhiteout(".", "d"), tFile("d/x", "x")},
		want:    map[string]node{".": rootN, "d": opaqueN(dirN("0755")), "d/x": fileN("0644", "x")},
	}})
}

func TestUnpackLimits(t *testing.T) {
	three := []tarEntry{tFile("a", "0123456789"), tFile("b", "0123456789"), tDir("c/")}
	runCases(t, []unpackCase{{
		name:    "bytes at the limit",
		entries: three,
		opts:    UnpackOptions{MaxBytes: 20},
	}, {
		name:    "bytes over the limit",
		entries: three,
		opts:    UnpackOptions{MaxBytes: 19},
		wantErr: ErrLimit,
		errText: `entry "b": layer content over 19 bytes`,
	}, {
		name:    "entries at the limit",
		entries: three,
		opts:    UnpackOptions{MaxEntries: 3},
	}, {
		name:    "entries over the limit",
		entries: three,
		opts:    UnpackOptions{MaxEntries: 2},
		wantErr: ErrLimit,
		errText: `entry "c/": layer has more than 2 entries`,
	}})
}

func TestUnpackMalformed(t *testing.T) {
	valid := buildTar(t, []tarEntry{tDir("d/"), tFile("d/f", strings.Repeat("x", 600))}, "")
	var mismatch bytes.Buffer
	tw := tar.NewWriter(&mismatch)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "f", Size: 5000, Mode: 0o644})
	tw.Write([]byte("only ten b")) // and the stream ends
	badSum := bytes.Clone(valid)
	badSum[148] ^= 1 // header checksum
	tests := []struct {
		name    string
		tar     []byte
		errText string
	}{
		{"truncated in a header", valid[:512+100], `read tar header after entry "d/": unexpected EOF`},
		{"truncated in content", valid[:1024+300], `entry "d/f": content ends after 300 of 600 bytes`},
		{"size mismatch", mismatch.Bytes(), `entry "f": content ends after 10 of 5000 bytes`},
		{"bad header checksum", badSum, `read tar header: archive/tar: invalid tar header`},
		{"zero block then a header", append(make([]byte, 512), valid...), `read tar header: archive/tar: invalid tar header`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, out := newTarget(t)
			_, err := Unpack(bytes.NewReader(tc.tar), root, UnpackOptions{})
			checkOutside(t, root, out)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Unpack error %v, want ErrMalformed", err)
			}
			if err.Error() != tc.errText {
				t.Errorf("Unpack error reads %q, want %q", err, tc.errText)
			}
		})
	}
}

// TestUnpackGzipChecksum checks that a decompressor's error at the end of
// its stream, after the tar's own end, reaches the caller.
func TestUnpackGzipChecksum(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(buildTar(t, []tarEntry{tFile("f", "content")}, ""))
	zw.Close()
	b := gz.Bytes()
	b[len(b)-8] ^= 0xff // CRC-32 in the trailer
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	root, out := newTarget(t)
	_, err = Unpack(zr, root, UnpackOptions{})
	checkOutside(t, root, out)
	if !errors.Is(err, gzip.ErrChecksum) {
		t.Fatalf("Unpack error %v, want %v", err, gzip.ErrChecksum)
	}
}

func TestUnpackSparse(t *testing.T) {
	const size = 8 << 20
	body := make([]byte, size)
	copy(body[3<<20:], "middle")
	copy(body[size-3:], "end")
	root, out := newTarget(t)
	if _, err := Unpack(bytes.NewReader(buildTar(t, []tarEntry{tFile("f", string(body))}, out)), root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "f")
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatal("content differs")
	}
	fi, _ := os.Stat(p)
	if used := fi.Sys().(*syscall.Stat_t).Blocks * 512; used >= size/2 {
		t.Errorf("file uses %d bytes on disk for %d of mostly zeros: no holes", used, size)
	}
}

// TestUnpackContent checks content that crosses the reader's batches at
// every kind of offset, with zero runs that are and are not whole chunks.
func TestUnpackContent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var entries []tarEntry
	want := map[string]string{}
	for i, size := range []int{0, 1, 4095, holeChunk, holeChunk + 1, 300_001, batchSize - 7, batchSize + 3, 3*holeChunk + 5} {
		for j := range 3 {
			b := make([]byte, size)
			for k := range b {
				if k/1000%3 != 0 { // a third of each 3000 bytes stays zero
					b[k] = byte(rng.IntN(255) + 1)
				}
			}
			if j == 2 && size > 2*holeChunk {
				clear(b[holeChunk : 2*holeChunk]) // a whole aligned chunk of zeros
			}
			name := fmt.Sprintf("f%d-%d", i, j)
			entries = append(entries, tFile(name, string(b)))
			want[name] = string(b)
		}
	}
	root, out := newTarget(t)
	if _, err := Unpack(bytes.NewReader(buildTar(t, entries, out)), root, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, []byte(w)) {
			t.Errorf("%s: %d bytes differ from the %d written", name, len(got), len(w))
		}
	}
}

// stopReader fails the test when it is read after stopped is set.
type stopReader struct {
	t       *testing.T
	r       io.Reader
	stopped atomic.Bool
}

func (s *stopReader) Read(p []byte) (int, error) {
	if s.stopped.Load() {
		s.t.Error("r read after Unpack returned")
	}
	return s.r.Read(p)
}

// TestUnpackStopsReading checks that Unpack, failing early, stops reading r
// before it returns.
func TestUnpackStopsReading(t *testing.T) {
	entries := []tarEntry{tFile("a", "x"), tFile("../x", "x")}
	for i := range 40 {
		entries = append(entries, tFile(fmt.Sprintf("big%d", i), strings.Repeat("y", 256<<10)))
	}
	root, out := newTarget(t)
	sr := &stopReader{t: t, r: iotest.OneByteReader(bytes.NewReader(buildTar(t, entries, out)))}
	_, err := Unpack(sr, root, UnpackOptions{})
	sr.stopped.Store(true)
	if !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("Unpack error %v, want ErrUnsafePath", err)
	}
	time.Sleep(50 * time.Millisecond) // a reader left running would read now
	checkOutside(t, root, out)
}

func TestUnpackStats(t *testing.T) {
	testutil.RequireRoot(t)
	entries := []tarEntry{
		tDir("./"), tDir("d/"), tFile("d/a", "12345"), tFile("d/b", "678"), tLink("d/c", "d/a"),
		tSym("s", "d"), tWhiteout("d", "gone"), tFile("d/.wh..wh..opq", ""), tFile(".wh..wh.plnk", ""),
	}
	root, out := newTarget(t)
	got, err := Unpack(bytes.NewReader(buildTar(t, entries, out)), root, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := UnpackStats{Entries: 9, Files: 2, Dirs: 2, Symlinks: 1, Hardlinks: 1, Whiteouts: 1, Opaques: 1, Bytes: 8}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestUnpackTarget(t *testing.T) {
	root, _ := newTarget(t)
	os.WriteFile(filepath.Join(root, "x"), nil, 0o644)
	if _, err := Unpack(bytes.NewReader(buildTar(t, nil, "")), root, UnpackOptions{}); err == nil {
		t.Error("Unpack into a non-empty directory succeeded")
	}
	if _, err := Unpack(bytes.NewReader(nil), filepath.Join(root, "missing"), UnpackOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Unpack into a missing directory: %v", err)
	}
}

// TestUnpackManyDirs crosses the limit of open directory descriptors, going
// back to directories whose descriptors were closed.
func TestUnpackManyDirs(t *testing.T) {
	testutil.RequireRoot(t)
	var entries []tarEntry
	want := map[string]node{".": rootN}
	for i := range 3 * maxOpenDirs {
		d := fmt.Sprintf("d%03d/e", i)
		entries = append(entries, tDir(d), tFile(d+"/f", "x"))
		want[filepath.Dir(d)] = dirN("0755")
		want[d] = dirN("0755")
		want[d+"/f"] = fileN("0644", "x")
	}
	for i := range 3 * maxOpenDirs { // back to each, oldest first
		d := fmt.Sprintf("d%03d/e", i)
		entries = append(entries, tFile(d+"/g", "y"))
		want[d+"/g"] = fileN("0644", "y")
	}
	runCases(t, []unpackCase{{name: "revisit", entries: entries, want: want}})
}
