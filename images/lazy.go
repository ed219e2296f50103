package images

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"

	"minidocker/internal/human"
	"minidocker/overlay"
)

// A layer stored lazily (Derivation.Lazy) has its blob and its meta.json,
// with every figure of an unpacked layer, but no diff/ directory yet: a
// commit of 10,000 files spent two thirds of its time creating them on
// disk, for a layer that is often saved or run much later, if ever.
// LayerDirs unpacks it on first use. A layer is unpacked exactly when
// layers/<hex>/diff exists, and that directory only ever appears by a
// rename of a whole tree from tmp/, so a crash mid-unpack leaves the layer
// lazy, never half made.

// unpacked reports whether the stored layer diffID has its diff directory.
func (s *Store) unpacked(diffID digest.Digest) bool {
	fi, err := os.Lstat(s.LayerDir(diffID))
	return err == nil && fi.IsDir()
}

// unpackLazy unpacks those of img's layers, at the indexes in lazy, that
// are stored without their directory. It takes the store's lock and looks
// again under it: another process may have unpacked them meanwhile.
func (s *Store) unpackLazy(img Image, lazy []int) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	for _, i := range lazy {
		d := img.DiffIDs()[i]
		if s.unpacked(d) {
			continue
		}
		if err := s.unpackStored(img, i); err != nil {
			return fmt.Errorf("image %s: unpack layer %s: %w", img.ShortID(), d, err)
		}
		s.lazyUnpacks.Add(1)
	}
	return nil
}

// unpackStored unpacks layer i of img from its blob in the temp area, then
// moves it into place. The blob is the one the layer was stored from or,
// if that one is gone, the one img's manifest names: either is checked
// against the diffID. The caller holds the lock; on error nothing is left.
func (s *Store) unpackStored(img Image, i int) error {
	d := img.DiffIDs()[i]
	meta, err := s.Layer(d)
	if err != nil {
		return err
	}
	blob := meta.Blob
	if !s.HasBlob(blob) && i < len(img.Manifest.Layers) {
		blob = img.Manifest.Layers[i].Digest
	}
	tmp, err := s.tempDir("layer-")
	if err != nil {
		return err
	}
	defer removeAll(tmp)
	if err := s.unpackBlob(blob, d, filepath.Join(tmp, "diff")); err != nil {
		return err
	}
	if err := s.fillLayer(tmp, d); err != nil {
		return err
	}
	return s.linkLayer(d)
}

// unpackBlob unpacks the layer blob into dir, a directory it makes,
// checking that the blob hashes to its digest and its content to diffID.
// A blob that is not what its digest says is the cause of whatever its
// unpacking met, and is reported as such.
func (s *Store) unpackBlob(blob, diffID digest.Digest, dir string) error {
	f, err := s.OpenBlob(blob)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	bh := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(f, bh), 256<<10)
	dr, _, closeDR, err := decompress(br)
	if err == nil {
		defer closeDR()
		dh := sha256.New()
		_, err = overlay.Unpack(io.TeeReader(dr, dh), dir, s.unpackOptions())
		if got := digest.NewDigest(digest.SHA256, dh); err == nil && got != diffID {
			err = fmt.Errorf("blob %s decompresses to %s: %w", blob, got, ErrDigestMismatch)
		}
	}
	// Read what is left, so the blob's digest covers it all.
	if _, rerr := io.Copy(io.Discard, br); rerr != nil {
		return errors.Join(err, fmt.Errorf("read blob %s: %w", blob, rerr))
	}
	if got := digest.NewDigest(digest.SHA256, bh); got != blob {
		return fmt.Errorf("blob %s: content hashes to %s: %w", blob, got, ErrDigestMismatch)
	}
	return err
}

// fillLayer moves the unpacked tree tmp/diff into the stored layer diffID
// when that layer has no diff directory yet, and records when in its
// meta.json. Without tmp/diff, or with the layer unpacked already, it does
// nothing. The caller holds the lock.
func (s *Store) fillLayer(tmp string, diffID digest.Digest) error {
	src := filepath.Join(tmp, "diff")
	if s.unpacked(diffID) {
		return nil
	}
	if _, err := os.Lstat(src); err != nil {
		return nil
	}
	if err := os.Rename(src, s.LayerDir(diffID)); err != nil {
		return fmt.Errorf("place layer %s: %w", diffID, err)
	}
	if err := syncDir(filepath.Dir(s.LayerDir(diffID))); err != nil {
		return err
	}
	meta, err := s.readLayerMeta(diffID)
	if err != nil {
		return err
	}
	meta.Unpacked = time.Now().UTC()
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	// Not durable: the directory says the layer is unpacked; the time is only told.
	return writeFileAtomicNoSync(s.path("layers", diffID.Encoded(), "meta.json"), b, 0o600)
}

// unpackOptions are the store's limits in overlay's terms.
func (s *Store) unpackOptions() overlay.UnpackOptions {
	return overlay.UnpackOptions{MaxBytes: s.unpack.MaxBytes, MaxEntries: s.unpack.MaxEntries}
}

// scanTar reads the layer tar r to its end and counts its entries as
// overlay.Unpack counts them, writing nothing: the figures of a lazily
// stored layer. It refuses what the counting meets and Unpack would refuse
// (a name escaping the layer or misusing a whiteout, a device node, the
// store's limits); the rest of Unpack's checks come when the layer is
// unpacked.
func scanTar(r io.Reader, lim UnpackLimits) (overlay.UnpackStats, error) {
	var st overlay.UnpackStats
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, fmt.Errorf("read layer tar: %w", err)
		}
		st.Entries++
		if lim.MaxEntries > 0 && st.Entries > lim.MaxEntries {
			err = fmt.Errorf("%w: layer has more than %d entries", overlay.ErrLimit, lim.MaxEntries)
		} else {
			err = countEntry(&st, hdr)
		}
		if err == nil && lim.MaxBytes > 0 && st.Bytes > lim.MaxBytes {
			err = fmt.Errorf("%w: layer content over %d bytes", overlay.ErrLimit, lim.MaxBytes)
		}
		if err != nil {
			return st, fmt.Errorf("entry \"%s\": %w", human.Visible(hdr.Name), err)
		}
	}
	// What follows the end of the archive is part of the tar's diffID too.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return st, fmt.Errorf("read layer tar: %w", err)
	}
	return st, nil
}

// countEntry adds one tar entry to st by the rules of overlay.Unpack: the
// name first (the root, aufs metadata, a whiteout, an opaque marker), then
// the type.
func countEntry(st *overlay.UnpackStats, hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	p, err := entryPath(hdr.Name)
	if err != nil {
		return err
	}
	if p == "." {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("%w: entry names the layer root", overlay.ErrUnsafePath)
		}
		st.Dirs++
		return nil
	}
	dir, base := path.Split(p)
	for c := range strings.SplitSeq(strings.TrimSuffix(dir, "/"), "/") {
		if strings.HasPrefix(c, ".wh..wh.") {
			return nil // inside aufs metadata, skipped
		}
		if strings.HasPrefix(c, ".wh.") {
			return fmt.Errorf("%w: whiteout name used as a directory", overlay.ErrUnsafePath)
		}
	}
	switch name, isWhiteout := strings.CutPrefix(base, ".wh."); {
	case base == ".wh..wh..opq":
		st.Opaques++
	case strings.HasPrefix(base, ".wh..wh."):
		// aufs metadata, skipped
	case isWhiteout && (name == "" || name == "." || name == ".."):
		return fmt.Errorf("%w: whiteout names no file", overlay.ErrUnsafePath)
	case isWhiteout:
		st.Whiteouts++
	default:
		return countType(st, hdr)
	}
	return nil
}

// countType counts an entry that is neither a whiteout nor a marker.
func countType(st *overlay.UnpackStats, hdr *tar.Header) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		st.Dirs++
	case tar.TypeReg, tar.TypeGNUSparse:
		st.Files++
		st.Bytes += hdr.Size
	case tar.TypeSymlink:
		st.Symlinks++
	case tar.TypeLink:
		st.Hardlinks++
	case tar.TypeFifo:
	case tar.TypeChar, tar.TypeBlock:
		return fmt.Errorf("%w: device node %d:%d not supported", overlay.ErrUnsupported, hdr.Devmajor, hdr.Devminor)
	default:
		return fmt.Errorf("%w: entry type %q not supported", overlay.ErrUnsupported, hdr.Typeflag)
	}
	return nil
}

// entryPath cleans a tar name as overlay.Unpack does: relative to the
// layer root, "." for the root itself.
func entryPath(name string) (string, error) {
	n := strings.TrimPrefix(name, "/")
	for strings.HasPrefix(n, "./") {
		n = n[2:]
	}
	if n == "" || n == "." {
		return ".", nil
	}
	if !filepath.IsLocal(n) {
		return "", fmt.Errorf("%w: path escapes layer", overlay.ErrUnsafePath)
	}
	return filepath.Clean(n), nil
}
