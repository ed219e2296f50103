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
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzLoad feeds arbitrary archives to the loader: it must never panic, and
// whatever it accepts or refuses, nothing may land outside the store and no
// half layer may be visible.
func FuzzLoad(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("not a tar at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newStore(t)
		imgs, err := s.LoadReader(bytes.NewReader(data))
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error spans lines: %q", err)
		}
		for _, img := range imgs {
			if _, err := s.LayerDirs(img); err != nil {
				t.Errorf("loaded image %s without its layers: %v", img.ID, err)
			}
		}
		es, _ := os.ReadDir(s.path("layers"))
		for _, e := range es {
			if _, err := os.Stat(s.path("layers", e.Name(), "meta.json")); err != nil {
				t.Errorf("half layer visible: %s", e.Name())
			}
		}
		if es, _ := os.ReadDir(s.path("tmp")); len(es) != 0 {
			t.Errorf("left in tmp: %v", es)
		}
		outside, _ := os.ReadDir(filepath.Dir(s.Root()))
		if len(outside) != 1 {
			t.Errorf("something landed beside the store: %v", outside)
		}
	})
}

// memArchive is an archive in memory, for the readers' fuzz target.
type memArchive map[string][]byte

func (m memArchive) open(name string) (io.ReadCloser, int64, error) {
	b, ok := m[cleanMember(name)]
	if !ok {
		return nil, 0, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

func (m memArchive) has(name string) bool {
	_, ok := m[cleanMember(name)]
	return ok
}

// descriptionSeed is a valid docker 25+ description of a two-layer image:
// index.json, manifest.json, the OCI manifest and the config. The layers
// are not tars: the readers do not open them.
func descriptionSeed() (index, docker, manifest, config []byte, layers [][]byte) {
	layers = [][]byte{[]byte("layer zero"), []byte("layer one")}
	img := ocispec.Image{RootFS: ocispec.RootFS{Type: "layers"}}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	e := dockerArchiveEntry{RepoTags: []string{"seed:v1"}}
	for _, l := range layers {
		d := digest.FromBytes(l)
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, d)
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: int64(len(l))})
		e.Layers = append(e.Layers, blobMember(d))
	}
	config, _ = json.Marshal(img)
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(config), Size: int64(len(config))}
	e.Config = blobMember(m.Config.Digest)
	manifest, _ = json.Marshal(m)
	index, _ = json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: []ocispec.Descriptor{
		{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(manifest), Size: int64(len(manifest))}}})
	docker, _ = json.Marshal([]dockerArchiveEntry{e})
	return index, docker, manifest, config, layers
}

// FuzzParseArchive feeds the readers of index.json, manifest.json, OCI
// manifests and configs with arbitrary descriptions (an empty one is left
// out of the archive): they must not panic, must say what is wrong in one
// line, and what they accept must be checked: every layer in the archive,
// of the size its descriptor says, one diffID per layer, and the layers of
// manifest.json when there is one.
func FuzzParseArchive(f *testing.F) {
	index, docker, manifest, config, layers := descriptionSeed()
	f.Add(index, docker, manifest, config)
	f.Add(index, []byte{}, manifest, config)
	f.Add([]byte{}, docker, manifest, config)
	f.Add(index, docker, bytes.Replace(manifest, []byte(`"size":9`), []byte(`"size":8`), 1), config)
	f.Fuzz(func(t *testing.T, index, docker, manifest, config []byte) {
		a := memArchive{blobMember(digest.FromBytes(manifest)): manifest, blobMember(digest.FromBytes(config)): config}
		for _, l := range layers {
			a[blobMember(digest.FromBytes(l))] = l
		}
		if len(index) > 0 {
			a["index.json"] = index
		}
		if len(docker) > 0 {
			a["manifest.json"] = docker
		}
		parsed, err := parseArchive(a)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			return
		}
		var entries []dockerArchiveEntry
		json.Unmarshal(docker, &entries)
		for i, p := range parsed {
			if len(p.srcs) != len(p.config.RootFS.DiffIDs) {
				t.Errorf("image %d: %d layers, %d diffIDs", i, len(p.srcs), len(p.config.RootFS.DiffIDs))
			}
			for _, s := range p.srcs {
				b, ok := a[cleanMember(s.member)]
				if !ok || (s.desc.Size >= 0 && s.desc.Size != int64(len(b))) {
					t.Errorf("accepted layer %s: in the archive %v, %d bytes", s.where, ok, len(b))
				}
			}
			if len(docker) > 0 && len(index) > 0 && !slices.ContainsFunc(entries, func(e dockerArchiveEntry) bool {
				if len(e.Layers) != len(p.srcs) {
					return false
				}
				for j, l := range e.Layers {
					if cleanMember(l) != cleanMember(p.srcs[j].member) {
						return false
					}
				}
				return true
			}) {
				t.Errorf("image %d: its layers are in no entry of manifest.json", i)
			}
		}
	})
}

// FuzzDropDevices feeds import's device filter arbitrary streams: it must
// not panic, and what it lets through must be the tar it read without its
// device nodes: the same headers, in order, and the same contents.
func FuzzDropDevices(f *testing.F) {
	f.Add([]byte{})
	var tw bytes.Buffer
	w := tar.NewWriter(&tw)
	for _, h := range []*tar.Header{
		{Name: "dev/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
		{Name: "etc/motd", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5},
		{Name: "dev/" + strings.Repeat("x", 120), Typeflag: tar.TypeBlock, Mode: 0o600, Devmajor: 8},
	} {
		w.WriteHeader(h)
		w.Write([]byte("hello")[:h.Size])
	}
	w.Close()
	f.Add(tw.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		n, err := dropDevices(&out, bytes.NewReader(data), false)
		if err != nil {
			return
		}
		want, wn := tarListing(bytes.NewReader(data), true)
		got, gn := tarListing(bytes.NewReader(out.Bytes()), false)
		if n != wn || gn != 0 || !slices.Equal(want, got) {
			t.Errorf("dropped %d of %d devices, %d left; entries %q, want %q", n, wn, gn, got, want)
		}
	})
}

// tarListing lists the entries of a tar, name and content, but for device
// nodes, which it counts; it stops at the first error.
func tarListing(r io.Reader, stopAtErr bool) ([]string, int) {
	tr := tar.NewReader(r)
	var out []string
	devices := 0
	for {
		h, err := tr.Next()
		if err != nil {
			return out, devices
		}
		if h.Typeflag == tar.TypeChar || h.Typeflag == tar.TypeBlock {
			devices++
			continue
		}
		// The first bytes and the length: a sparse entry may say terabytes.
		b, err := io.ReadAll(io.LimitReader(tr, 4<<10))
		n, cerr := io.Copy(io.Discard, tr)
		err = errors.Join(err, cerr)
		out = append(out, fmt.Sprintf("%s %c %q+%d %v", h.Name, h.Typeflag, b, n, err))
		if err != nil && stopAtErr {
			return out, devices
		}
	}
}
