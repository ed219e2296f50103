package images

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/testutil"
)

// TestPushDockerLayerTypes: an image whose OCI manifest gives its layers
// docker's media types (docker 25's save writes such) is pushed byte for
// byte; skopeo reads and copies it, and a pull gives back the same
// manifest and ID.
func TestPushDockerLayerTypes(t *testing.T) {
	skopeo := testutil.RequireTool(t, "skopeo")
	reg := startRegistry(t, nil)
	dir, img := ociDir(t)
	m := img.Manifest
	for i := range m.Layers {
		m.Layers[i].MediaType = dockerLayerGzip
	}
	mb, _ := json.Marshal(m)
	md := digest.FromBytes(mb)
	if err := os.WriteFile(blobFile(dir, md), mb, 0o644); err != nil {
		t.Fatal(err)
	}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: []ocispec.Descriptor{{
		MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(mb)),
		Annotations: map[string]string{ocispec.AnnotationRefName: "dockertypes:latest"}}}}
	ib, _ := json.Marshal(idx)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), ib, 0o644); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	if _, err := s.Load(dir); err != nil {
		t.Fatal(err)
	}
	ref := reg.host + "/dt:v1"
	pushed, err := s.Push(context.Background(), "dockertypes", ref, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Digest != md {
		t.Errorf("pushed manifest %s, want the stored %s", pushed.Digest, md)
	}
	raw, err := exec.Command(skopeo, "inspect", "--raw", "--tls-verify=false", "docker://"+ref).Output()
	if err != nil || !bytes.Equal(bytes.TrimSpace(raw), mb) {
		t.Errorf("skopeo inspect --raw: %v\n%s\nwant\n%s", err, raw, mb)
	}
	if b, err := exec.Command(skopeo, "copy", "-q", "--src-tls-verify=false", "docker://"+ref, "oci:"+t.TempDir()+":dt").CombinedOutput(); err != nil {
		t.Errorf("skopeo copy: %v\n%s", err, b)
	}
	p := pullAll(t, newStore(t), ref, PullOptions{})
	if p.Image.ManifestDigest != md || p.Image.ID != img.ID {
		t.Errorf("pulled manifest %s ID %s, want %s and %s", p.Image.ManifestDigest, p.Image.ID, md, img.ID)
	}
}

// TestPushErrors: what cannot be pushed is refused in one line naming the
// destination.
func TestPushErrors(t *testing.T) {
	reg := startRegistry(t, nil)
	s := newStore(t)
	img := sample(t, s, "sample")
	for _, tc := range []struct {
		name, ref, dest string
		prep            func()
		want            error
	}{
		{"no such image", "nosuch", reg.host + "/x", nil, ErrNotFound},
		{"bad destination", "sample", "Not/Valid", nil, ErrInvalidName},
		{"layer blob gone", "sample", reg.host + "/gone", func() {
			os.Remove(s.blobPath(img.Manifest.Layers[1].Digest))
		}, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prep != nil {
				tc.prep()
			}
			_, err := s.Push(context.Background(), tc.ref, tc.dest, PushOptions{})
			if !errors.Is(err, tc.want) || err.Error()[:len("push "+tc.dest+": ")] != "push "+tc.dest+": " {
				t.Errorf("push %s to %s: %v, want %v", tc.ref, tc.dest, err, tc.want)
			}
		})
	}
}
