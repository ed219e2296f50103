package buildctx

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// tarOf writes a tar of hdrs, each regular file's content its Linkname
// field when it has no link (a shorthand of this test).
func tarOf(t *testing.T, hdrs ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		h.ModTime = oldTime
		var body []byte
		if h.Typeflag == tar.TypeReg {
			body = []byte(h.Linkname)
			h.Linkname = ""
			h.Size = int64(len(body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var goodTar = []tar.Header{
	{Name: "./", Typeflag: tar.TypeDir, Mode: 0o700},
	{Name: "top/", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 1000, Gid: 1000},
	{Name: "top/f", Typeflag: tar.TypeReg, Mode: 0o640, Uid: 1000, Gid: 1000, Linkname: "content"},
	{Name: "top/l", Typeflag: tar.TypeSymlink, Linkname: "f"},
	{Name: "top/h", Typeflag: tar.TypeLink, Linkname: "top/f"},
	{Name: "/abs.txt", Typeflag: tar.TypeReg, Linkname: "abs"},
	{Name: "implied/dir/g", Typeflag: tar.TypeReg, Linkname: "g"},
	{Name: ".wh.gone", Typeflag: tar.TypeReg, Linkname: ""},
	{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o600},
}

var goodTarTree = []string{
	".wh.gone 0644 0:0 ",
	"abs.txt 0644 0:0 abs",
	"fifo 0600 0:0 p---------",
	"implied/ 0755 0:0 ",
	"implied/dir/ 0755 0:0 ",
	"implied/dir/g 0644 0:0 g",
	"top/ 0750 1000:1000 ",
	"top/f 0640 1000:1000 content",
	"top/h 0640 1000:1000 content",
	"top/l 0777 0:0 ->f",
}

// compressWith compresses data with the named compressor, in process or
// by its program.
func compressWith(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch name {
	case "tar":
		return data
	case "gzip":
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
	case "zstd":
		zw, _ := zstd.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
	default:
		cmd := exec.Command(testutil.RequireTool(t, name), "-c")
		cmd.Stdin = bytes.NewReader(data)
		cmd.Stdout = &buf
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// addFixture writes data into the context as name and ADDs it at dest.
func addFixture(t *testing.T, name string, data []byte, dest string, opts CopyOptions) (string, error) {
	t.Helper()
	root, c := newCopyFixture(t)
	if err := os.WriteFile(filepath.Join(c.Dir(), name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	srcs, err := c.Sources([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	opts.Add = true
	return root, c.CopyInto(root, srcs, dest, opts)
}

func TestAddArchive(t *testing.T) {
	for _, comp := range []string{"tar", "gzip", "bzip2", "xz", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			root, err := addFixture(t, "payload", compressWith(t, comp, tarOf(t, goodTar...)), "/unpacked", CopyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(goodTarTree, listTree(t, filepath.Join(root, "unpacked"))); diff != "" {
				t.Errorf("unpacked (-want +got):\n%s", diff)
			}
			fi, err := os.Stat(filepath.Join(root, "unpacked/top/f"))
			if err != nil || !fi.ModTime().Equal(oldTime.Truncate(1e9)) {
				t.Errorf("top/f: %v, %v; want mtime %v", fi.ModTime(), err, oldTime)
			}
		})
	}
}

func TestAddArchiveChown(t *testing.T) {
	root, err := addFixture(t, "p.tar", tarOf(t, goodTar[1:4]...), "/u/", CopyOptions{Chown: "app", Chmod: "0700"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"top/ 0750 1000:1001 ", "top/f 0640 1000:1001 content", "top/l 0777 1000:1001 ->f"}
	if diff := cmp.Diff(want, listTree(t, filepath.Join(root, "u"))); diff != "" {
		t.Errorf("unpacked with --chown (-want +got):\n%s", diff)
	}
}

// TestAddNotArchive checks that a file that is no archive, even one that
// is compressed, is copied as COPY copies it, and that COPY never unpacks.
func TestAddNotArchive(t *testing.T) {
	root, err := addFixture(t, "plain.gz", compressWith(t, "gzip", []byte("no tar inside")), "/out/", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(root, "out/plain.gz")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("plain.gz not copied as a file: %v", err)
	}
	root, c := newCopyFixture(t)
	if err := os.WriteFile(filepath.Join(c.Dir(), "p.tar"), tarOf(t, goodTar...), 0o644); err != nil {
		t.Fatal(err)
	}
	srcs, err := c.Sources([]string{"p.tar"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CopyInto(root, srcs, "/out/", CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(root, "out/p.tar")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("COPY unpacked p.tar: %v", err)
	}
}

// TestAddTraversal feeds archives that try to leave the directory they are
// unpacked into: each is refused or kept inside, and nothing lands beside
// the root or in the root outside the destination.
func TestAddTraversal(t *testing.T) {
	tests := []struct {
		name   string
		hdrs   []tar.Header
		errHas string
		inside []string // what must exist under the destination
	}{
		{"dotdot", []tar.Header{{Name: "../evil", Typeflag: tar.TypeReg, Linkname: "x"}}, `entry "../evil": path escapes the destination`, nil},
		{"dotdot inside", []tar.Header{{Name: "a/../../evil", Typeflag: tar.TypeReg, Linkname: "x"}}, "path escapes the destination", nil},
		{"absolute dotdot", []tar.Header{{Name: "/../evil", Typeflag: tar.TypeReg, Linkname: "x"}}, "path escapes the destination", nil},
		{"hard link out", []tar.Header{{Name: "h", Typeflag: tar.TypeLink, Linkname: "../../etc/passwd"}}, "outside the destination", nil},
		{"absolute symlink then a file beneath", []tar.Header{
			{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: "/"},
			{Name: "esc/evil", Typeflag: tar.TypeReg, Linkname: "x"},
		}, "", []string{"evil"}},
		{"climbing symlink then a file beneath", []tar.Header{
			{Name: "up", Typeflag: tar.TypeSymlink, Linkname: "../../../../.."},
			{Name: "up/evil", Typeflag: tar.TypeReg, Linkname: "x"},
		}, "", []string{"evil"}},
		{"symlink to /etc then a file beneath", []tar.Header{
			{Name: "etc/", Typeflag: tar.TypeDir},
			{Name: "e", Typeflag: tar.TypeSymlink, Linkname: "/etc"},
			{Name: "e/evil", Typeflag: tar.TypeReg, Linkname: "x"},
		}, "", []string{"etc/evil"}},
		// docker's chroot fails the same way: /etc is not in dest
		{"dangling symlink to /etc then a file beneath", []tar.Header{
			{Name: "e", Typeflag: tar.TypeSymlink, Linkname: "/etc"},
			{Name: "e/evil", Typeflag: tar.TypeReg, Linkname: "x"},
		}, `entry "e/evil": parent`, nil},
		{"hard link through a symlink", []tar.Header{
			{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: "/"},
			{Name: "h", Typeflag: tar.TypeLink, Linkname: "esc/etc/passwd"},
		}, "no such file or directory", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := addFixture(t, "p.tar", tarOf(t, tt.hdrs...), "/dest/", CopyOptions{})
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("error %v, want one saying %q", err, tt.errHas)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.inside {
				if _, err := os.Lstat(filepath.Join(root, "dest", p)); err != nil {
					t.Errorf("dest/%s: %v", p, err)
				}
			}
			for _, p := range []string{"evil", "etc/evil", "../evil", "../../evil"} {
				if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
					t.Errorf("root/%s was written", p)
				}
			}
			if b, _ := os.ReadFile(filepath.Join(root, "etc/passwd")); !bytes.Equal(b, []byte(rootFiles["etc/passwd"])) {
				t.Errorf("the image's /etc/passwd changed: %q", b)
			}
			if es, _ := os.ReadDir(filepath.Dir(root)); len(es) != 1 {
				t.Errorf("something landed beside the root: %v", es)
			}
		})
	}
}

// TestAddTruncated checks that a damaged archive is an error, not a
// silent partial copy.
func TestAddTruncated(t *testing.T) {
	data := compressWith(t, "gzip", tarOf(t, goodTar...))
	_, err := addFixture(t, "p.tgz", data[:len(data)-10], "/dest/", CopyOptions{})
	if err == nil || !strings.Contains(err.Error(), `unpack "p.tgz"`) {
		t.Errorf("truncated archive: %v", err)
	}
}

// TestAddOverExisting unpacks over what the image has: an entry replaces
// what is there, unless both are directories, which merge.
func TestAddOverExisting(t *testing.T) {
	root, err := addFixture(t, "p.tar", tarOf(t,
		tar.Header{Name: "a.txt", Typeflag: tar.TypeReg, Linkname: "now a file"},
		tar.Header{Name: "replaced/", Typeflag: tar.TypeDir, Mode: 0o711},
		tar.Header{Name: "sub/new", Typeflag: tar.TypeReg, Linkname: "new"},
	), "/out3/", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a.txt 0644 0:0 now a file",
		"keep 0644 0:0 keep",
		"replaced/ 0711 0:0 ",
		"sub/ 0755 0:0 ",
		"sub/new 0644 0:0 new",
	}
	if diff := cmp.Diff(want, listTree(t, filepath.Join(root, "out3"))); diff != "" {
		t.Errorf("out3 (-want +got):\n%s", diff)
	}
}

// TestAddArchiveRootEntry checks that an archive's "./" entry gives dest
// its owner and mode, as docker and buildah apply it.
func TestAddArchiveRootEntry(t *testing.T) {
	testutil.RequireRoot(t)
	hdrs := []tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 1000, Gid: 1000, ModTime: time.Unix(1700000000, 0)},
		{Name: "./f", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 1000, Gid: 1000, ModTime: time.Unix(1700000000, 0)},
	}
	root, err := addFixture(t, "p.tar", tarOf(t, hdrs...), "/pkg/", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "pkg"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 1000 || st.Gid != 1000 || st.Mode&0o7777 != 0o750 {
		t.Errorf("dest /pkg: %d:%d %o, want the root entry's 1000:1000 750", st.Uid, st.Gid, st.Mode&0o7777)
	}
}
