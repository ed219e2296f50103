package images

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// combined is an archive as docker 25 and later write it, built in memory
// so that a test can break one descriptor and keep every other right: an
// OCI layout (oci-layout, index.json, blobs) and manifest.json naming the
// same blobs.
type combined struct {
	config   []byte
	manifest ocispec.Manifest
	// docker is manifest.json's one entry.
	docker dockerArchiveEntry
	// members holds the blobs by member name; manifest and index.json are
	// added by build.
	members map[string][]byte
}

// newCombined lays out the stored image img as docker 25 saves it.
func newCombined(t testing.TB, s *Store, img Image) *combined {
	t.Helper()
	c := &combined{manifest: img.Manifest, members: map[string][]byte{}}
	read := func(d digest.Digest) []byte {
		b, err := os.ReadFile(s.blobPath(d))
		if err != nil {
			t.Fatal(err)
		}
		c.members[blobMember(d)] = b
		return b
	}
	c.config = read(img.ID)
	c.docker = dockerArchiveEntry{Config: blobMember(img.ID), RepoTags: img.Names}
	for _, l := range img.Manifest.Layers {
		read(l.Digest)
		c.docker.Layers = append(c.docker.Layers, blobMember(l.Digest))
	}
	return c
}

// fake puts the content of the blob d under another digest, and returns
// that digest: a descriptor naming it has the right size, the wrong digest.
func (c *combined) fake(d digest.Digest) digest.Digest {
	f := digest.FromString("not " + string(d))
	c.members[blobMember(f)] = c.members[blobMember(d)]
	return f
}

// build writes the archive as a tar; editIndex, when not nil, changes the
// index's manifest descriptor, and without, manifest.json or index.json
// are left out.
func (c *combined) build(t testing.TB, editIndex func(*ocispec.Descriptor), without string) string {
	t.Helper()
	mb, _ := json.Marshal(c.manifest)
	members := map[string][]byte{blobMember(digest.FromBytes(mb)): mb}
	for k, v := range c.members {
		members[k] = v
	}
	d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(mb), Size: int64(len(mb)),
		Annotations: map[string]string{"io.containerd.image.name": "docker.io/library/sample:latest", ocispec.AnnotationRefName: "latest"}}
	if editIndex != nil {
		editIndex(&d)
	}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{d}}
	members["index.json"], _ = json.Marshal(idx)
	members[ocispec.ImageLayoutFile], _ = json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	members["manifest.json"], _ = json.Marshal([]dockerArchiveEntry{c.docker})
	delete(members, without)
	p := filepath.Join(t.TempDir(), "combined.tar")
	if err := os.WriteFile(p, tarMembers(t, members), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tarMembers writes the members, sorted, as a tar.
func tarMembers(t testing.TB, members map[string][]byte) []byte {
	t.Helper()
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(members[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(members[n])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkRefused checks that err is one line naming the archive and every
// part of want, of kind, and that the store is as it was.
func checkRefused(t *testing.T, err error, archive string, kind error, want []string, s *Store, before []string) {
	t.Helper()
	if err == nil {
		t.Fatal("the archive was accepted")
	}
	t.Logf("refused: %v", err)
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("error %q is not %v", err, kind)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, archive) {
		t.Errorf("error %q: want one line naming the archive %s", msg, archive)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
	if diff := cmp.Diff(before, storeState(t, s)); diff != "" {
		t.Errorf("a refused archive changed the store (-before +after):\n%s", diff)
	}
}

// TestLoadCombinedArchiveChecksEveryDescriptor breaks one descriptor at a
// time of a docker 25+ archive, holding both manifest.json and index.json,
// by size or by digest, or makes its two descriptions disagree: each is
// refused, with the descriptor named and what was expected and found, and
// nothing enters the store. The archive intact loads, under docker's names.
func TestLoadCombinedArchiveChecksEveryDescriptor(t *testing.T) {
	src := newStore(t)
	img := sample(t, src, "sample:v1")
	layer := func(i int) digest.Digest { return img.Manifest.Layers[i].Digest }
	type tc struct {
		name      string
		edit      func(c *combined) // before the manifest is written
		editIndex func(*ocispec.Descriptor)
		without   string
		kind      error
		want      func(c *combined, md digest.Digest) []string
	}
	cases := []tc{
		{name: "index.json manifest size", editIndex: func(d *ocispec.Descriptor) { d.Size++ }, kind: ErrSizeMismatch,
			want: func(c *combined, md digest.Digest) []string {
				return []string{"index.json manifests[0] " + string(md), "expected size"}
			}},
		{name: "index.json manifest digest", edit: func(c *combined) {
			// The manifest's bytes, other by one space, under its digest.
			mb, _ := json.Marshal(c.manifest)
			c.members[blobMember(digest.FromBytes(mb))] = append([]byte(" "), mb[:len(mb)-1]...)
		}, kind: ErrDigestMismatch, want: func(c *combined, md digest.Digest) []string {
			return []string{"index.json manifests[0] " + string(md), "expected digest " + string(md) + ", found sha256:"}
		}},
		{name: "manifest config size", edit: func(c *combined) { c.manifest.Config.Size-- }, kind: ErrSizeMismatch,
			want: func(c *combined, md digest.Digest) []string {
				return []string{"manifest " + string(md) + " config " + string(img.ID), fmt.Sprintf("expected size %d, found %d", len(c.config)-1, len(c.config))}
			}},
		{name: "manifest config digest", edit: func(c *combined) { c.manifest.Config.Digest = c.fake(img.ID) }, kind: ErrDigestMismatch,
			want: func(c *combined, md digest.Digest) []string {
				return []string{"manifest " + string(md) + " config " + string(c.manifest.Config.Digest), "found " + string(img.ID)}
			}},
		{name: "manifest.json Config digest", edit: func(c *combined) { c.docker.Config = blobMember(c.fake(img.ID)) }, kind: ErrDigestMismatch,
			want: func(c *combined, md digest.Digest) []string {
				return []string{"manifest.json Config " + c.docker.Config, "found " + string(img.ID)}
			}},
		{name: "manifest.json Layers[1] digest, docker-only archive", without: "index.json", edit: func(c *combined) {
			c.docker.Layers[1] = blobMember(c.fake(layer(1)))
		}, kind: ErrDigestMismatch, want: func(c *combined, md digest.Digest) []string {
			return []string{"manifest.json Layers[1] " + c.docker.Layers[1], "found " + string(layer(1))}
		}},
		{name: "manifest.json Layers[1] missing", edit: func(c *combined) {
			c.docker.Layers[1] = blobMember(digest.FromString("absent"))
		}, kind: ErrNotFound, want: func(c *combined, md digest.Digest) []string {
			return []string{"manifest.json Layers[1] " + c.docker.Layers[1], "not in the archive"}
		}},
		{name: "the two disagree on a layer", edit: func(c *combined) { c.docker.Layers[2] = blobMember(c.fake(layer(2))) },
			kind: ErrInconsistentArchive, want: func(c *combined, md digest.Digest) []string {
				return []string{"manifest.json Layers[2] " + c.docker.Layers[2], "is not manifest " + string(md) + " layers[2] " + string(layer(2))}
			}},
		{name: "the two disagree on the order of layers", edit: func(c *combined) {
			c.docker.Layers[0], c.docker.Layers[1] = c.docker.Layers[1], c.docker.Layers[0]
		}, kind: ErrInconsistentArchive, want: func(c *combined, md digest.Digest) []string {
			return []string{"manifest.json Layers[0] " + blobMember(layer(1)), "layers[0] " + string(layer(0))}
		}},
		{name: "the two disagree on the config (and the number of layers)", edit: func(c *combined) {
			c.docker.Layers = c.docker.Layers[:2]
			cfg := img.Config
			cfg.RootFS.DiffIDs = cfg.RootFS.DiffIDs[:2]
			c.config, _ = json.Marshal(cfg)
			c.members[blobMember(digest.FromBytes(c.config))] = c.config
			c.docker.Config = blobMember(digest.FromBytes(c.config))
		}, kind: ErrInconsistentArchive, want: func(c *combined, md digest.Digest) []string {
			return []string{"manifest.json Config " + c.docker.Config, "no image of index.json has config"}
		}},
	}
	for i := range img.Manifest.Layers {
		cases = append(cases, tc{name: fmt.Sprintf("manifest layers[%d] size", i), edit: func(c *combined) { c.manifest.Layers[i].Size += 7 },
			kind: ErrSizeMismatch, want: func(c *combined, md digest.Digest) []string {
				l := img.Manifest.Layers[i]
				return []string{fmt.Sprintf("manifest %s layers[%d] %s", md, i, l.Digest), fmt.Sprintf("expected size %d, found %d", l.Size+7, l.Size)}
			}})
		cases = append(cases, tc{name: fmt.Sprintf("manifest layers[%d] digest", i), edit: func(c *combined) {
			// Both descriptions name the blob, which is not what its name says.
			f := c.fake(layer(i))
			c.manifest.Layers[i].Digest = f
			c.docker.Layers[i] = blobMember(f)
		}, kind: ErrDigestMismatch, want: func(c *combined, md digest.Digest) []string {
			return []string{fmt.Sprintf("manifest %s layers[%d] %s", md, i, c.manifest.Layers[i].Digest), "expected digest " + string(c.manifest.Layers[i].Digest) + ", found " + string(layer(i))}
		}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCombined(t, src, img)
			c.manifest.Layers = append([]ocispec.Descriptor(nil), c.manifest.Layers...)
			c.docker.Layers = append([]string(nil), c.docker.Layers...)
			if tc.edit != nil {
				tc.edit(c)
			}
			p := c.build(t, tc.editIndex, tc.without)
			mb, _ := json.Marshal(c.manifest)
			s := newStore(t)
			before := storeState(t, s)
			_, err := s.Load(p)
			checkRefused(t, err, p, tc.kind, tc.want(c, digest.FromBytes(mb)), s, before)
			// The in-place reader refuses the same archive; a layer's
			// digest is checked as the layer is read.
			ar, err := OpenArchive(p)
			if err == nil {
				defer ar.Close()
				for i := range ar.Images[0].DiffIDs() {
					if err = readWhole(ar.Images[0], i); err != nil {
						break
					}
				}
			}
			checkRefused(t, err, "", tc.kind, tc.want(c, digest.FromBytes(mb)), s, before)
		})
	}
	t.Run("intact", func(t *testing.T) {
		p := newCombined(t, src, img).build(t, nil, "")
		s := newStore(t)
		got, err := s.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != img.ID || got[0].ManifestDigest != img.ManifestDigest || !cmp.Equal(got[0].Names, []string{"sample:v1"}) {
			t.Errorf("loaded %+v; want %s as sample:v1 with its manifest", got, img.ID)
		}
	})
}

// readWhole reads layer i of ai to its end, which checks its digests.
func readWhole(ai ArchiveImage, i int) error {
	rc, err := ai.OpenLayer(i)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// TestLoadCorruptGzipMidway: a gzip layer broken in the middle, whose
// descriptors name it as it is, is refused as a corrupt gzip stream of that
// layer, not as the tar error its garbage makes, and nothing is stored.
func TestLoadCorruptGzipMidway(t *testing.T) {
	src := newStore(t)
	var body strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&body, "line %d of a file long enough to be compressed in several blocks\n", i*7919%10007)
	}
	img, err := src.Create("big", []NewLayer{
		layerOf(t, "small", file("etc/motd", "hi")),
		layerOf(t, "big", dir("usr/"), file("usr/big", body.String()), file("usr/after", "after")),
	}, ocispec.ImageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c := newCombined(t, src, img)
	blob := bytes.Clone(c.members[blobMember(img.Manifest.Layers[1].Digest)])
	for i := len(blob) / 2; i < len(blob)/2+16; i++ {
		blob[i] ^= 0x55
	}
	d := digest.FromBytes(blob)
	c.members[blobMember(d)] = blob
	c.manifest.Layers[1].Digest, c.docker.Layers[1] = d, blobMember(d)
	p := c.build(t, nil, "")
	s := newStore(t)
	before := storeState(t, s)
	_, err = s.Load(p)
	mb, _ := json.Marshal(c.manifest)
	where := fmt.Sprintf("manifest %s layers[1] %s: gzip: ", digest.FromBytes(mb), d)
	checkRefused(t, err, p, nil, []string{where}, s, before)
	if err != nil && strings.Contains(err.Error(), "archive/tar") {
		t.Errorf("error %q blames the tar, not the gzip stream", err)
	}

	ar, err := OpenArchive(p)
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Close()
	err = readWhole(ar.Images[0], 1)
	if err == nil || !strings.Contains(err.Error(), where) {
		t.Errorf("reading the layer in place: %v; want an error saying %q", err, where)
	}
}
