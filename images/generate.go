package images

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/overlay"
)

// ingestGenerated stores the layer whose uncompressed tar write produces:
// its blob compressed with c, and its unpacked directory unless lazy (see
// lazy.go). The tar is unpacked as it streams from write and compressed
// on the way, so that a made layer is never decompressed again: for a
// commit of 10,000 files that second pass was a third of the time. When
// write fails, its error is the one returned. The caller holds the lock;
// on error nothing is left.
func (s *Store) ingestGenerated(write func(io.Writer) error, c Compression, lazy bool) (layerResult, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := write(pw)
		pw.CloseWithError(err)
		done <- err
	}()
	res, err := s.ingestTar(pr, c, lazy)
	pr.CloseWithError(io.ErrClosedPipe) // stop the writer if ingest failed early
	if werr := <-done; werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		return layerResult{}, werr
	}
	return res, err
}

// ingestTar reads an uncompressed layer tar from r and stores it as
// ingestGenerated says.
func (s *Store) ingestTar(r io.Reader, c Compression, lazy bool) (layerResult, error) {
	bw, err := s.newBlobWriter()
	if err != nil {
		return layerResult{}, err
	}
	pl := &pendingLayer{bw: bw, lazy: lazy}
	ok := false
	defer func() {
		if !ok {
			pl.discard()
		}
	}()
	zw, err := compressor(bw, c)
	if err != nil {
		return layerResult{}, err
	}
	if pl.tmp, err = s.tempDir("layer-"); err != nil {
		return layerResult{}, err
	}
	dh := sha256.New()
	counted := &countingReader{r: io.TeeReader(r, io.MultiWriter(dh, zw))}
	stats, err := s.applyTar(counted, pl.tmp, lazy)
	if err != nil {
		return layerResult{}, err
	}
	if err := zw.Close(); err != nil {
		return layerResult{}, fmt.Errorf("compress layer: %w", err)
	}
	diffID := digest.NewDigest(digest.SHA256, dh)
	pl.meta = LayerMeta{DiffID: diffID, TarSize: counted.n, ContentSize: stats.Bytes, Blob: bw.digest(), BlobMediaType: c.mediaType(), Stats: stats}
	pl.desc = ocispec.Descriptor{MediaType: c.mediaType(), Digest: bw.digest(), Size: bw.n}
	ok = true
	desc, err := pl.commit(s)
	return layerResult{desc: desc, diffID: diffID}, err
}

// applyTar unpacks the layer tar r into tmp/diff or, when lazy, only
// counts what it holds (overlay.Scan: what it refuses, Unpack refuses; the
// rest of Unpack's checks come when the layer is unpacked).
func (s *Store) applyTar(r io.Reader, tmp string, lazy bool) (overlay.UnpackStats, error) {
	if lazy {
		return overlay.Scan(r, s.unpackOptions())
	}
	dir := filepath.Join(tmp, "diff")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return overlay.UnpackStats{}, err
	}
	return overlay.Unpack(r, dir, s.unpackOptions())
}

// compressor writes to w compressed with c; Close flushes it, not w.
func compressor(w io.Writer, c Compression) (io.WriteCloser, error) {
	switch c {
	case Gzip:
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	}
	return nopCloser{w}, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
