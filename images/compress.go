package images

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Compression is how a layer blob is compressed.
type Compression int

// The compressions a layer blob may have.
const (
	Uncompressed Compression = iota
	Gzip
	Zstd
)

func (c Compression) String() string {
	return [...]string{"none", "gzip", "zstd"}[c]
}

// mediaType is the OCI layer media type for a blob of this compression.
func (c Compression) mediaType() string {
	switch c {
	case Gzip:
		return ocispec.MediaTypeImageLayerGzip
	case Zstd:
		return ocispec.MediaTypeImageLayerZstd
	}
	return ocispec.MediaTypeImageLayer
}

// sniff tells the compression of the stream behind br from its magic bytes.
func sniff(br *bufio.Reader) Compression {
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Gzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	}
	return Uncompressed
}

// decompress returns a reader of the uncompressed content behind br. Reading
// it to EOF checks the compression's own checksums (gzip CRC, zstd checksum).
// The decompressor's errors are *streamError, named by the compression.
func decompress(br *bufio.Reader) (io.Reader, Compression, func(), error) {
	c := sniff(br)
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, nil, &streamError{c, err}
		}
		return streamReader{zr, c}, c, func() { zr.Close() }, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, c, nil, &streamError{c, err}
		}
		return streamReader{zr, c}, c, zr.Close, nil
	}
	return br, c, func() {}, nil
}

// streamError is an error of a decompressor: the compressed stream is
// corrupt or cut short. Its message starts with the compression's name:
// "gzip: invalid checksum", "zstd: unexpected EOF".
type streamError struct {
	c   Compression
	err error
}

func (e *streamError) Error() string {
	msg := e.err.Error()
	if strings.HasPrefix(msg, e.c.String()+":") {
		return msg
	}
	return e.c.String() + ": " + msg
}

func (e *streamError) Unwrap() error { return e.err }

// streamReader names its decompressor's errors.
type streamReader struct {
	r io.Reader
	c Compression
}

func (s streamReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &streamError{s.c, err}
	}
	return n, err
}

// readAhead reads its source on a goroutine of its own, a few blocks ahead
// of its reader: decompressing and hashing a layer then overlap with parsing
// it, as "tar -xz" overlaps gzip and tar.
type readAhead struct {
	full, free chan []byte
	stop, done chan struct{}
	once       sync.Once
	cur, last  []byte
	err        error // set by fill before it closes full
}

func newReadAhead(r io.Reader, blocks, size int) *readAhead {
	ra := &readAhead{
		full: make(chan []byte, blocks), free: make(chan []byte, blocks),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	for range blocks {
		ra.free <- make([]byte, size)
	}
	go ra.fill(r)
	return ra
}

func (ra *readAhead) fill(r io.Reader) {
	defer close(ra.done)
	defer close(ra.full)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := io.ReadFull(r, buf[:cap(buf)])
		if n > 0 {
			select {
			case ra.full <- buf[:n]:
			case <-ra.stop:
				return
			}
		}
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			ra.err = err
			return
		}
	}
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for len(ra.cur) == 0 {
		if ra.last != nil {
			ra.free <- ra.last
			ra.last = nil
		}
		b, ok := <-ra.full
		if !ok {
			return 0, ra.err
		}
		ra.cur, ra.last = b, b
	}
	n := copy(p, ra.cur)
	ra.cur = ra.cur[n:]
	return n, nil
}

// Close stops the reading goroutine and waits for it, so the source is no
// longer read when Close returns.
func (ra *readAhead) Close() {
	ra.once.Do(func() { close(ra.stop) })
	<-ra.done
}
