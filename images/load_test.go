package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/testutil"
)

// merged mounts the layers read-only with the kernel's overlayfs and returns
// the mount point; the mount goes when the test ends.
func merged(t *testing.T, lowers []string) string {
	t.Helper()
	mnt := t.TempDir()
	rev := make([]string, len(lowers))
	for i, l := range lowers {
		rev[len(lowers)-1-i] = l
	}
	if len(rev) == 1 {
		// overlayfs wants two lowers when there is no upper; a second empty one is harmless.
		rev = append(rev, t.TempDir())
	}
	if err := syscall.Mount("overlay", mnt, "overlay", syscall.MS_RDONLY, "lowerdir="+strings.Join(rev, ":")); err != nil {
		t.Fatalf("mount overlay: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func layerTrees(t *testing.T, s *Store, img Image) [][]string {
	t.Helper()
	dirs, err := s.LayerDirs(img)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, d := range dirs {
		out = append(out, describe(t, d))
	}
	return out
}

func TestSaveLoadRoundTrip(t *testing.T) {
	testutil.CheckMounts(t)
	for _, f := range []Format{OCIArchive, DockerArchive} {
		t.Run(string(f), func(t *testing.T) {
			src := newStore(t)
			img := sample(t, src, "sample:v1")
			archive := filepath.Join(t.TempDir(), "sample.tar")
			if err := src.SaveFile(archive, []string{"sample:v1"}, f); err != nil {
				t.Fatal(err)
			}
			dst := newStore(t)
			got, err := dst.Load(archive)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !cmp.Equal(got[0].Names, []string{"sample:v1"}) || !cmp.Equal(got[0].DiffIDs(), img.DiffIDs()) {
				t.Fatalf("loaded %+v", got)
			}
			if f == OCIArchive && got[0].ID != img.ID {
				t.Errorf("OCI round trip changed the image ID: %s → %s", img.ID, got[0].ID)
			}
			if diff := cmp.Diff(layerTrees(t, src, img), layerTrees(t, dst, got[0])); diff != "" {
				t.Errorf("layers differ after the round trip (-saved +loaded):\n%s", diff)
			}
			// Loading again reads no layer twice and changes nothing.
			again, err := dst.Load(archive)
			if err != nil || again[0].ID != got[0].ID {
				t.Fatalf("second load: %v", err)
			}
		})
	}
}

// TestSkopeoUmociReadOurs checks that archives and the store itself are
// accepted by skopeo and umoci, and that umoci unpacks the same tree as the
// kernel's overlay of our layers.
func TestSkopeoUmociReadOurs(t *testing.T) {
	testutil.CheckMounts(t)
	testutil.RequireTool(t, "skopeo")
	testutil.RequireTool(t, "umoci")
	s := newStore(t)
	img := sample(t, s, "sample")
	archive := filepath.Join(t.TempDir(), "oci.tar")
	if err := s.SaveFile(archive, []string{"sample"}, OCIArchive); err != nil {
		t.Fatal(err)
	}
	var info struct{ Layers []string }
	if err := json.Unmarshal([]byte(run(t, "skopeo", "inspect", "oci-archive:"+archive)), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Layers) != 3 {
		t.Errorf("skopeo sees %d layers, want 3", len(info.Layers))
	}
	run(t, "skopeo", "inspect", "oci:"+s.LayoutDir()+":sample:latest")
	docker := filepath.Join(t.TempDir(), "docker.tar")
	if err := s.SaveFile(docker, []string{"sample"}, DockerArchive); err != nil {
		t.Fatal(err)
	}
	run(t, "skopeo", "inspect", "docker-archive:"+docker)

	layout := t.TempDir()
	run(t, "tar", "-xf", archive, "-C", layout)
	bundle := filepath.Join(t.TempDir(), "bundle")
	run(t, "umoci", "unpack", "--image", layout+":latest", bundle)
	dirs, _ := s.LayerDirs(img)
	want := describe(t, merged(t, dirs))
	if diff := cmp.Diff(want, describe(t, filepath.Join(bundle, "rootfs"))); diff != "" {
		t.Errorf("umoci's rootfs differs from the kernel's overlay of our layers (-overlay +umoci):\n%s", diff)
	}
}

// busyboxRootfs lays out a tiny root filesystem around the host's busybox.
func busyboxRootfs(t *testing.T) string {
	t.Helper()
	bb := testutil.RequireTool(t, "busybox")
	root := t.TempDir()
	for _, d := range []string{"bin", "etc", "tmp", "usr/share/doc"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "bin/busybox"), b, 0o755)
	for _, applet := range []string{"sh", "ls", "cat"} {
		os.Symlink("busybox", filepath.Join(root, "bin", applet))
	}
	os.WriteFile(filepath.Join(root, "etc/motd"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(root, "usr/share/doc/README"), []byte("doc\n"), 0o644)
	return root
}

// TestLoadUmociAndSkopeoImages makes a two-layer image with umoci (the second
// layer deletes a file and makes a directory opaque), copies it with skopeo
// into other formats, loads each, and compares our layers, merged by the
// kernel, with umoci's own unpack.
func TestLoadUmociAndSkopeoImages(t *testing.T) {
	testutil.CheckMounts(t)
	testutil.RequireTool(t, "skopeo")
	testutil.RequireTool(t, "umoci")
	rootfs := busyboxRootfs(t)
	layout := filepath.Join(t.TempDir(), "layout")
	run(t, "umoci", "init", "--layout", layout)
	run(t, "umoci", "new", "--image", layout+":bb")
	run(t, "umoci", "insert", "--image", layout+":bb", rootfs, "/")
	run(t, "umoci", "insert", "--image", layout+":bb", "--whiteout", "/etc/motd")
	newDoc := t.TempDir()
	os.WriteFile(filepath.Join(newDoc, "NEW"), []byte("new\n"), 0o644)
	run(t, "umoci", "insert", "--image", layout+":bb", "--opaque", newDoc, "/usr/share/doc")
	bundle := filepath.Join(t.TempDir(), "bundle")
	run(t, "umoci", "unpack", "--image", layout+":bb", bundle)
	want := describe(t, filepath.Join(bundle, "rootfs"))

	tmp := t.TempDir()
	sources := map[string]string{"oci-dir": layout}
	sources["oci-archive"] = filepath.Join(tmp, "oci.tar")
	run(t, "skopeo", "copy", "oci:"+layout+":bb", "oci-archive:"+sources["oci-archive"]+":bb:latest")
	sources["docker-archive"] = filepath.Join(tmp, "docker.tar")
	run(t, "skopeo", "copy", "oci:"+layout+":bb", "docker-archive:"+sources["docker-archive"]+":bb:latest")
	sources["oci-zstd"] = filepath.Join(tmp, "zstd")
	run(t, "skopeo", "copy", "--dest-compress-format", "zstd", "oci:"+layout+":bb", "oci:"+sources["oci-zstd"]+":bb")
	sources["docker-archive.gz"] = filepath.Join(tmp, "docker.tar.gz")
	run(t, "sh", "-c", "gzip -c "+sources["docker-archive"]+" > "+sources["docker-archive.gz"])
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			imgs, err := s.Load(src)
			if err != nil {
				t.Fatal(err)
			}
			if len(imgs) != 1 || len(imgs[0].DiffIDs()) != 3 {
				t.Fatalf("loaded %d images; want 1 of 3 layers", len(imgs))
			}
			if mt := imgs[0].Manifest.Layers[0].MediaType; name == "oci-zstd" && mt != ocispec.MediaTypeImageLayerZstd {
				t.Errorf("layer media type %s, want zstd", mt)
			}
			dirs, _ := s.LayerDirs(imgs[0])
			if diff := cmp.Diff(want, describe(t, merged(t, dirs))); diff != "" {
				t.Errorf("overlay of our layers differs from umoci's unpack (-umoci +ours):\n%s", diff)
			}
		})
	}
}

// ociDir writes the sample image as an OCI layout directory to change by hand.
func ociDir(t *testing.T) (string, Image) {
	t.Helper()
	s := newStore(t)
	img := sample(t, s, "sample")
	archive := filepath.Join(t.TempDir(), "oci.tar")
	if err := s.SaveFile(archive, []string{"sample"}, OCIArchive); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run(t, "tar", "-xf", archive, "-C", dir)
	return dir, img
}

func blobFile(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", "sha256", d.Encoded())
}

// rewriteJSON replaces a JSON blob of the layout with what edit makes of it,
// fixing every digest that points to it, so only the intended fault remains.
func rewriteConfig(t *testing.T, dir string, img Image, edit func(*ocispec.Image)) {
	t.Helper()
	c := img.Config
	edit(&c)
	cb, _ := json.Marshal(c)
	cd := digest.FromBytes(cb)
	os.WriteFile(blobFile(dir, cd), cb, 0o644)
	m := img.Manifest
	m.Config.Digest, m.Config.Size = cd, int64(len(cb))
	mb, _ := json.Marshal(m)
	md := digest.FromBytes(mb)
	os.WriteFile(blobFile(dir, md), mb, 0o644)
	idx := ocispec.Index{Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(mb))}}}
	idx.SchemaVersion = 2
	ib, _ := json.Marshal(idx)
	os.WriteFile(filepath.Join(dir, "index.json"), ib, 0o644)
}

// storeState lists what a store holds outside its temp area, to check a
// failed load left nothing behind.
func storeState(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	for _, d := range []string{"layers", "l", "oci/blobs/sha256", "tmp"} {
		es, _ := os.ReadDir(s.path(d))
		for _, e := range es {
			out = append(out, d+"/"+e.Name())
		}
	}
	b, _ := os.ReadFile(s.indexPath())
	return append(out, string(b))
}

func TestLoadRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, dir string, img Image)
		want    error
		inMsg   string
	}{
		{"layer bytes changed", func(t *testing.T, dir string, img Image) {
			p := blobFile(dir, img.Manifest.Layers[1].Digest)
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0xff
			os.WriteFile(p, b, 0o644)
		}, nil, "<layer 1 digest>"},
		{"diffID wrong", func(t *testing.T, dir string, img Image) {
			rewriteConfig(t, dir, img, func(c *ocispec.Image) { c.RootFS.DiffIDs[2] = digest.FromString("other") })
		}, ErrDigestMismatch, "uncompressed content: expected diffID"},
		{"diffID missing", func(t *testing.T, dir string, img Image) {
			rewriteConfig(t, dir, img, func(c *ocispec.Image) { c.RootFS.DiffIDs = c.RootFS.DiffIDs[:2] })
		}, ErrBadArchive, "lists 2 diffIDs for 3 layers"},
		{"config changed", func(t *testing.T, dir string, img Image) {
			os.WriteFile(blobFile(dir, img.ID), []byte(`{"rootfs":{}}`), 0o644)
		}, ErrSizeMismatch, "config " + "<config digest>: expected size"},
		{"blob missing", func(t *testing.T, dir string, img Image) {
			os.Remove(blobFile(dir, img.Manifest.Layers[0].Digest))
		}, ErrNotFound, "<layer 0 digest>"},
		{"index not JSON", func(t *testing.T, dir string, img Image) {
			os.WriteFile(filepath.Join(dir, "index.json"), []byte("{"), 0o644)
		}, ErrBadArchive, "index.json"},
		{"not an archive", func(t *testing.T, dir string, img Image) {
			os.Remove(filepath.Join(dir, "index.json"))
		}, ErrBadArchive, "neither manifest.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, img := ociDir(t)
			tc.corrupt(t, dir, img)
			s := newStore(t)
			before := storeState(t, s)
			_, err := s.Load(dir)
			if err == nil {
				t.Fatal("load succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q is not %v", err, tc.want)
			}
			msg := tc.inMsg
			for i, l := range img.Manifest.Layers {
				msg = strings.ReplaceAll(msg, fmt.Sprintf("<layer %d digest>", i), l.Digest.Encoded())
			}
			msg = strings.ReplaceAll(msg, "<config digest>", string(img.ID))
			if !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line naming %q", err, msg)
			}
			// Every layer is checked before any is placed: nothing is left.
			if diff := cmp.Diff(before, storeState(t, s)); diff != "" {
				t.Errorf("a failed load changed the store (-before +after):\n%s", diff)
			}
		})
	}
}

func TestLoadRejectsUnsafeLayer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		layer []entry
		entry string
	}{
		{"traversal", []entry{file("../escape", "x")}, `"../escape"`},
		{"through symlink", []entry{symlink("link", "/tmp"), file("link/x", "x")}, `"link/x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			_, err := s.Create("bad", []NewLayer{layerOf(t, "bad", tc.layer...)}, ocispec.ImageConfig{})
			if err == nil {
				t.Fatal("an unsafe layer was accepted")
			}
			if !strings.Contains(err.Error(), tc.entry) || !strings.Contains(err.Error(), "layer") {
				t.Errorf("error %q does not name the layer and the entry %s", err, tc.entry)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(s.Root()), "escape")); err == nil {
				t.Error("a file escaped the layer")
			}
			if es, _ := os.ReadDir(s.path("layers")); len(es) != 0 {
				t.Errorf("layers left: %v", es)
			}
		})
	}
}

func TestLoadDockerArchiveChecksConfigName(t *testing.T) {
	s := newStore(t)
	sample(t, s, "sample")
	var buf bytes.Buffer
	if err := s.Save(&buf, []string{"sample"}, DockerArchive); err != nil {
		t.Fatal(err)
	}
	// Rewrite the archive with a config whose content no longer matches its name.
	var out bytes.Buffer
	tr, tw := tar.NewReader(&buf), tar.NewWriter(&out)
	var cfgName string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		b, _ := io.ReadAll(tr)
		if hdr.Name == "manifest.json" {
			var es []dockerArchiveEntry
			json.Unmarshal(b, &es)
			cfgName = es[0].Config
		}
		if strings.HasPrefix(hdr.Name, "blobs/") && bytes.Contains(b, []byte(`"rootfs"`)) {
			b = bytes.Replace(b, []byte(`"/bin/sh"`), []byte(`"/bin/xx"`), 1)
		}
		hdr.Size = int64(len(b))
		tw.WriteHeader(hdr)
		tw.Write(b)
	}
	tw.Close()
	_, err := newStore(t).LoadReader(&out)
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), cfgName) {
		t.Fatalf("load with a changed config: %v; want a digest mismatch naming %s", err, cfgName)
	}
}

func TestOpenArchiveReadsLayersInPlace(t *testing.T) {
	s := newStore(t)
	img := sample(t, s, "sample")
	for _, f := range []Format{OCIArchive, DockerArchive} {
		p := filepath.Join(t.TempDir(), "a.tar")
		if err := s.SaveFile(p, []string{"sample"}, f); err != nil {
			t.Fatal(err)
		}
		ar, err := OpenArchive(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(ar.Images) != 1 || !cmp.Equal(ar.Images[0].DiffIDs(), img.DiffIDs()) {
			t.Fatalf("%s: images %+v", f, ar.Images)
		}
		for i := range img.DiffIDs() {
			rc, err := ar.Images[0].OpenLayer(i)
			if err != nil {
				t.Fatal(err)
			}
			v := img.DiffIDs()[i].Verifier()
			if _, err := io.Copy(v, rc); err != nil || !v.Verified() {
				t.Errorf("%s layer %d: %v, verified %v", f, i, err, v.Verified())
			}
			rc.Close()
		}
		ar.Close()
	}
}

func TestImportRootfsTar(t *testing.T) {
	s := newStore(t)
	p := filepath.Join(t.TempDir(), "rootfs.tar.gz")
	raw := tarOf(t, dir("etc/"), file("etc/motd", "hi"), symlink("bin", "usr/bin"))
	os.WriteFile(p+".raw", raw, 0o644)
	run(t, "sh", "-c", "gzip -c "+p+".raw > "+p)
	img, _, err := s.Import(p, "myroot:v1", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(img.DiffIDs()) != 1 || img.DiffIDs()[0] != digest.FromBytes(raw) {
		t.Fatalf("diffIDs %v, want the uncompressed tar's digest", img.DiffIDs())
	}
	if img.Manifest.Layers[0].MediaType != ocispec.MediaTypeImageLayerGzip {
		t.Errorf("media type %s, want gzip", img.Manifest.Layers[0].MediaType)
	}
	dirs, _ := s.LayerDirs(img)
	want := []string{". drwxr-xr-x", "bin Lrwxrwxrwx -> usr/bin", "etc drwxr-xr-x", "etc/motd -rw-r--r-- hi"}
	if diff := cmp.Diff(want, describe(t, dirs[0])); diff != "" {
		t.Errorf("imported layer (-want +got):\n%s", diff)
	}
	if _, _, err := s.Import(filepath.Join(t.TempDir(), "missing.tar"), "x", ImportOptions{}); err == nil || !strings.Contains(err.Error(), "missing.tar") {
		t.Errorf("import of a missing file: %v", err)
	}
}

// TestLoadSameImageTwoForms: one image loaded from an OCI archive and from a
// docker-archive, in either order, is one image with the names of both, not
// a named image beside a <none> one (same name) or a second row of the same
// ID (other names).
func TestLoadSameImageTwoForms(t *testing.T) {
	src := newStore(t)
	img := sample(t, src, "sample:v1")
	if _, err := src.Tag("sample:v1", "other:v2"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	save := func(ref string, f Format) string {
		p := filepath.Join(dir, strings.ReplaceAll(ref, ":", "-")+"."+string(f)+".tar")
		if err := src.SaveFile(p, []string{ref}, f); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oci, dockerSame, dockerOther := save("sample:v1", OCIArchive), save("sample:v1", DockerArchive), save("other:v2", DockerArchive)
	for _, tc := range []struct {
		name  string
		loads []string
		names []string
	}{
		{"oci then docker, same name", []string{oci, dockerSame}, []string{"sample:v1"}},
		{"docker then oci, same name", []string{dockerSame, oci}, []string{"sample:v1"}},
		{"oci then docker, other name", []string{oci, dockerOther}, []string{"other:v2", "sample:v1"}},
		{"docker then oci, other name", []string{dockerOther, oci}, []string{"other:v2", "sample:v1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			var first Image
			for i, p := range tc.loads {
				got, err := s.Load(p)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = got[0]
				} else if got[0].ManifestDigest != first.ManifestDigest {
					t.Errorf("second load resolved to manifest %s, first to %s", got[0].ManifestDigest, first.ManifestDigest)
				}
			}
			list, err := s.List()
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				ID    string
				Names []string
			}
			var rows []row
			for _, l := range list {
				rows = append(rows, row{string(l.ID), l.Names})
			}
			want := []row{{string(img.ID), tc.names}}
			if diff := cmp.Diff(want, rows); diff != "" {
				t.Errorf("images after both loads (-want +got):\n%s", diff)
			}
			if _, err := s.GC(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.LayerDirs(list[0]); err != nil {
				t.Errorf("after GC: %v", err)
			}
		})
	}
}

// TestLoadMendsDuplicateManifest: a store where an older load left the same
// image under a second, unnamed manifest shows it once after the next load.
func TestLoadMendsDuplicateManifest(t *testing.T) {
	s := newStore(t)
	img := sample(t, s, "sample:v1")
	p := filepath.Join(t.TempDir(), "sample.tar")
	if err := s.SaveFile(p, []string{"sample:v1"}, DockerArchive); err != nil {
		t.Fatal(err)
	}
	mb, _ := json.MarshalIndent(img.Manifest, "", "\t") // the same manifest, other bytes
	unlock, err := s.lock()
	if err != nil {
		t.Fatal(err)
	}
	md, err := s.putBlob(mb)
	if err == nil {
		err = s.setNames(md, nil)
	}
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := s.List(); len(list) != 2 {
		t.Fatalf("set-up: %d images, want the named one and a <none>", len(list))
	}
	if _, err := s.Load(p); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].ManifestDigest != img.ManifestDigest || !cmp.Equal(list[0].Names, []string{"sample:v1"}) {
		t.Errorf("after load: %v, %v; want only %s named sample:v1", list, err, img.ManifestDigest)
	}
}
