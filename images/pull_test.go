package images

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestPushPullRoundTrip pushes an image to a registry and pulls it into
// a fresh store: the same ID, manifest digest and layers, under the
// reference's name; a second pull downloads no blob.
func TestPushPullRoundTrip(t *testing.T) {
	reg := startRegistry(t, nil)
	src := newStore(t)
	img := sample(t, src, "sample")
	ref := reg.host + "/team/sample:v1"
	pushed, err := src.Push(context.Background(), "sample", ref, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Digest != img.ManifestDigest || pushed.Ref != ref {
		t.Errorf("pushed %+v, want digest %s to %s", pushed, img.ManifestDigest, ref)
	}

	dst := newStore(t)
	log := newProgressLog()
	p := pullAll(t, dst, ref, PullOptions{Progress: log.record})
	if p.Image.ID != img.ID || p.Digest != img.ManifestDigest || p.Image.ManifestDigest != img.ManifestDigest {
		t.Errorf("pulled ID %s manifest %s (registry's %s), want %s and %s", p.Image.ID, p.Image.ManifestDigest, p.Digest, img.ID, img.ManifestDigest)
	}
	if diff := cmp.Diff([]string{ref}, p.Image.Names); diff != "" || p.Name != ref {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(layerTrees(t, src, img), layerTrees(t, dst, p.Image)); diff != "" {
		t.Errorf("layers differ (-pushed +pulled):\n%s", diff)
	}
	if p.Fetched != 3 || p.UpToDate {
		t.Errorf("first pull fetched %d layers, up to date %v; want 3, false", p.Fetched, p.UpToDate)
	}
	for i, l := range img.Manifest.Layers {
		got := log.last[i]
		if got.State != LayerDone || got.Done != l.Size || got.Digest != l.Digest || log.seen[i][0] != LayerWaiting {
			t.Errorf("layer %d progress: last %+v, states %v", i, got, log.seen[i])
		}
	}

	gets := reg.blobGets("team/sample")
	again := pullAll(t, dst, ref, PullOptions{})
	if !again.UpToDate || again.Fetched != 0 || again.Image.ID != img.ID {
		t.Errorf("second pull: %+v", again)
	}
	if n := reg.blobGets("team/sample") - gets; n != 0 {
		t.Errorf("second pull fetched %d blobs, want none: its manifest is stored", n)
	}
	checkTmpEmpty(t, dst)
}

// TestPullSkipsStoredLayers: a pull fetches only the layers the store
// lacks.
func TestPullSkipsStoredLayers(t *testing.T) {
	reg := startRegistry(t, nil)
	src := newStore(t)
	a := sample(t, src, "a")
	b, err := src.Create("b", []NewLayer{
		layerOf(t, "base files", dir("etc/"), file("etc/hosts", "127.0.0.1 localhost\n"), dir("usr/"), dir("usr/share/"),
			file("usr/share/a", "a"), file("usr/share/b", "b"), file("gone", "bye"), symlink("hosts", "/etc/hosts")),
		layerOf(t, "other", file("other", "x")),
	}, ocispec.ImageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Manifest.Layers[0].Digest != b.Manifest.Layers[0].Digest {
		t.Fatal("the two images do not share their first blob")
	}
	for _, n := range []string{"a", "b"} {
		if _, err := src.Push(context.Background(), n, reg.host+"/x/"+n, PushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dst := newStore(t)
	pullAll(t, dst, reg.host+"/x/a", PullOptions{})
	log := newProgressLog()
	p := pullAll(t, dst, reg.host+"/x/b", PullOptions{Progress: log.record})
	if p.Fetched != 1 || p.Image.ID != b.ID {
		t.Errorf("pull of b fetched %d layers, ID %s; want 1, %s", p.Fetched, p.Image.ID, b.ID)
	}
	if got := reg.count("GET", "/v2/x/b/blobs/"+string(b.Manifest.Layers[0].Digest)); got != 0 {
		t.Errorf("the shared layer was fetched %d times", got)
	}
	if log.last[0].State != LayerExists || log.last[1].State != LayerDone {
		t.Errorf("progress: %+v", log.last)
	}
}

// TestPullIndex resolves an index to the platform asked for, the host's
// by default, and names the platforms it has when none fits.
func TestPullIndex(t *testing.T) {
	reg := startRegistry(t, nil)
	src := newStore(t)
	img := sample(t, src, "sample")
	host := reg.putImage(t, src, img, "multi", "host", ocispec.MediaTypeImageManifest, nil, nil)
	other := ocispec.Platform{OS: "linux", Architecture: "riscv64"}
	if runtime.GOARCH == "riscv64" {
		other.Architecture = "s390x"
	}
	foreign := reg.putImage(t, src, img, "multi", "foreign", ocispec.MediaTypeImageManifest, nil, func(c *ocispec.Image) { c.Platform = other })
	idx := reg.putManifest(t, "multi", "latest", ocispec.MediaTypeImageIndex,
		indexOf([]ocispec.Descriptor{foreign, host}, []ocispec.Platform{other, HostPlatform()}))
	ref := reg.host + "/multi"

	s := newStore(t)
	p := pullAll(t, s, ref, PullOptions{})
	if p.Digest != host.Digest || p.Index != idx.Digest || p.Image.ID != img.ID || p.Name != ref+":latest" {
		t.Errorf("default platform: pulled %+v, want manifest %s of index %s", p, host.Digest, idx.Digest)
	}
	p = pullAll(t, s, ref, PullOptions{Platform: other})
	if p.Digest != foreign.Digest || p.Image.Config.Architecture != other.Architecture {
		t.Errorf("--platform %s: pulled %s (%s)", platformString(other), p.Digest, p.Image.Config.Architecture)
	}
	_, err := s.Pull(context.Background(), ref, PullOptions{Platform: ocispec.Platform{OS: "linux", Architecture: "mips"}})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no image for linux/mips (it has linux/"+other.Architecture+", linux/"+runtime.GOARCH+")") {
		t.Errorf("no such platform: %v", err)
	}
	// A single manifest of another platform is refused when one was asked for.
	_, err = s.Pull(context.Background(), reg.host+"/multi:foreign", PullOptions{Platform: HostPlatform()})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "is for linux/"+other.Architecture) {
		t.Errorf("pull of another platform's image: %v", err)
	}
}

// TestPullDockerManifest pulls docker's schema 2: the image keeps its ID
// and its layers, under an OCI manifest of its own.
func TestPullDockerManifest(t *testing.T) {
	reg := startRegistry(t, nil)
	src := newStore(t)
	img := sample(t, src, "sample")
	desc := reg.putImage(t, src, img, "docker", "v2", dockerManifest, asDocker, nil)
	s := newStore(t)
	p := pullAll(t, s, reg.host+"/docker:v2", PullOptions{})
	if p.Image.ID != img.ID || p.Digest != desc.Digest {
		t.Errorf("pulled ID %s from %s, want %s from %s", p.Image.ID, p.Digest, img.ID, desc.Digest)
	}
	if p.Image.Manifest.MediaType != ocispec.MediaTypeImageManifest || p.Image.Manifest.Config.MediaType != ocispec.MediaTypeImageConfig {
		t.Errorf("stored manifest: %+v", p.Image.Manifest)
	}
	if diff := cmp.Diff(layerTrees(t, src, img), layerTrees(t, s, p.Image)); diff != "" {
		t.Errorf("layers (-pushed +pulled):\n%s", diff)
	}
}

// TestPullByDigest stores the image without a name, as docker shows a
// pull by digest (<none>).
func TestPullByDigest(t *testing.T) {
	reg := startRegistry(t, nil)
	src := newStore(t)
	img := sample(t, src, "sample")
	reg.putImage(t, src, img, "bydigest", "latest", ocispec.MediaTypeImageManifest, nil, nil)
	s := newStore(t)
	p := pullAll(t, s, reg.host+"/bydigest@"+string(img.ManifestDigest), PullOptions{})
	if p.Name != "" || len(p.Image.Names) != 0 || p.Image.ID != img.ID {
		t.Errorf("pull by digest: %+v", p)
	}
	_, err := s.Pull(context.Background(), reg.host+"/bydigest@"+string(digest.FromString("other")), PullOptions{})
	if err == nil || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("pull of an unknown digest: %v", err)
	}
}

func TestParsePlatform(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ocispec.Platform
		ok   bool
	}{
		{"linux/amd64", ocispec.Platform{OS: "linux", Architecture: "amd64"}, true},
		{"linux/arm/v7", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, true},
		{"linux", ocispec.Platform{}, false},
		{"linux//v7", ocispec.Platform{}, false},
		{"linux/amd64/v1/x", ocispec.Platform{}, false},
		{"linux/AMD64", ocispec.Platform{}, false},
		{"", ocispec.Platform{}, false},
	} {
		got, err := ParsePlatform(tc.in)
		if (err == nil) != tc.ok || !cmp.Equal(got, tc.want) {
			t.Errorf("ParsePlatform(%q) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("ParsePlatform(%q): error %v is not ErrInvalidName", tc.in, err)
		}
	}
}

func TestNamesRegistry(t *testing.T) {
	for ref, want := range map[string]bool{
		"alpine": false, "library/alpine": false, "base:latest": false,
		"127.0.0.1:5000/base": true, "localhost/x": true, "ghcr.io/a/b:v1": true,
		"example.com": false, "./file.tar": false, "../x/y": false, "/abs/path": false,
	} {
		if got := NamesRegistry(ref); got != want {
			t.Errorf("NamesRegistry(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestManifestMediaType(t *testing.T) {
	oci := []byte(`{"mediaType":"` + ocispec.MediaTypeImageManifest + `"}`)
	for _, tc := range []struct {
		ct   string
		body []byte
		want string
		bad  bool
	}{
		{ocispec.MediaTypeImageManifest, oci, ocispec.MediaTypeImageManifest, false},
		{"application/json; charset=utf-8", oci, ocispec.MediaTypeImageManifest, false},
		{dockerManifest, []byte(`{}`), dockerManifest, false},
		{dockerManifest, oci, "", true},
	} {
		got, err := manifestMediaType(tc.ct, tc.body)
		if got != tc.want || (err != nil) != tc.bad || (err != nil && !errors.Is(err, ErrBadManifest)) {
			t.Errorf("manifestMediaType(%q, %s) = %q, %v", tc.ct, tc.body, got, err)
		}
	}
}
