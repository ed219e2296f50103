package cli

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/images"
	"minidocker/internal/testutil"
)

// mdOK runs minidocker with the store root and returns its output; the
// test stops when it fails.
func mdOK(t *testing.T, root string, args ...string) string {
	t.Helper()
	code, stdout, stderr := cli(t, root, args...)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// commitRoot is a temporary store holding base, for a test that starts
// containers; they must be gone, with their mounts and cgroups, after it.
func commitRoot(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	checkCgroups(t)
	root := filepath.Join(t.TempDir(), "store")
	mdOK(t, root, "image", "create-base")
	return root
}

// removeAtEnd removes the named containers when the test ends.
func removeAtEnd(t *testing.T, root string, names ...string) {
	t.Cleanup(func() { cli(t, root, append([]string{"rm", "-f"}, names...)...) })
}

// everyChange makes every kind of change an upper directory can hold, over
// an image that holds /d/a, /d/sub/b and /d2/f besides base's files, in a
// container with a volume on /vol: a mount point the engine made, which
// the layer leaves out.
const everyChange = `set -e
echo new > /new; chown 1000:2000 /new
echo more >> /etc/passwd
rm /etc/nsswitch.conf
rm -rf /d2
rm -rf /d; mkdir /d; echo x > /d/x
echo hl > /hl1; ln /hl1 /hl2; chmod 4711 /hl1
chmod 600 /etc/group; ln /etc/group /etc/group.link
ln -s ../etc/passwd /sym; ln -s /nowhere /dangling
mkdir -p /n1/n2/n3; echo deep > /n1/n2/n3/f; chmod 1777 /n1/n2
echo sp > '/a file é'
busybox mkfifo /pipe
echo v > /vol/in-volume
`

// TestCommitRoundTrip commits a container that made every kind of change,
// saves the image, and checks that umoci unpacks it to the tree the
// container saw, and that a new container of it sees the same tree; then
// the layer tar itself, the same image ID for the same changes, and what
// --dry-run lists.
func TestCommitRoundTrip(t *testing.T) {
	root := commitRoot(t)
	testutil.RequireTool(t, "skopeo")
	testutil.RequireTool(t, "umoci")
	removeAtEnd(t, root, "mkd", "changer")
	mdOK(t, root, "run", "--name", "mkd", "base", "sh", "-c", "mkdir -p /d/sub /d2 && echo a > /d/a && echo b > /d/sub/b && echo f > /d2/f")
	mdOK(t, root, "commit", "mkd", "withd")
	vol := t.TempDir()
	out := mdOK(t, root, "run", "--name", "changer", "-v", vol+":/vol", "withd", "sh", "-c", everyChange+viewScript)
	before, mounts := parseView(t, out)
	if b, err := os.ReadFile(filepath.Join(vol, "in-volume")); string(b) != "v\n" {
		t.Fatalf("the volume holds %q (%v): not mounted on /vol", b, err)
	}

	t.Run("dry-run", func(t *testing.T) { checkDryRun(t, root, "changer") })

	id := strings.TrimSpace(mdOK(t, root, "commit", "-m", "every change", "-a", "Ann <ann@example.org>",
		"-c", "ENV GREETING=hi", "-c", `CMD ["sh"]`, "changer", "changed:1"))
	checkCommitConfig(t, root, "changed:1", id)

	after, mounts2 := parseView(t, mdOK(t, root, "run", "--rm", "changed:1", "sh", "-c", viewScript))
	mounts = append(mounts, mounts2...)
	want := before.settle(mounts)
	checkChanges(t, want)
	sameView(t, "the container that made the changes", want, "a new container of the image", after.settle(mounts))

	dir := t.TempDir()
	archive := filepath.Join(dir, "changed.tar")
	mdOK(t, root, "save", "-o", archive, "changed:1")
	layout := filepath.Join(dir, "oci")
	hostRun(t, "skopeo", "copy", "oci-archive:"+archive, "oci:"+layout+":changed")
	bundle := filepath.Join(dir, "bundle")
	hostRun(t, "umoci", "unpack", "--image", layout+":changed", bundle)
	sameView(t, "the container that made the changes", want, "umoci's unpacking", hostView(t, filepath.Join(bundle, "rootfs")).settle(mounts))

	t.Run("layer tar", func(t *testing.T) { checkLayerTar(t, newestLayer(t, layout)) })
	t.Run("same changes, same image", func(t *testing.T) { checkDeterminism(t, root, "changer") })
}

// hostRun runs a host tool, failing the test with its output when it fails.
func hostRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// checkChanges checks that the view holds everyChange's changes: the
// comparisons that follow would pass as well for a container that made none.
func checkChanges(t *testing.T, v view) {
	t.Helper()
	for _, gone := range []string{"/etc/nsswitch.conf", "/d2", "/d/a", "/d/sub"} {
		if _, ok := v[gone]; ok {
			t.Errorf("%s is still there", gone)
		}
	}
	for p, want := range map[string]string{
		"/new":        "f 644 1000:2000",
		"/d/x":        "f 644 0:0",
		"/hl1":        "f 4711 0:0 /hl1|/hl2",
		"/etc/group":  "f 600 0:0 /etc/group|/etc/group.link",
		"/sym":        "l 777 0:0 -> ../etc/passwd",
		"/dangling":   "l 777 0:0 -> /nowhere",
		"/n1/n2":      "d 1777 0:0",
		"/n1/n2/n3/f": "f 644 0:0",
		"/a file é":   "f 644 0:0",
		"/pipe":       "p 644 0:0",
		"/etc/passwd": "f 644 0:0",
		"/etc/hosts":  "f 644 0:0", // base's, not a mount point
	} {
		m, ok := v[p]
		got := ""
		if ok {
			got = m.Type + " " + strconv.FormatUint(uint64(m.Mode), 8) + " " + strconv.Itoa(m.UID) + ":" + strconv.Itoa(m.GID)
			if m.Group != "" {
				got += " " + m.Group
			}
			if m.Link != "" {
				got += " -> " + m.Link
			}
		}
		if got != want {
			t.Errorf("%s: %q, want %q", p, got, want)
		}
	}
	for p, content := range map[string]string{"/new": "new\n", "/d/x": "x\n", "/a file é": "sp\n"} {
		if sum := sha256.Sum256([]byte(content)); v[p].Sum != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: content hash %q, want that of %q", p, v[p].Sum, content)
		}
	}
}

// checkCommitConfig checks the new image's config: the changes, message
// and author given, and none of the environment the engine adds to a
// container's process (HOSTNAME names the container committed, not one
// run from the image).
func checkCommitConfig(t *testing.T, root, name, id string) {
	t.Helper()
	img := storeImage(t, root, name)
	if string(img.ID) != id {
		t.Errorf("commit printed %s, the image is %s", id, img.ID)
	}
	c := img.Config
	if !slices.Contains(c.Config.Env, "GREETING=hi") || !slices.Equal(c.Config.Cmd, []string{"sh"}) {
		t.Errorf("config %+v: want GREETING=hi in Env and Cmd [sh]", c.Config)
	}
	for _, kv := range c.Config.Env {
		if strings.HasPrefix(kv, "HOSTNAME=") {
			t.Errorf("Env holds the committed container's %s", kv)
		}
	}
	h := c.History[len(c.History)-1]
	if c.Author != "Ann <ann@example.org>" || h.Author != c.Author || h.Comment != "every change" || h.EmptyLayer {
		t.Errorf("author %q, last history %+v", c.Author, h)
	}
}

func storeImage(t *testing.T, root, name string) images.Image {
	t.Helper()
	s, err := images.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// newestLayer opens the top layer of the one image in the OCI layout dir,
// decompressed.
func newestLayer(t *testing.T, layout string) *tar.Reader {
	t.Helper()
	blob := func(d string) string {
		return filepath.Join(layout, "blobs", strings.Replace(d, ":", "/", 1))
	}
	var idx ocispec.Index
	var m ocispec.Manifest
	readJSON(t, filepath.Join(layout, "index.json"), &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("%s: %d manifests, want 1", layout, len(idx.Manifests))
	}
	readJSON(t, blob(string(idx.Manifests[0].Digest)), &m)
	top := m.Layers[len(m.Layers)-1]
	if top.MediaType != ocispec.MediaTypeImageLayerGzip {
		t.Errorf("layer media type %s, want gzip's", top.MediaType)
	}
	f, err := os.Open(blob(string(top.Digest)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return tar.NewReader(zr)
}

func readJSON(t *testing.T, p string, v any) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// checkLayerTar checks the layer everyChange makes, entry by entry: the
// whiteouts in their .wh. form, no trusted.* xattr, hard links as links,
// owners by number only, the engine's mount points left out, and the
// entries in tar order.
func checkLayerTar(t *testing.T, tr *tar.Reader) {
	got := map[string]*tar.Header{}
	var prev []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[hdr.Name] = hdr
		if hdr.Uname != "" || hdr.Gname != "" {
			t.Errorf("%s: owner names %q:%q, want numbers only", hdr.Name, hdr.Uname, hdr.Gname)
		}
		for k := range hdr.PAXRecords {
			if strings.Contains(k, "xattr.trusted.") {
				t.Errorf("%s: carries %s", hdr.Name, k)
			}
		}
		key := tarOrderKey(hdr.Name)
		if prev != nil && slices.Compare(prev, key) >= 0 {
			t.Errorf("%s comes after %q: not in tar order", hdr.Name, strings.Join(prev, "/"))
		}
		prev = key
	}
	for name, want := range map[string]string{
		"etc/.wh.nsswitch.conf": "0 0 0:0",
		".wh.d2":                "0 0 0:0",
		"d/":                    "5 755 0:0",
		"d/.wh..wh..opq":        "0 0 0:0",
		"d/x":                   "0 644 0:0",
		"new":                   "0 644 1000:2000",
		"hl1":                   "0 4711 0:0",
		"hl2":                   "1 4711 0:0 hl1",
		"etc/group":             "0 600 0:0",
		"etc/group.link":        "1 600 0:0 etc/group",
		"sym":                   "2 777 0:0 ../etc/passwd",
		"pipe":                  "6 644 0:0",
		"a file é":              "0 644 0:0",
		"n1/n2/":                "5 1777 0:0",
		"n1/n2/n3/f":            "0 644 0:0",
	} {
		h, ok := got[name]
		if !ok {
			t.Errorf("no entry %q", name)
			continue
		}
		s := string(h.Typeflag) + " " + strconv.FormatInt(h.Mode, 8) + " " + strconv.Itoa(h.Uid) + ":" + strconv.Itoa(h.Gid)
		if h.Linkname != "" {
			s += " " + h.Linkname
		}
		if s != want {
			t.Errorf("%s: %q, want %q", name, s, want)
		}
	}
	for name := range got {
		for _, left := range []string{"d/a", "d/sub/", "proc/", "sys/", "dev/", "etc/hostname", "etc/resolv.conf", "etc/hosts", "etc/nsswitch.conf", "vol/"} {
			if name == left || strings.HasPrefix(name, left) && strings.HasSuffix(left, "/") {
				t.Errorf("layer holds %s", name)
			}
		}
	}
}

// tarOrderKey is where a layer entry sorts: by path components, a
// whiteout at the name it deletes, an opaque marker just after its
// directory.
func tarOrderKey(name string) []string {
	parts := strings.Split(strings.TrimSuffix(name, "/"), "/")
	last := &parts[len(parts)-1]
	if *last == ".wh..wh..opq" {
		*last = ""
	} else {
		*last = strings.TrimPrefix(*last, ".wh.")
	}
	return parts
}

// checkDeterminism commits the container twice with the same timestamp,
// then once with zstd: the same image and layer each time, the zstd one
// stored as such.
func checkDeterminism(t *testing.T, root, ctr string) {
	const ts = "1700000000"
	a := mdOK(t, root, "commit", "--timestamp", ts, ctr, "det:a")
	b := mdOK(t, root, "commit", "--timestamp", ts, ctr, "det:b")
	z := mdOK(t, root, "commit", "--timestamp", ts, "--compression", "zstd", ctr, "det:z")
	if a != b || a != z {
		t.Errorf("image IDs %s, %s and with zstd %s: want one", a, b, z)
	}
	ia, ib, iz := storeImage(t, root, "det:a"), storeImage(t, root, "det:b"), storeImage(t, root, "det:z")
	if ia.ManifestDigest != ib.ManifestDigest {
		t.Errorf("manifests %s and %s: the gzip layer differs", ia.ManifestDigest, ib.ManifestDigest)
	}
	la, lz := ia.Manifest.Layers, iz.Manifest.Layers
	if lz[len(lz)-1].MediaType != ocispec.MediaTypeImageLayerZstd || la[len(la)-1].MediaType != ocispec.MediaTypeImageLayerGzip {
		t.Errorf("layer media types %s and %s, want gzip's and zstd's", la[len(la)-1].MediaType, lz[len(lz)-1].MediaType)
	}
	if !slices.Equal(ia.DiffIDs(), iz.DiffIDs()) {
		t.Errorf("diffIDs %v with gzip, %v with zstd", ia.DiffIDs(), iz.DiffIDs())
	}
	if c := ia.Config.Created; c == nil || c.Unix() != 1700000000 {
		t.Errorf("created %v, want the timestamp", c)
	}
}

// checkDryRun checks what commit --dry-run lists for everyChange's
// container, and that it makes nothing.
func checkDryRun(t *testing.T, root, ctr string) {
	before := storeState(t, root)
	out := mdOK(t, root, "commit", "--dry-run", ctr, "never")
	for _, want := range [][]string{
		{"whiteout", "/etc/nsswitch.conf", "etc/.wh.nsswitch.conf", "c 0:0"},
		{"whiteout", "/d2", ".wh.d2", "c 0:0"},
		{"opaque", "/d", "d/.wh..wh..opq", "trusted.overlay.opaque=y"},
		{"hardlink", "/hl2", "hl2 -> hl1"},
		{"file", "/a file é", "a file é", "the same", "-rw-r--r--", "0:0", "3B"},
	} {
		if !slices.ContainsFunc(strings.Split(out, "\n"), func(l string) bool {
			c := splitColumns(l)
			return len(c) >= len(want) && slices.Equal(c[:len(want)], want)
		}) {
			t.Errorf("no line %q in\n%s", want, out)
		}
	}
	if after := storeState(t, root); after != before {
		t.Errorf("dry-run changed the store:\n%s\nwas\n%s", after, before)
	}
}

// splitColumns splits a table line at runs of two or more spaces, leaving
// out the empty trailing columns.
func splitColumns(l string) []string {
	var out []string
	for _, c := range strings.Split(l, "  ") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// storeState is what a failed or dry commit must leave as it was: the
// images and their names, the blobs, the layers; and it checks that the
// store's tmp/ holds nothing, before opening the store clears it.
func storeState(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	for _, dir := range []string{"tmp", "oci/blobs/sha256", "layers"} {
		ents, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		if dir == "tmp" && len(ents) > 0 {
			t.Errorf("%s/tmp holds %d entries, first %s", root, len(ents), ents[0].Name())
		}
		b.WriteString(dir + ": " + strconv.Itoa(len(ents)) + "\n")
	}
	s, err := images.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		b.WriteString(string(img.ManifestDigest) + " " + strings.Join(img.Names, ",") + "\n")
	}
	return b.String()
}
