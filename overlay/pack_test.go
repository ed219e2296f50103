package overlay

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// newUpper builds an upper directory (and lower layers, bottom first) from
// fixtures under a new temporary directory.
func newUpper(t *testing.T, upper []layerOp, lower ...[]layerOp) (string, []string) {
	t.Helper()
	base := t.TempDir()
	var lowers []string
	if len(lower) > 0 {
		lowers, _ = buildStack(t, filepath.Join(base), lower)
	}
	u := filepath.Join(base, "upper")
	if err := os.Mkdir(u, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := buildLayer(u, upper); err != nil {
		t.Fatal(err)
	}
	return u, lowers
}

// packBytes packs upper and returns the tar.
func packBytes(t *testing.T, upper string, opts PackOptions) ([]byte, PackStats) {
	t.Helper()
	var buf bytes.Buffer
	stats, err := Pack(upper, &buf, opts)
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	return buf.Bytes(), stats
}

// tarHeaders reads every header of a tar.
func tarHeaders(t *testing.T, b []byte) []*tar.Header {
	t.Helper()
	var out []*tar.Header
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		out = append(out, h)
	}
}

func tarNames(hs []*tar.Header) []string {
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	return names
}

// packFixture is an upper directory with one of everything Pack turns
// around: a whiteout, an opaque directory, a hard link, setuid, a symlink.
var packFixture = []layerOp{
	file("etc/a", "alpha"),
	whiteout("etc/gone"),
	opaque("d"),
	file("d/new", "fresh"),
	symlink("lnk", "etc/a"),
	file("h1", "linked"),
	hardlink("h2", "h1"),
	file("bin/tool", "tool").withMode(0o755 | os.ModeSetuid),
	{kind: opFifo, path: "pipe"},
}

func TestPackList(t *testing.T) {
	requireOverlayRoot(t)
	upper, _ := newUpper(t, packFixture)
	got, err := PackList(upper, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := func(p, name string) PackEntry {
		return PackEntry{Path: p, TarName: name, Kind: PackDir, Mode: fs.ModeDir | 0o755}
	}
	reg := func(p, name string, size int64, mode fs.FileMode) PackEntry {
		return PackEntry{Path: p, TarName: name, Kind: PackFile, Size: size, Mode: mode}
	}
	want := []PackEntry{
		dir("/bin", "bin/"),
		reg("/bin/tool", "bin/tool", 4, fs.ModeSetuid|0o755),
		dir("/d", "d/"),
		{Path: "/d", TarName: "d/.wh..wh..opq", Kind: PackOpaque, Overlay: "trusted.overlay.opaque=y"},
		reg("/d/new", "d/new", 5, 0o644),
		dir("/etc", "etc/"),
		reg("/etc/a", "etc/a", 5, 0o644),
		{Path: "/etc/gone", TarName: "etc/.wh.gone", Kind: PackWhiteout, Overlay: "c 0:0"},
		reg("/h1", "h1", 6, 0o644),
		{Path: "/h2", TarName: "h2", Kind: PackHardlink, Linkname: "h1", Mode: 0o644},
		{Path: "/lnk", TarName: "lnk", Kind: PackSymlink, Linkname: "etc/a", Mode: fs.ModeSymlink | 0o777},
		{Path: "/pipe", TarName: "pipe", Kind: PackFifo, Mode: fs.ModeNamedPipe | 0o644},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PackList (-want +got):\n%s", diff)
	}
	// What PackList lists is what Pack writes.
	b, _ := packBytes(t, upper, PackOptions{})
	var listed []string
	for _, e := range got {
		listed = append(listed, e.TarName)
	}
	if diff := cmp.Diff(listed, tarNames(tarHeaders(t, b))); diff != "" {
		t.Errorf("Pack's entries differ from PackList's (-list +tar):\n%s", diff)
	}
}

func TestPackDeterministic(t *testing.T) {
	requireOverlayRoot(t)
	upper, _ := newUpper(t, packFixture)
	first, _ := packBytes(t, upper, PackOptions{})
	second, _ := packBytes(t, upper, PackOptions{})
	if !bytes.Equal(first, second) {
		t.Fatal("two packs of the same upper directory differ")
	}
	for _, h := range tarHeaders(t, first) {
		if h.Uname != "" || h.Gname != "" || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: names %q:%q, atime %v, ctime %v; want numeric owners and no atime or ctime",
				h.Name, h.Uname, h.Gname, h.AccessTime, h.ChangeTime)
		}
		if h.Format != tar.FormatUSTAR {
			t.Errorf("%s: format %v, want USTAR where nothing needs PAX", h.Name, h.Format)
		}
	}

	// A sub-second change of a time gives the same tar: times are in
	// whole seconds.
	ts := []unix.Timespec{{Sec: fixtureTime, Nsec: 5e8}, {Sec: fixtureTime, Nsec: 5e8}}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(upper, "etc/a"), ts, 0); err != nil {
		t.Fatal(err)
	}
	if again, _ := packBytes(t, upper, PackOptions{}); !bytes.Equal(first, again) {
		t.Error("a sub-second mtime changed the tar")
	}

	// ModTime clamps every time and stamps the whiteout and opaque entries.
	clamp := time.Unix(fixtureTime-100, 0)
	b, _ := packBytes(t, upper, PackOptions{ModTime: &clamp})
	for _, h := range tarHeaders(t, b) {
		if !h.ModTime.Equal(clamp) {
			t.Errorf("%s: mtime %v with ModTime %v, want it clamped", h.Name, h.ModTime, clamp)
		}
	}
	late := time.Unix(fixtureTime+100, 7)
	b, _ = packBytes(t, upper, PackOptions{ModTime: &late})
	for _, h := range tarHeaders(t, b) {
		base := filepath.Base(h.Name)
		switch {
		case strings.HasPrefix(base, whiteoutPrefix) && !h.ModTime.Equal(time.Unix(fixtureTime+100, 0)):
			t.Errorf("%s: mtime %v, want ModTime in whole seconds", h.Name, h.ModTime)
		case h.Name == "etc/a" && !h.ModTime.Equal(time.Unix(fixtureTime, 0)):
			t.Errorf("%s: mtime %v, want its own, older than ModTime", h.Name, h.ModTime)
		}
	}
}

func TestPackXattrs(t *testing.T) {
	requireOverlayRoot(t)
	upper, _ := newUpper(t, []layerOp{file("f", "x"), dir("d"), symlink("s", "f")})
	capV2 := string([]byte{0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) // cap_net_bind_service=p
	set := []struct{ path, name, value string }{
		{"f", "user.note", "hello"},
		{"f", "security.capability", capV2},
		{"f", "trusted.overlay.origin", "\x00\xfb"},
		{"f", "trusted.other", "t"},
		{"d", "trusted.overlay.impure", "y"},
		{"d", "trusted.overlay.opaque", "x"}, // holds xattr whiteouts: not opaque
		{"d", "user.d", "dir"},
		{"s", "trusted.overlay.origin", "o"},
	}
	for _, s := range set {
		if err := unix.Lsetxattr(filepath.Join(upper, s.path), s.name, []byte(s.value), 0); err != nil {
			t.Fatalf("set %s on %s: %v", s.name, s.path, err)
		}
	}
	b, _ := packBytes(t, upper, PackOptions{})
	got := map[string]map[string]string{}
	for _, h := range tarHeaders(t, b) {
		got[h.Name] = h.PAXRecords
	}
	want := map[string]map[string]string{
		"d/": {"SCHILY.xattr.user.d": "dir"},
		"f":  {"SCHILY.xattr.user.note": "hello", "SCHILY.xattr.security.capability": capV2},
		"s":  nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PAX records (-want +got):\n%s", diff)
	}
}

func TestKeptXattrMatchesUnpack(t *testing.T) {
	for _, name := range []string{
		"user.x", "security.capability", "security.selinux", "system.posix_acl_access",
		"system.posix_acl_default", "system.other", "trusted.overlay.opaque", "trusted.x", "usr.x",
	} {
		accepted := checkHeader(&tar.Header{PAXRecords: map[string]string{xattrRecordPrefix + name: ""}}) == nil
		if keptXattr(name) != accepted {
			t.Errorf("keptXattr(%q) = %v, but Unpack accepts it: %v", name, keptXattr(name), accepted)
		}
	}
}

// TestPackWhiteoutsShareInode: the kernel links every whiteout of an upper
// directory to one inode; they stay whiteouts, not hard links.
func TestPackWhiteoutsShareInode(t *testing.T) {
	requireOverlayRoot(t)
	upper, _ := newUpper(t, []layerOp{whiteout("a/x"), hardlink("a/y", "a/x"), hardlink("b", "a/x"), file("f", "1"), hardlink("g", "f")})
	b, stats := packBytes(t, upper, PackOptions{})
	type entry struct {
		Name     string
		Type     byte
		Linkname string
	}
	var got []entry
	for _, h := range tarHeaders(t, b) {
		got = append(got, entry{h.Name, h.Typeflag, h.Linkname})
	}
	want := []entry{
		{"a/", tar.TypeDir, ""},
		{"a/.wh.x", tar.TypeReg, ""},
		{"a/.wh.y", tar.TypeReg, ""},
		{".wh.b", tar.TypeReg, ""},
		{"f", tar.TypeReg, ""},
		{"g", tar.TypeLink, "f"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if stats.Whiteouts != 3 || stats.Hardlinks != 1 {
		t.Errorf("stats %+v, want 3 whiteouts and 1 hard link", stats)
	}
}

func TestPackMountPoints(t *testing.T) {
	requireOverlayRoot(t)
	mounts := []string{"/data", "/mnt/a/b", "/proc", "/etc/hostname", "/etc/hosts", "/srv/vol", "/run/x/"}
	lower := []layerOp{dir("proc"), dir("etc"), file("etc/hosts", "127.0.0.1 localhost\n"), dir("run")}
	tests := []struct {
		name  string
		upper []layerOp
		want  []string
	}{
		{"engine-made dir", []layerOp{dir("data")}, nil},
		{"engine-made parents", []layerOp{dir("mnt/a/b")}, nil},
		{"dir the image has", []layerOp{dir("proc")}, []string{"proc/"}},
		{"file bound over, in a dir the image has", []layerOp{file("etc/hostname", ""), file("etc/hosts", "")}, []string{"etc/"}},
		{"mount dir holding a user file", []layerOp{dir("srv/vol"), file("srv/vol/mine", "x")}, []string{"srv/", "srv/vol/", "srv/vol/mine"}},
		{"parent holding a user file", []layerOp{dir("mnt/a/b"), file("mnt/a/mine", "x")}, []string{"mnt/", "mnt/a/", "mnt/a/mine"}},
		{"parent holding a whiteout", []layerOp{dir("mnt/a/b"), whiteout("mnt/gone")}, []string{"mnt/", "mnt/.wh.gone"}},
		{"trailing slash, parent the image has", []layerOp{dir("run/x")}, []string{"run/"}},
		{"not a mount point", []layerOp{dir("data2")}, []string{"data2/"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			upper, lowers := newUpper(t, tc.upper, lower)
			b, _ := packBytes(t, upper, PackOptions{Lower: lowers, MountPoints: mounts})
			if diff := cmp.Diff(tc.want, tarNames(tarHeaders(t, b))); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPackRefuses(t *testing.T) {
	requireOverlayRoot(t)
	tests := []struct {
		name    string
		upper   []layerOp
		set     func(upper string) error
		wantErr error
		text    string
	}{
		{name: "redirect", upper: []layerOp{dir("a"), redirect("a/moved", "/old")},
			wantErr: ErrUnsupported, text: `entry "/a/moved": directory has trusted.overlay.redirect`},
		{name: "metacopy", upper: []layerOp{file("f", "")},
			set:     func(u string) error { return unix.Setxattr(filepath.Join(u, "f"), xattrMetacopy, nil, 0) },
			wantErr: ErrUnsupported, text: `entry "/f": file has trusted.overlay.metacopy`},
		{name: "whiteout name", upper: []layerOp{file("d/.wh.x", "")},
			wantErr: ErrUnsupported, text: `entry "/d/.wh.x": name spelled like a whiteout`},
		{name: "whiteout-named dir", upper: []layerOp{file(".wh..wh.plnk/f", "")},
			wantErr: ErrUnsupported, text: `entry "/.wh..wh.plnk": name spelled like a whiteout`},
		{name: "control character", upper: []layerOp{file("a\nb", "")},
			wantErr: ErrUnsafePath, text: `entry "/a\nb": control character in name`},
		{name: "whiteout name too long", upper: []layerOp{whiteout(strings.Repeat("n", 253))},
			wantErr: ErrUnsafePath, text: "name longer than 255 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			upper, _ := newUpper(t, tc.upper)
			if tc.set != nil {
				if err := tc.set(upper); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Pack(upper, io.Discard, PackOptions{})
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Pack error %v, want %v containing %q", err, tc.wantErr, tc.text)
			}
			if _, err := PackList(upper, PackOptions{}); !errors.Is(err, tc.wantErr) {
				t.Errorf("PackList error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestPackSpecials: device nodes and fifos are written, sockets skipped.
func TestPackSpecials(t *testing.T) {
	requireOverlayRoot(t)
	upper, _ := newUpper(t, []layerOp{dir("dev")})
	for _, n := range []struct {
		name string
		mode uint32
		dev  uint64
	}{{"dev/null", unix.S_IFCHR | 0o666, unix.Mkdev(1, 3)}, {"dev/loop9", unix.S_IFBLK | 0o660, unix.Mkdev(7, 9)}} {
		p := filepath.Join(upper, n.name)
		if err := unix.Mknod(p, n.mode, int(n.dev)); err != nil {
			t.Fatal(err)
		}
		if err := unix.Chmod(p, n.mode&0o7777); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(upper, "dev/fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(upper, "dev/sock"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	b, stats := packBytes(t, upper, PackOptions{})
	type entry struct {
		Name       string
		Type       byte
		Mode       int64
		Major, Min int64
	}
	var got []entry
	for _, h := range tarHeaders(t, b) {
		got = append(got, entry{h.Name, h.Typeflag, h.Mode, h.Devmajor, h.Devminor})
	}
	want := []entry{
		{"dev/", tar.TypeDir, 0o755, 0, 0},
		{"dev/fifo", tar.TypeFifo, 0o600, 0, 0},
		{"dev/loop9", tar.TypeBlock, 0o660, 7, 9},
		{"dev/null", tar.TypeChar, 0o666, 1, 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if stats.Sockets != 1 || stats.Specials != 3 || stats.Entries != 4 {
		t.Errorf("stats %+v, want 1 socket, 3 specials, 4 entries", stats)
	}
}

// TestPackRootOpaque: an opaque upper root becomes .wh..wh..opq at the top.
func TestPackRootOpaque(t *testing.T) {
	requireOverlayRoot(t)
	upper, _ := newUpper(t, []layerOp{file("f", "x")})
	if err := unix.Setxattr(upper, opaqueXattr, []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	b, stats := packBytes(t, upper, PackOptions{})
	if diff := cmp.Diff([]string{".wh..wh..opq", "f"}, tarNames(tarHeaders(t, b))); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if stats.Opaques != 1 {
		t.Errorf("stats %+v, want 1 opaque", stats)
	}
}

// TestPackLongNames: names past USTAR's fields, and owners past its
// numbers, go out as PAX records and come back through Unpack.
func TestPackLongNames(t *testing.T) {
	requireOverlayRoot(t)
	long := strings.Repeat("d", 120) + "/" + strings.Repeat("e", 120) + "/" + strings.Repeat("f", 200)
	upper, _ := newUpper(t, []layerOp{
		file(long, "deep"),
		{kind: opFile, path: "big-owner", data: "x", mode: 0o640, uid: 3_000_000},
		symlink("far", "/"+strings.Repeat("t", 300)),
		hardlink("again", long),
	})
	b, _ := packBytes(t, upper, PackOptions{})
	var pax []string
	for _, h := range tarHeaders(t, b) {
		if h.Format == tar.FormatPAX {
			pax = append(pax, h.Name[:min(len(h.Name), 12)])
		}
	}
	// "again" comes first in tar order: it is the file, the long name its link.
	want := []string{"big-owner", "dddddddddddd", "dddddddddddd", "dddddddddddd", "far"}
	if diff := cmp.Diff(want, pax); diff != "" {
		t.Errorf("PAX entries (-want +got):\n%s", diff)
	}
	dst := filepath.Join(t.TempDir(), "unpacked")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Unpack(bytes.NewReader(b), dst, UnpackOptions{}); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	if diff := cmp.Diff(layerForm(t, upper), layerForm(t, dst)); diff != "" {
		t.Errorf("unpacked (-upper +unpacked):\n%s", diff)
	}
}

// TestPackDoesNotFollow: a symlink to a directory outside the upper, or to
// its parent, is written as a symlink and nothing is read through it.
func TestPackDoesNotFollow(t *testing.T) {
	requireOverlayRoot(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	upper, _ := newUpper(t, []layerOp{symlink("out", outside), symlink("up", ".."), symlink("d/self", ".")})
	got, err := PackList(upper, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.TarName+" "+e.Kind.String())
	}
	want := []string{"d/ dir", "d/self symlink", "out symlink", "up symlink"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}
