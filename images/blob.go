package images

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"

	"minidocker/internal/human"
)

// blobPath returns where the blob with digest d lives.
func (s *Store) blobPath(d digest.Digest) string {
	return s.path("oci", "blobs", d.Algorithm().String(), d.Encoded())
}

// HasBlob reports whether the store holds the blob d.
func (s *Store) HasBlob(d digest.Digest) bool {
	if d.Validate() != nil {
		return false
	}
	_, err := os.Stat(s.blobPath(d))
	return err == nil
}

// OpenBlob opens the blob d for reading.
func (s *Store) OpenBlob(d digest.Digest) (*os.File, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("open blob %s: %w", human.Visible(string(d)), err)
	}
	f, err := os.Open(s.blobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	return f, err
}

// readJSONBlob decodes the blob d into v, checking its digest first.
func (s *Store) readJSONBlob(d digest.Digest, v any) error {
	f, err := s.OpenBlob(d)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxJSON+1))
	if err != nil {
		return fmt.Errorf("read blob %s: %w", d, err)
	}
	if len(b) > maxJSON {
		return fmt.Errorf("blob %s: larger than %d bytes", d, maxJSON)
	}
	if got := digest.FromBytes(b); got != d {
		return fmt.Errorf("blob %s: content hashes to %s: %w", d, got, ErrDigestMismatch)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode blob %s: %w", d, err)
	}
	return nil
}

// maxJSON bounds manifests, configs and indexes read into memory.
const maxJSON = 16 << 20

// blobWriter streams a new blob into the store's temp area, hashing as it goes.
type blobWriter struct {
	f    *os.File
	h    hash.Hash
	n    int64
	done bool
}

func (s *Store) newBlobWriter() (*blobWriter, error) {
	f, err := os.CreateTemp(s.path("tmp"), "blob-")
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &blobWriter{f: f, h: sha256.New()}, nil
}

func (w *blobWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

func (w *blobWriter) digest() digest.Digest { return digest.NewDigest(digest.SHA256, w.h) }

// check compares the content with want (when not empty) and its length
// with size (when not negative).
func (w *blobWriter) check(want digest.Digest, size int64) error {
	if want != "" {
		if got := w.digest(); got != want {
			return fmt.Errorf("expected digest %s, found %s: %w", want, got, ErrDigestMismatch)
		}
	}
	if size >= 0 && w.n != size {
		return fmt.Errorf("expected size %d, found %d: %w", size, w.n, ErrSizeMismatch)
	}
	return nil
}

// commit checks the content as check does, then places it.
func (w *blobWriter) commit(s *Store, want digest.Digest, size int64) (digest.Digest, int64, error) {
	defer w.discard()
	if err := w.check(want, size); err != nil {
		return "", 0, fmt.Errorf("blob %s: %w", w.digest(), err)
	}
	d, err := w.place(s)
	return d, w.n, err
}

// place renames the content into the store; a blob already present is kept.
func (w *blobWriter) place(s *Store) (digest.Digest, error) {
	defer w.discard()
	got := w.digest()
	if s.HasBlob(got) {
		return got, nil
	}
	if err := w.f.Sync(); err != nil {
		return "", fmt.Errorf("write blob %s: %w", got, err)
	}
	if err := w.f.Chmod(0o644); err != nil {
		return "", fmt.Errorf("write blob %s: %w", got, err)
	}
	dst := s.blobPath(got)
	if err := os.Rename(w.f.Name(), dst); err != nil {
		return "", fmt.Errorf("write blob %s: %w", got, err)
	}
	w.done = true
	return got, syncDir(filepath.Dir(dst))
}

// discard drops the temp file unless it was committed.
func (w *blobWriter) discard() {
	w.f.Close()
	if !w.done {
		os.Remove(w.f.Name())
		w.done = true
	}
}

// putBlob stores the bytes b and returns their digest.
func (s *Store) putBlob(b []byte) (digest.Digest, error) {
	d := digest.FromBytes(b)
	if s.HasBlob(d) {
		return d, nil
	}
	w, err := s.newBlobWriter()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(b); err != nil {
		w.discard()
		return "", fmt.Errorf("write blob %s: %w", d, err)
	}
	got, _, err := w.commit(s, d, int64(len(b)))
	return got, err
}

// putJSON marshals v and stores it as a blob.
func (s *Store) putJSON(v any) (digest.Digest, []byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", nil, err
	}
	d, err := s.putBlob(b)
	return d, b, err
}

// writeFileAtomic replaces name with data: a temp file, fsync, rename, fsync of the directory.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	return writeFile(name, data, perm, true)
}

// writeFileAtomicNoSync is writeFileAtomic without the fsyncs: the file is
// whole or absent, but may be lost in a crash.
func writeFileAtomicNoSync(name string, data []byte, perm os.FileMode) error {
	return writeFile(name, data, perm, false)
}

func writeFile(name string, data []byte, perm os.FileMode, durable bool) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return err
	}
	if !durable {
		return nil
	}
	return syncDir(dir)
}
