package images

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

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
func decompress(br *bufio.Reader) (io.Reader, Compression, func(), error) {
	c := sniff(br)
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, c, func() { zr.Close() }, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, c, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, c, zr.Close, nil
	}
	return br, c, func() {}, nil
}
