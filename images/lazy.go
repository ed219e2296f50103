package images

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"

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
func (s *Store) unpackOptions() overlay.UnpackOptions { return s.unpack.options() }

// options are the limits l in overlay's terms.
func (l UnpackLimits) options() overlay.UnpackOptions {
	return overlay.UnpackOptions{MaxBytes: l.MaxBytes, MaxEntries: l.MaxEntries}
}
