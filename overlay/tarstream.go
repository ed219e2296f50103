package overlay

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
)

// The reading side. A goroutine reads r (decompressing, when r is a
// decompressor) and parses the tar, handing headers and content over in
// batches: the content of many small files shares one arena, so that a
// channel operation serves hundreds of entries. At most batchCount batches
// exist, which bounds how far the reading runs ahead.
const (
	readBufSize = 64 << 10  // the buffer between r and the tar reader
	batchSize   = 256 << 10 // content bytes, and about as many header bytes, per batch
	batchPieces = 1024
	batchCount  = 4
	headerCost  = 512 // what a header costs beyond its strings
)

// piece is an entry's header or a part of its content.
type piece struct {
	hdr  *tar.Header // an entry's first piece; nil for content
	data []byte      // content, in the batch's arena
	end  bool        // nothing of this entry follows
}

// batch is the pieces read in one go; err follows them: io.EOF at the end
// of r, or the error that stopped the reading.
type batch struct {
	pieces  []piece
	arena   []byte
	hdrSize int
	err     error
}

// reader hands the parsed tar over to the unpacking goroutine.
type reader struct {
	full chan *batch
	free chan *batch
	stop chan struct{}
	done chan struct{}
	cur  *batch // the batch being consumed
	i    int    // next piece of cur
}

// startReading starts reading the tar from r.
func startReading(r io.Reader) *reader {
	rd := &reader{
		full: make(chan *batch, batchCount), // never blocks: holds every batch
		free: make(chan *batch, batchCount),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range batchCount {
		rd.free <- &batch{arena: make([]byte, 0, batchSize)}
	}
	go rd.run(r)
	return rd
}

// close stops the reading and waits until r is no longer read.
func (rd *reader) close() {
	close(rd.stop)
	<-rd.done
}

// next returns the next piece, in the order of the tar.
func (rd *reader) next() (piece, error) {
	for rd.cur == nil || rd.i == len(rd.cur.pieces) {
		if b := rd.cur; b != nil {
			if b.err != nil {
				return piece{}, b.err
			}
			clear(b.pieces)
			b.pieces, b.arena, b.hdrSize = b.pieces[:0], b.arena[:0], 0
			rd.free <- b
		}
		rd.cur, rd.i = <-rd.full, 0
	}
	rd.i++
	return rd.cur.pieces[rd.i-1], nil
}

// get returns an empty batch, or nil when the reading is to stop.
func (rd *reader) get() *batch {
	select {
	case b := <-rd.free:
		return b
	case <-rd.stop:
		return nil
	}
}

// run reads the tar from r until its end, an error, or close.
func (rd *reader) run(r io.Reader) {
	defer close(rd.done)
	src := &sourceReader{r: r}
	br := bufio.NewReaderSize(src, readBufSize)
	tr := tar.NewReader(br)
	b := rd.get()
	if b == nil {
		return
	}
	prev := ""
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		// With GODEBUG=tarinsecurepath=0 Next flags names it dislikes; the
		// name rules of Unpack are stricter, so go on with the header.
		if err != nil && (hdr == nil || !errors.Is(err, tar.ErrInsecurePath)) {
			b.err = src.classify(err, prev)
			rd.full <- b
			return
		}
		if b.hdrSize >= batchSize || len(b.pieces) >= batchPieces {
			rd.full <- b
			if b = rd.get(); b == nil {
				return
			}
		}
		var size int64
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeGNUSparse {
			size = hdr.Size
		}
		b.pieces = append(b.pieces, piece{hdr: hdr, end: size == 0})
		b.hdrSize += headerCost + len(hdr.Name) + len(hdr.Linkname)
		for k, v := range hdr.PAXRecords {
			b.hdrSize += len(k) + len(v)
		}
		if b = rd.content(tr, src, b, size); b == nil {
			return
		}
		prev = hdr.Name
	}
	// Whatever follows the end-of-archive blocks is read too: a gzip or zstd
	// reader checks its CRC or checksum only when it reaches its own end.
	b.err = rd.drain(br)
	rd.full <- b
}

// content reads the size bytes of an entry's content into pieces, starting
// in b, and returns the batch to go on with: nil when the reading stops, on
// an error handed over or on close.
func (rd *reader) content(tr io.Reader, src *sourceReader, b *batch, size int64) *batch {
	for read := int64(0); read < size; {
		if len(b.arena) == cap(b.arena) || len(b.pieces) >= batchPieces {
			rd.full <- b
			if b = rd.get(); b == nil {
				return nil
			}
		}
		start := len(b.arena)
		n := int(min(size-read, int64(cap(b.arena)-start)))
		m, err := io.ReadFull(tr, b.arena[start:start+n])
		b.arena = b.arena[:start+m]
		read += int64(m)
		b.pieces = append(b.pieces, piece{data: b.arena[start : start+m], end: read == size})
		if err != nil {
			b.err = src.contentError(err, read, size)
			rd.full <- b
			return nil
		}
	}
	return b
}

// drain reads r to its end, returning io.EOF there, stopping early on close.
func (rd *reader) drain(r io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		select {
		case <-rd.stop:
			return io.EOF
		default:
		}
		_, err := r.Read(buf)
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return fmt.Errorf("read past end of tar: %w", err)
		}
	}
}

// sourceReader remembers the error of the reader under the tar, so that it
// can be told from an error the tar reader found in the bytes.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// classify wraps an error of tar.Reader.Next: the reader's own error as it
// is, anything else as ErrMalformed.
func (s *sourceReader) classify(err error, prev string) error {
	msg := "read tar header"
	if prev != "" {
		msg = fmt.Sprintf("read tar header after entry %q", prev)
	}
	if s.err != nil && errors.Is(err, s.err) {
		return fmt.Errorf("%s: %w", msg, err)
	}
	return &kindError{kind: ErrMalformed, msg: msg, cause: err}
}

// contentError wraps an error reading an entry's content after read of its
// size bytes: the reader's own error as it is, anything else as ErrMalformed.
func (s *sourceReader) contentError(err error, read, size int64) error {
	switch {
	case s.err != nil && errors.Is(err, s.err):
		return fmt.Errorf("read content: %w", err)
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return kindErrorf(ErrMalformed, "content ends after %d of %d bytes", read, size)
	}
	return &kindError{kind: ErrMalformed, msg: "read content", cause: err}
}
