package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/testutil"
)

// entry is one member of a layer tar built in a test.
type entry struct {
	name, body, link string
	typ              byte
	mode             int64
	major, minor     int64
}

func file(name, body string) entry {
	return entry{name: name, body: body, typ: tar.TypeReg, mode: 0o644}
}
func dir(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) entry {
	return entry{name: name, link: target, typ: tar.TypeSymlink, mode: 0o777}
}

// whiteout names the OCI whiteout of path; built here so no literal .wh. file is committed.
func whiteout(path string) entry {
	return file(filepath.Join(filepath.Dir(path), ".wh."+filepath.Base(path)), "")
}

func opaque(dirPath string) entry { return file(filepath.Join(dirPath, ".wh..wh..opq"), "") }

func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Size: int64(len(e.body)), Devmajor: e.major, Devminor: e.minor}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layerOf(t testing.TB, createdBy string, entries ...entry) NewLayer {
	b := tarOf(t, entries...)
	return NewLayer{CreatedBy: createdBy, WriteTar: func(w io.Writer) error { _, err := w.Write(b); return err }}
}

func newStore(t testing.TB) *Store {
	t.Helper()
	testutil.RequireRoot(t) // whiteouts and the opaque xattr need root
	s, err := Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sample is a three-layer image with a whiteout and an opaque directory.
func sample(t testing.TB, s *Store, name string) Image {
	t.Helper()
	img, err := s.Create(name, []NewLayer{
		layerOf(t, "base files", dir("etc/"), file("etc/hosts", "127.0.0.1 localhost\n"), dir("usr/"), dir("usr/share/"),
			file("usr/share/a", "a"), file("usr/share/b", "b"), file("gone", "bye"), symlink("hosts", "/etc/hosts")),
		layerOf(t, "delete and replace", whiteout("gone"), dir("usr/share/"), opaque("usr/share"), file("usr/share/c", "c")),
		layerOf(t, "change hosts", file("etc/hosts", "10.0.0.1 changed\n")),
	}, ocispec.ImageConfig{Cmd: []string{"/bin/sh"}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// describe walks dir and returns one line per node: path, type, mode, size, link, rdev, opaque.
func describe(t testing.TB, root string) []string {
	t.Helper()
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		line := rel + " " + info.Mode().String()
		switch {
		case info.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			line += " " + strings.TrimSpace(string(b))
		case info.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			line += " -> " + l
		case info.Mode()&fs.ModeCharDevice != 0:
			line += " rdev=" + string(rune('0'+st.Rdev))
		case info.IsDir():
			buf := make([]byte, 8)
			if n, err := syscall.Getxattr(p, "trusted.overlay.opaque", buf); err == nil {
				line += " opaque=" + string(buf[:n])
			}
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestCreateListGet(t *testing.T) {
	s := newStore(t)
	img := sample(t, s, "sample")
	if got, want := img.Names, []string{"sample:latest"}; !cmp.Equal(got, want) {
		t.Errorf("names (-want +got):\n%s", cmp.Diff(want, got))
	}
	if len(img.DiffIDs()) != 3 || len(img.Manifest.Layers) != 3 {
		t.Fatalf("want 3 layers, got %d diffIDs and %d blobs", len(img.DiffIDs()), len(img.Manifest.Layers))
	}
	for _, ref := range []string{"sample", "sample:latest", img.ID.String(), img.ID.Encoded()[:5], "docker.io/library/sample"} {
		got, err := s.Get(ref)
		if err != nil || got.ID != img.ID {
			t.Errorf("Get(%q) = %v, %v; want %s", ref, got.ID, err, img.ID)
		}
	}
	for _, ref := range []string{"nosuch", "sample:v2", "ffffffffff", "Bad Name"} {
		if _, err := s.Get(ref); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", ref, err)
		}
	}
	dirs, err := s.LayerDirs(img)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		". drwxr-xr-x",
		"gone Dc--------- rdev=0",
		"usr drwxr-xr-x",
		"usr/share drwxr-xr-x opaque=y",
		"usr/share/c -rw-r--r-- c",
	}
	if diff := cmp.Diff(want, describe(t, dirs[1])); diff != "" {
		t.Errorf("layer 2 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{". drwxr-xr-x", "etc drwxr-xr-x", "etc/hosts -rw-r--r-- 10.0.0.1 changed"}, describe(t, dirs[2])); diff != "" {
		t.Errorf("layer 3 (-want +got):\n%s", diff)
	}
}

func TestTagAndRemove(t *testing.T) {
	s := newStore(t)
	img := sample(t, s, "sample")
	if _, err := s.Tag("sample", "other:v1"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get("other:v1")
	if got.ID != img.ID || !cmp.Equal(got.Names, []string{"other:v1", "sample:latest"}) {
		t.Fatalf("after tag: %s %v", got.ID, got.Names)
	}
	if _, _, err := s.Remove(img.ShortID(), false); err == nil {
		t.Error("removing an image with two names by ID must need force")
	}
	untagged, deleted, err := s.Remove("sample", false)
	if err != nil || !cmp.Equal(untagged, []string{"sample:latest"}) || deleted != "" {
		t.Fatalf("Remove(sample) = %v, %q, %v", untagged, deleted, err)
	}
	if err := s.Hold("c1", img); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Remove("other:v1", false); !errors.Is(err, ErrInUse) {
		t.Fatalf("Remove of a held image: %v, want ErrInUse", err)
	}
	if _, deleted, err := s.Remove("other:v1", true); err != nil || deleted != img.ID {
		t.Fatalf("forced Remove: %q, %v", deleted, err)
	}
	if _, err := s.Get("other:v1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("image still there: %v", err)
	}
	// The hold keeps the layers through GC; releasing it lets them go.
	rep, err := s.GC()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 0 || len(rep.Blobs) != 5 {
		t.Errorf("GC with a hold removed %d layers, %d blobs; want 0 layers, 5 blobs (manifest, config, 3 layer blobs)", len(rep.Layers), len(rep.Blobs))
	}
	for _, d := range img.DiffIDs() {
		if !s.HasLayer(d) {
			t.Errorf("held layer %s was collected", d)
		}
	}
	if err := s.Release("c1"); err != nil {
		t.Fatal(err)
	}
	if rep, err = s.GC(); err != nil || len(rep.Layers) != 3 || rep.Bytes == 0 {
		t.Fatalf("GC after release: %+v, %v", rep, err)
	}
	left, _ := os.ReadDir(s.path("l"))
	if len(left) != 0 {
		t.Errorf("short links left: %v", left)
	}
}

// TestDiskUsageSharing: a layer two images use is in Shared and in Saved; a
// container's hold makes nothing shared; a layer only a hold keeps is Held.
// Every figure is a content size and adds up with the images' sizes.
func TestDiskUsageSharing(t *testing.T) {
	s := newStore(t)
	shared := layerOf(t, "shared", file("big", strings.Repeat("x", 10000)))
	one, err := s.Create("one", []NewLayer{shared, layerOf(t, "one", file("one", "1"))}, ocispec.ImageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	two, err := s.Create("two", []NewLayer{shared, layerOf(t, "two", file("two", "22"))}, ocispec.ImageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.Create("gone", []NewLayer{layerOf(t, "gone", file("gone", "333"))}, ocispec.ImageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for holder, img := range map[string]Image{"c1": one, "c2": gone} {
		if err := s.Hold(holder, img); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Remove("gone", true); err != nil {
		t.Fatal(err)
	}
	u, err := s.DiskUsage()
	if err != nil {
		t.Fatal(err)
	}
	type figures struct {
		Images, Layers                       int
		Logical, Unique, Shared, Held, Saved int64
	}
	got := figures{len(u.Images), len(u.Layers), u.Logical, u.Unique, u.Shared, u.Held, u.Saved()}
	want := figures{Images: 2, Layers: 4, Logical: 10001 + 10002, Unique: 10000 + 1 + 2, Shared: 10000, Held: 3, Saved: 10000}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("disk usage (-want +got):\n%s", diff)
	}
	var sizes int64
	for _, img := range []Image{one, two} {
		n, err := s.Size(img)
		if err != nil {
			t.Fatal(err)
		}
		sizes += n
	}
	if u.Logical != sizes {
		t.Errorf("Logical %d, but the images' sizes add up to %d", u.Logical, sizes)
	}
	if got, want := u.Savings(), 10000.0/20003; got != want {
		t.Errorf("Savings %.4f, want %.4f", got, want)
	}
	// The hold still names the removed image and its layers (the disk
	// meter of its containers counts them); no hold is ErrNotFound.
	id, layers, err := s.Held("c2")
	if err != nil || id != gone.ID || !slices.Equal(layers, gone.DiffIDs()) {
		t.Errorf("Held(c2) = %s %v, %v; want %s %v", id, layers, err, gone.ID, gone.DiffIDs())
	}
	if _, _, err := s.Held("c3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Held(c3): %v, want ErrNotFound", err)
	}
}

func TestParseName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"base", "base:latest"},
		{"base:v1", "base:v1"},
		{"docker.io/library/busybox", "busybox:latest"},
		{"localhost:5000/team/app:1.2", "localhost:5000/team/app:1.2"},
		{"Base", ""},
		{"a b", ""},
		{"x:", ""},
		{"x@sha256:00", ""},
		{"\x1b[31mred", ""},
		{"", ""},
	} {
		got, err := ParseName(tc.in)
		if tc.want == "" {
			if err == nil || !errors.Is(err, ErrInvalidName) {
				t.Errorf("ParseName(%q) = %q, %v; want ErrInvalidName", tc.in, got, err)
			}
			if strings.ContainsRune(err.Error(), 0x1b) {
				t.Errorf("error carries a raw escape: %q", err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestOpenRefusesLooseStore checks that a store directory others can write
// to is refused, not silently made private.
func TestOpenRefusesLooseStore(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		dir := filepath.Join(t.TempDir(), "store")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir)
		if !errors.Is(err, ErrUnsafeStore) || !strings.Contains(err.Error(), dir) {
			t.Errorf("Open of a %#o store: %v, want ErrUnsafeStore naming it", mode, err)
		}
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != mode {
			t.Errorf("the store's mode changed to %#o", fi.Mode().Perm())
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("Open wrote into a refused store: %v", ents)
		}
	}
	if _, err := Open(filepath.Join(t.TempDir(), "new")); err != nil {
		t.Errorf("Open of a new store: %v", err)
	}
}
