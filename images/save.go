package images

import (
	"archive/tar"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/human"
)

// Format is an image archive format for Save.
type Format string

// The archive formats Save writes.
const (
	// OCIArchive is an OCI image layout in a tar ("skopeo … oci-archive:FILE").
	OCIArchive Format = "oci-archive"
	// DockerArchive is docker save's format ("docker load", "skopeo … docker-archive:FILE").
	DockerArchive Format = "docker-archive"
)

// ParseFormat checks an archive format name.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case OCIArchive, "oci":
		return OCIArchive, nil
	case DockerArchive, "docker":
		return DockerArchive, nil
	}
	return "", fmt.Errorf("format \"%s\": want oci-archive or docker-archive", human.Visible(s))
}

// SaveFile writes the images refs to the file p in format f. The file appears
// only when complete.
func (s *Store) SaveFile(p string, refs []string, f Format) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-")
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	err = s.Save(bw, refs, f)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// Save writes the images refs to w as an archive of format f.
func (s *Store) Save(w io.Writer, refs []string, f Format) error {
	if len(refs) == 0 {
		return fmt.Errorf("save: no image named")
	}
	all, err := s.List()
	if err != nil {
		return err
	}
	type saved struct {
		img  Image
		name string
	}
	var sel []saved
	for _, r := range refs {
		img, err := find(all, r)
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		name := ""
		if n, err := ParseName(r); err == nil && contains(img.Names, n) {
			name = n
		} else if len(img.Names) > 0 {
			name = img.Names[0]
		}
		sel = append(sel, saved{img, name})
	}
	tw := tar.NewWriter(w)
	written := map[string]bool{}
	switch f {
	case OCIArchive:
		idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
		for _, sv := range sel {
			if err := s.writeImageBlobs(tw, sv.img, written); err != nil {
				return fmt.Errorf("save %s: %w", sv.img.ShortID(), err)
			}
			mb, err := os.ReadFile(s.blobPath(sv.img.ManifestDigest))
			if err != nil {
				return err
			}
			d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: sv.img.ManifestDigest, Size: int64(len(mb))}
			if sv.name != "" {
				_, tag := SplitName(sv.name)
				d.Annotations = map[string]string{
					"io.containerd.image.name": sv.name,
					ocispec.AnnotationRefName:  tag,
				}
			}
			idx.Manifests = append(idx.Manifests, d)
		}
		layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
		ib, _ := json.Marshal(idx)
		if err := writeMember(tw, ocispec.ImageLayoutFile, layout); err != nil {
			return err
		}
		if err := writeMember(tw, "index.json", ib); err != nil {
			return err
		}
	case DockerArchive:
		var entries []dockerArchiveEntry
		for _, sv := range sel {
			e, err := s.writeDockerImage(tw, sv.img, written)
			if err != nil {
				return fmt.Errorf("save %s: %w", sv.img.ShortID(), err)
			}
			if sv.name != "" {
				e.RepoTags = []string{sv.name}
			}
			entries = append(entries, e)
		}
		mb, _ := json.Marshal(entries)
		if err := writeMember(tw, "manifest.json", mb); err != nil {
			return err
		}
	default:
		return fmt.Errorf("save: format \"%s\": %w", human.Visible(string(f)), ErrInvalidName)
	}
	return tw.Close()
}

func contains(names []string, n string) bool {
	for _, m := range names {
		if m == n {
			return true
		}
	}
	return false
}

var epoch = time.Unix(0, 0)

func writeMember(tw *tar.Writer, name string, b []byte) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

// writeBlobMember copies the stored blob d into the tar as blobs/sha256/<hex>.
func (s *Store) writeBlobMember(tw *tar.Writer, d digest.Digest, written map[string]bool) error {
	name := blobMember(d)
	if written[name] {
		return nil
	}
	f, err := s.OpenBlob(d)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: info.Size(), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	written[name] = true
	return nil
}

func (s *Store) writeImageBlobs(tw *tar.Writer, img Image, written map[string]bool) error {
	ds := []digest.Digest{img.ManifestDigest, img.ID}
	for _, l := range img.Manifest.Layers {
		ds = append(ds, l.Digest)
	}
	for _, d := range ds {
		if err := s.writeBlobMember(tw, d, written); err != nil {
			return err
		}
	}
	return nil
}

// writeDockerImage writes img as docker save does since docker 25: config and
// uncompressed layers under blobs/sha256/, named in manifest.json.
func (s *Store) writeDockerImage(tw *tar.Writer, img Image, written map[string]bool) (dockerArchiveEntry, error) {
	e := dockerArchiveEntry{Config: blobMember(img.ID), RepoTags: []string{}}
	if err := s.writeBlobMember(tw, img.ID, written); err != nil {
		return e, err
	}
	for i, l := range img.Manifest.Layers {
		diffID := img.DiffIDs()[i]
		name := blobMember(diffID)
		e.Layers = append(e.Layers, name)
		if written[name] {
			continue
		}
		if err := s.writeUncompressed(tw, name, l.Digest, diffID); err != nil {
			return e, err
		}
		written[name] = true
	}
	return e, nil
}

// writeUncompressed writes the blob d decompressed, as member name, checking
// that it hashes to diffID.
func (s *Store) writeUncompressed(tw *tar.Writer, name string, d, diffID digest.Digest) error {
	meta, err := s.Layer(diffID)
	if err != nil {
		return err
	}
	f, err := s.OpenBlob(d)
	if err != nil {
		return err
	}
	defer f.Close()
	dr, _, closeDR, err := decompress(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	defer closeDR()
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: meta.TarSize, ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	v := diffID.Verifier()
	if _, err := io.Copy(io.MultiWriter(tw, v), dr); err != nil {
		return fmt.Errorf("layer %s: %w", diffID, err)
	}
	if !v.Verified() {
		return fmt.Errorf("layer %s: blob %s does not decompress to it: %w", diffID, d, ErrDigestMismatch)
	}
	return nil
}
