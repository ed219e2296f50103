package cli

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/engine"
	"minidocker/images"
	"minidocker/internal/testutil"
)

// How the commit tests look at a file tree. The same tree is read three
// ways: from inside a container (its merged view, by find and busybox's
// sha256sum, the tools of base), and on the host from umoci's unpacking of
// the saved image. Each becomes a view: path → what a layer can carry.

// fileMeta is what a layer says of a file: type, permission bits (setuid,
// setgid, sticky included), numeric owners, a regular file's size and
// content hash, a symlink's target, and the names it shares its inode with.
type fileMeta struct {
	Type     string // find's %y: f, d, l, p, c, b, s
	Mode     uint32
	UID, GID int
	Size     int64
	Sum      string
	Link     string
	Group    string // every name of a file with several, sorted, joined by "|"
	ino      uint64
	nlink    int
}

type view map[string]fileMeta

// viewScript prints a container's view of its whole tree: one record per
// entry, three NUL-terminated fields each, then after an END record the
// hashes of the regular files and the container's mount table. -xdev keeps
// find out of /proc, /sys and /dev; the mount table says what else to leave.
const viewScript = `find / -xdev -printf 'F %y %m %U %G %s %i %n\0%p\0%l\0'
printf 'END\0\0\0'
find / -xdev -type f -exec busybox sha256sum {} +
printf '\0'
cat /proc/self/mountinfo`

// parseView reads viewScript's output into a view and the mount points of
// the container.
func parseView(t *testing.T, out string) (view, []string) {
	t.Helper()
	v := view{}
	f := strings.Split(out, "\x00")
	i := 0
	for ; i+2 < len(f) && f[i] != "END"; i += 3 {
		w := strings.Fields(f[i])
		if len(w) != 8 || w[0] != "F" {
			t.Fatalf("view record %q: want F and 7 fields", f[i])
		}
		mode, _ := strconv.ParseUint(w[2], 8, 32)
		m := fileMeta{Type: w[1], Mode: uint32(mode), UID: atoi(t, w[3]), GID: atoi(t, w[4]), Link: f[i+2]}
		m.Size = int64(atoi(t, w[5]))
		m.ino = uint64(atoi(t, w[6]))
		m.nlink = atoi(t, w[7])
		v[f[i+1]] = m
	}
	if len(f) != i+5 {
		t.Fatalf("view output: want records, END, hashes and mounts; got %d fields after the records", len(f)-i)
	}
	for _, line := range strings.Split(strings.TrimSpace(f[i+3]), "\n") {
		sum, p, ok := strings.Cut(line, "  ")
		if m, in := v[p]; ok && in {
			m.Sum = sum
			v[p] = m
		}
	}
	var mounts []string
	for _, line := range strings.Split(strings.TrimSpace(f[i+4]), "\n") {
		if w := strings.Fields(line); len(w) > 4 && w[4] != "/" {
			mounts = append(mounts, unescapeMount(w[4]))
		}
	}
	return v, mounts
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("view field %q: %v", s, err)
	}
	return n
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hostView reads the tree under dir on the host as a view.
func hostView(t *testing.T, dir string) view {
	t.Helper()
	v := view{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		m := fileMeta{Mode: st.Mode & 0o7777, UID: int(st.Uid), GID: int(st.Gid), Size: st.Size, ino: st.Ino, nlink: int(st.Nlink)}
		m.Type = map[uint32]string{syscall.S_IFREG: "f", syscall.S_IFDIR: "d", syscall.S_IFLNK: "l", syscall.S_IFIFO: "p",
			syscall.S_IFCHR: "c", syscall.S_IFBLK: "b", syscall.S_IFSOCK: "s"}[st.Mode&syscall.S_IFMT]
		switch m.Type {
		case "l":
			m.Link, err = os.Readlink(p)
		case "f":
			m.Sum, err = fileSum(p)
		}
		rel, _ := filepath.Rel(dir, p)
		v[filepath.Join("/", rel)] = m
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fileSum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), err
}

// settle leaves out of v the root (a layer has no entry for it) and the
// mount points with what is beneath them, drops what is not the layers'
// to say (a directory's size), and groups hard links by inode.
func (v view) settle(mounts []string) view {
	out := view{}
	byIno := map[uint64][]string{}
	for p, m := range v {
		if p == "/" || slices.ContainsFunc(mounts, func(mp string) bool { return p == mp || strings.HasPrefix(p, mp+"/") }) {
			continue
		}
		if m.Type != "f" {
			m.Size = 0
		} else if m.nlink > 1 {
			byIno[m.ino] = append(byIno[m.ino], p)
		}
		out[p] = m
	}
	for _, names := range byIno {
		slices.Sort(names)
		for _, p := range names {
			m := out[p]
			m.Group = strings.Join(names, "|")
			out[p] = m
		}
	}
	for p, m := range out {
		m.ino, m.nlink = 0, 0
		out[p] = m
	}
	return out
}

// sameView reports how got differs from want, named a and b.
func sameView(t *testing.T, a string, want view, b string, got view) {
	t.Helper()
	n := 0
	paths := map[string]bool{}
	for p := range want {
		paths[p] = true
	}
	for p := range got {
		paths[p] = true
	}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		w, inW := want[p]
		g, inG := got[p]
		switch {
		case !inG:
			t.Errorf("%s: %q is in %s but missing: %+v", b, p, a, w)
		case !inW:
			t.Errorf("%s: %q is not in %s: %+v", b, p, a, g)
		case w != g:
			t.Errorf("%s: %q is %+v, in %s %+v", b, p, g, a, w)
		default:
			continue
		}
		if n++; n == 20 {
			t.Fatalf("%s: more differences left out", b)
		}
	}
}

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
// an image that holds /d/a, /d/sub/b and /d2/f besides base's files.
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
	out := mdOK(t, root, "run", "--name", "changer", "withd", "sh", "-c", everyChange+viewScript)
	before, mounts := parseView(t, out)

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
		for _, left := range []string{"d/a", "d/sub/", "proc/", "sys/", "dev/", "etc/hostname", "etc/resolv.conf", "etc/hosts", "etc/nsswitch.conf"} {
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
// store's tmp/ holds nothing.
func storeState(t *testing.T, root string) string {
	t.Helper()
	s, err := images.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, img := range imgs {
		b.WriteString(string(img.ManifestDigest) + " " + strings.Join(img.Names, ",") + "\n")
	}
	for _, dir := range []string{"oci/blobs/sha256", "layers", "tmp"} {
		ents, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		if dir == "tmp" && len(ents) > 0 {
			t.Errorf("%s/tmp holds %d entries, first %s", root, len(ents), ents[0].Name())
		}
		b.WriteString(dir + ": " + strconv.Itoa(len(ents)) + "\n")
	}
	return b.String()
}

// waitExec waits until the shell command cmd succeeds in the container.
func waitExec(t *testing.T, root, ctr, cmd string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _, _ := cli(t, root, "exec", ctr, "sh", "-c", cmd); code == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s never succeeded", ctr, cmd)
		}
	}
}

// frozen reports whether the kernel has the cgroup frozen, by whichever
// freezer it has: v1's freezer.state or cgroup v2's cgroup.events.
func frozen(cg engine.Cgroup) bool {
	for _, d := range append(slices.Clone(cg.Dirs), cg.BPF) {
		if b, err := os.ReadFile(filepath.Join(d, "freezer.state")); err == nil && strings.TrimSpace(string(b)) == "FROZEN" {
			return true
		}
		if b, err := os.ReadFile(filepath.Join(d, "cgroup.events")); err == nil && strings.Contains(string(b), "frozen 1") {
			return true
		}
	}
	return false
}

// watchFrozen watches the cgroup until the returned function is called,
// which reports whether it was ever seen frozen meanwhile.
func watchFrozen(cg engine.Cgroup) func() bool {
	done := make(chan struct{})
	saw := make(chan bool)
	go func() {
		seen := false
		for {
			select {
			case <-done:
				saw <- seen
				return
			default:
			}
			seen = seen || frozen(cg)
			time.Sleep(time.Millisecond)
		}
	}()
	return func() bool { close(done); return <-saw }
}

// TestCommitRunning commits a running container that wrote 10,000 files
// and goes on appending to one: frozen while its upper directory is read
// (docker's --pause=true), never with --pause=false, left as it was
// (running, or paused when it was) after; the layer holds every file.
func TestCommitRunning(t *testing.T) {
	root := commitRoot(t)
	removeAtEnd(t, root, "busy")
	// The loop forks nothing: a shell that vforks a sleep can be caught
	// by the cgroup v1 freezer with its child frozen before exec and
	// itself waiting for it, never frozen, and the pause fails (see the
	// report of this test's branch). bash's read -t on a fifo nobody
	// writes waits without a child.
	mdOK(t, root, "run", "-d", "--name", "busy", "base", "bash", "-c", `mkdir /many; cd /many
i=0; while [ $i -lt 10000 ]; do i=$((i+1)); echo $i > f$i; done
busybox mkfifo /dev/shm/wait; exec 9<>/dev/shm/wait
while :; do echo x >> /log; read -t 0.01 -u 9; done`)
	waitExec(t, root, "busy", "test -s /log")
	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.Get("busy")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		flags  []string
		paused bool // before the commit, and so after it
		frozen bool // seen frozen during the commit
	}{
		{"pause", nil, false, true},
		{"pause=false", []string{"--pause=false"}, false, false},
		{"paused before", nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.paused {
				mdOK(t, root, "pause", "busy")
				defer cli(t, root, "unpause", "busy")
			}
			stop := watchFrozen(st.Cgroup)
			mdOK(t, root, append(append([]string{"commit"}, tc.flags...), "busy", "many:1")...)
			if saw := stop(); saw != tc.frozen {
				t.Errorf("frozen during the commit: %v, want %v", saw, tc.frozen)
			}
			if frozen(st.Cgroup) != tc.paused {
				t.Fatalf("frozen after the commit: %v, want %v", !tc.paused, tc.paused)
			}
			var out []struct {
				Status string `json:"status"`
				Paused bool   `json:"paused"`
			}
			if err := json.Unmarshal([]byte(mdOK(t, root, "inspect", "busy")), &out); err != nil || len(out) != 1 ||
				out[0].Status != "running" || out[0].Paused != tc.paused {
				t.Errorf("inspect after the commit: %+v (%v), want running, paused %v", out, err, tc.paused)
			}
			if !tc.paused {
				checkGrows(t, filepath.Join(st.Rootfs.Upper, "log"))
			}
			checkManyFiles(t, root, "many:1")
		})
	}
}

// checkGrows checks that the file grows: the container writing it runs.
func checkGrows(t *testing.T, p string) {
	t.Helper()
	size := func() int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	was := size()
	for deadline := time.Now().Add(5 * time.Second); size() == was; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s stays at %d bytes: the container does not run", p, was)
		}
	}
}

// checkManyFiles counts the files of /many in the image's top layer, as
// stored: 10,000, each holding its number.
func checkManyFiles(t *testing.T, root, name string) {
	t.Helper()
	s, err := images.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.OpenBlob(img.Manifest.Layers[len(img.Manifest.Layers)-1].Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	n := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		num, ok := strings.CutPrefix(hdr.Name, "many/f")
		if !ok || hdr.Typeflag != tar.TypeReg {
			continue
		}
		n++
		if b, err := io.ReadAll(tr); err != nil || string(b) != num+"\n" {
			t.Fatalf("%s holds %q (%v), want %q", hdr.Name, b, err, num+"\n")
		}
	}
	if n != 10000 {
		t.Errorf("the layer holds %d files in /many, want 10000", n)
	}
}

// TestCommitErrors checks the commits that fail: each says why in one
// line, with docker's exit code, and leaves the store as it was and the
// container running, not paused. The container holds a file named like a
// whiteout, which no layer can hold: that commit fails halfway through
// writing the layer.
func TestCommitErrors(t *testing.T) {
	root := commitRoot(t)
	removeAtEnd(t, root, "errc")
	mdOK(t, root, "run", "-d", "--name", "errc", "base", "sh", "-c", "echo x > /kept; touch /.wh.x; exec sleep 60")
	waitExec(t, root, "errc", "test -e /.wh.x")
	before := storeState(t, root)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"nosuch"}, 1, "container nosuch: no such container"},
		{[]string{"errc", "Bad Name"}, 1, `image name "Bad Name"`},
		{[]string{"errc", "ok:1"}, 1, `entry "/.wh.x": name spelled like a whiteout`},
		{[]string{"-c", "RUN true", "errc", "ok:1"}, 125, `--change "RUN true": RUN cannot be a change`},
		{[]string{"-c", "FROB x", "errc", "ok:1"}, 125, "unknown instruction: FROB"},
		{[]string{"-c", "ENV", "errc", "ok:1"}, 125, "ENV requires at least one argument"},
		{[]string{"--compression", "lz4", "errc", "ok:1"}, 125, `--compression "lz4": want gzip or zstd`},
		{[]string{"--timestamp", "-1", "errc", "ok:1"}, 125, "--timestamp must not be negative"},
		{nil, 125, "want CONTAINER and an optional NAME[:TAG]"},
		{[]string{"errc", "ok:1", "extra"}, 125, "want CONTAINER and an optional NAME[:TAG]"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := cli(t, root, append([]string{"commit"}, tc.args...)...)
			if code != tc.code || stdout != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, stdout, tc.code)
			}
			if !strings.HasPrefix(stderr, "minidocker: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q: want one line naming %q", stderr, tc.msg)
			}
			if after := storeState(t, root); after != before {
				t.Errorf("the store changed:\n%s\nwas\n%s", after, before)
			}
			var out []struct {
				Status string `json:"status"`
				Paused bool   `json:"paused"`
			}
			if err := json.Unmarshal([]byte(mdOK(t, root, "inspect", "errc")), &out); err != nil || len(out) != 1 ||
				out[0].Status != "running" || out[0].Paused {
				t.Errorf("inspect after: %+v (%v), want running, not paused", out, err)
			}
		})
	}
}
