package app

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"sync"

	"minidocker/images"
	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui/tree"
)

// An image archive is read in place, never loaded into a store: reading
// needs no store and so no root, as dive reads a docker save. A store
// made for the occasion (a per-user cache, a temporary one) would not do
// as well: unpacking as a user other than root cannot make a whiteout
// (a character device 0:0) nor set trusted.overlay.opaque, so the layers
// on disk would not be the image's; and the unpack would cost the time
// and space of a load for a look.

func archiveStack(p string) (*Stack, error) {
	ar, err := images.OpenArchive(p)
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	if len(ar.Images) == 0 {
		return nil, fmt.Errorf("archive %s: holds no image", human.Visible(p))
	}
	ai := ar.Images[0]
	s := &Stack{What: "archive", Name: p}
	for _, d := range ai.DiffIDs() {
		s.Labels = append(s.Labels, d.Encoded()[:12])
	}
	if s.Layers, err = archiveTrees(p, ai); err != nil {
		return nil, err
	}
	s.CreatedBy = images.LayerHistory(ai.Config, len(s.Layers))
	s.Merged = overlay.Merge(s.Layers)
	s.sizes(nil)
	return s, nil
}

// archiveTrees reads the layers of an archive's image at once, each on
// its own goroutine: decompressing and hashing dominate, and the archive
// is read in place with ReadAt.
func archiveTrees(p string, ai images.ArchiveImage) ([]*overlay.Tree, error) {
	n := len(ai.DiffIDs())
	trees := make([]*overlay.Tree, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, d := range ai.DiffIDs() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trees[i], errs[i] = readArchiveLayer(ai, i)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("archive %s: layer %s: %w", human.Visible(p), d, errs[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs { // the first failing layer: one error, one line
		if err != nil {
			return nil, err
		}
	}
	return trees, nil
}

func readArchiveLayer(ai images.ArchiveImage, i int) (*overlay.Tree, error) {
	rc, err := ai.OpenLayer(i)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	t, err := overlay.ReadTar(rc)
	// ReadTar stops at the tar's end; the rest is read to check the blob's
	// digest and the diffID. After a tar error too: a blob that is not the
	// one its descriptor names, or a corrupt compressed stream, is the
	// cause of what the tar reader met.
	if _, rerr := io.Copy(io.Discard, rc); rerr != nil {
		return nil, rerr
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// errNoContent is what a preview of an entry with no content of its own
// in the archive meets.
var errNoContent = errors.New("no regular file there in the layer")

// openArchiveEntry reads the content of the regular file p of layer i by
// reading the layer's tar up to it: an archive has no index of its
// entries. A hard link is followed to the entry it links to, once.
func openArchiveEntry(ai images.ArchiveImage, i int, p string) (io.ReadCloser, error) {
	for hops := 0; hops < 2; hops++ {
		rc, err := ai.OpenLayer(i)
		if err != nil {
			return nil, err
		}
		hdr, tr, err := seekEntry(rc, p)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("open %s in layer %d: %w", human.Visible(p), i, err)
		}
		if hdr.Typeflag == tar.TypeLink {
			rc.Close()
			p = tree.Clean(hdr.Linkname)
			continue
		}
		return entryReader{tr, rc}, nil
	}
	return nil, fmt.Errorf("open %s in layer %d: %w", human.Visible(p), i, errNoContent)
}

// seekEntry reads the tar r up to the regular file or hard link p.
func seekEntry(r io.Reader, p string) (*tar.Header, *tar.Reader, error) {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, nil, errNoContent
		}
		if err != nil {
			return nil, nil, err
		}
		if tree.Clean(hdr.Name) != p {
			continue
		}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeLink {
			return hdr, tr, nil
		}
		return nil, nil, errNoContent
	}
}

// entryReader reads one tar entry and closes the layer under it.
type entryReader struct {
	r io.Reader
	c io.Closer
}

func (e entryReader) Read(b []byte) (int, error) { return e.r.Read(b) }
func (e entryReader) Close() error               { return e.c.Close() }
