package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Blobs come from GET /v2/<repo>/blobs/<digest> on the authenticated
// transport. A blob is read once, as it arrives: into the store's temp area
// and, for a layer, through the decompressor into the unpacker at the same
// time (readLayer), so the download overlaps the unpack. Its digest and
// size are the store's to check (blobWriter), once, whatever the
// registry's headers say. A connection that drops mid-blob is picked up
// where it broke with a Range request, as docker does, a few times.

// maxResumes bounds how often one blob's download is resumed.
const maxResumes = 5

// blobReader reads a blob from the registry, resuming after a dropped
// connection. It fails once more than size bytes arrive.
type blobReader struct {
	ctx     context.Context
	client  *http.Client
	url     string
	size    int64
	off     int64
	body    io.ReadCloser
	resumes int
	// err is the reader's own failure, not its context's: the network's or
	// the registry's, which the decompressor and the unpacker that read
	// on would otherwise report as theirs.
	err error
	// progress, when set, is told how many bytes have arrived, and
	// whether the reader is resuming.
	progress func(off int64, resuming bool)
}

// blobURL is where the registry serves the blob d of r's repository.
func (r *remoteRepo) blobURL(d digest.Digest) string {
	repo := r.ref.Context()
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + "/blobs/" + d.String()}
	return u.String()
}

// openBlob starts the download of the blob d of size bytes.
func (r *remoteRepo) openBlob(ctx context.Context, d digest.Digest, size int64) *blobReader {
	return &blobReader{ctx: ctx, client: r.client, url: r.blobURL(d), size: size}
}

func (b *blobReader) Read(p []byte) (int, error) {
	n, err := b.read(p)
	if err != nil && err != io.EOF && b.ctx.Err() == nil {
		b.err = err
	}
	return n, err
}

func (b *blobReader) read(p []byte) (int, error) {
	for {
		if b.body == nil {
			if err := b.open(); err != nil {
				return 0, err
			}
		}
		n, err := b.body.Read(p)
		b.off += int64(n)
		if b.off > b.size {
			return n, fmt.Errorf("the registry sends more than %d bytes: %w", b.size, ErrSizeMismatch)
		}
		if n > 0 && b.progress != nil {
			b.progress(b.off, false)
		}
		switch {
		case err == nil:
			return n, nil
		case b.off == b.size:
			return n, io.EOF // all of it arrived, whatever the connection did next
		case err == io.EOF:
			err = io.ErrUnexpectedEOF
		}
		b.body.Close()
		b.body = nil
		if cerr := b.ctx.Err(); cerr != nil {
			return n, cerr
		}
		if b.resumes == maxResumes {
			return n, fmt.Errorf("connection lost %d times, at byte %d of %d: %w", maxResumes+1, b.off, b.size, err)
		}
		b.resumes++
		if b.progress != nil {
			b.progress(b.off, true)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// open sends the GET for the rest of the blob, from b.off. A registry that
// ignores the Range header sends it whole: what was read already is
// skipped.
func (b *blobReader) open() error {
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, b.url, nil)
	if err != nil {
		return err
	}
	if b.off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", b.off, b.size-1))
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	skip, err := b.check(resp)
	if err == nil && skip > 0 {
		_, err = io.CopyN(io.Discard, resp.Body, skip)
	}
	if err != nil {
		resp.Body.Close()
		return err
	}
	b.body = resp.Body
	return nil
}

// check checks the status and length of the answer to open, and says how
// many bytes of it to skip.
func (b *blobReader) check(resp *http.Response) (skip int64, err error) {
	from := int64(0)
	switch {
	case resp.StatusCode == http.StatusPartialContent && b.off > 0:
		var end, total int64
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%d", &from, &end, &total); err != nil || from != b.off {
			return 0, fmt.Errorf("resume at byte %d: the registry answers with range \"%s\"", b.off, resp.Header.Get("Content-Range"))
		}
	case resp.StatusCode == http.StatusOK:
		skip = b.off
	default:
		return 0, transport.CheckError(resp, http.StatusOK)
	}
	if n := resp.ContentLength; n >= 0 && n != b.size-from {
		return 0, fmt.Errorf("expected size %d, the registry sends %d: %w", b.size, from+n, ErrSizeMismatch)
	}
	return skip, nil
}

// Close ends the download.
func (b *blobReader) Close() error {
	if b.body == nil {
		return nil
	}
	err := b.body.Close()
	b.body = nil
	return err
}

// fetchSmall fetches the small blob d (a config) whole, checked by size
// and digest; where names it in errors.
func (r *remoteRepo) fetchSmall(ctx context.Context, d ocispec.Descriptor, where string) ([]byte, error) {
	br := r.openBlob(ctx, d.Digest, d.Size)
	defer br.Close()
	b, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", where, d.Digest, err)
	}
	if got := digest.FromBytes(b); got != d.Digest {
		return nil, fmt.Errorf("%s %s: expected digest %s, found %s: %w", where, d.Digest, d.Digest, got, ErrDigestMismatch)
	}
	return b, nil
}

// fetchLayers downloads, checks and unpacks the layers reads, jobs at a
// time, lowest first, and places each in the store as soon as it is
// whole: a pull that stops half-way keeps the layers it finished, and the
// next one does not fetch them again. It sets each read's desc. The first
// error stops the others; the caller holds the lock.
func (s *Store) fetchLayers(parent context.Context, r *remoteRepo, reads []layerRead, jobs int, report func(read int, done int64, st LayerState)) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	next := make(chan int)
	errs := make([]error, len(reads))
	done := make(chan struct{})
	for range min(jobs, len(reads)) {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range next {
				reads[i].desc, errs[i] = s.fetchLayer(ctx, r, reads[i], func(n int64, st LayerState) { report(i, n, st) })
				if errs[i] != nil {
					cancel()
					continue
				}
				report(i, reads[i].src.desc.Size, LayerDone)
			}
		}()
	}
	for i := range reads {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	for range min(jobs, len(reads)) {
		<-done
	}
	// The error that stopped the others, not the cancellations it caused.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return parent.Err() // stopped before some layers started
}

// fetchLayer downloads the layer rd through readLayer and places it. A
// blob already in the store (a pull stopped after placing it and before
// its layer) is read from there.
func (s *Store) fetchLayer(ctx context.Context, r *remoteRepo, rd layerRead, report func(int64, LayerState)) (ocispec.Descriptor, error) {
	want := rd.src.desc
	if f, err := s.OpenBlob(want.Digest); err == nil {
		defer f.Close()
		pl, err := s.readLayer(f, want, rd.diffID, rd.src.where)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		return pl.commit(s)
	}
	ctx, cancel := context.WithCancel(ctx)
	br := r.openBlob(ctx, want.Digest, want.Size)
	br.progress = func(off int64, resuming bool) {
		st := LayerFetching
		if resuming {
			st = LayerResuming
		}
		report(off, st)
	}
	// The network is read a few blocks ahead of the unpack; cancel stops
	// a read under way, so that Close does not wait on the network.
	ra := newReadAhead(br, 8, 256<<10)
	pl, err := s.readLayer(ra, want, rd.diffID, rd.src.where)
	cancel()
	ra.Close()
	br.Close()
	if err != nil {
		if br.err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("%s: %w", rd.src.where, br.err)
		}
		return ocispec.Descriptor{}, err
	}
	return pl.commit(s)
}
