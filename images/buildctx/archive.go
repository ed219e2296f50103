package buildctx

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// The magic numbers of the compressions ADD unpacks, as docker's archive
// package tells them apart.
var (
	magicGzip  = []byte{0x1f, 0x8b, 0x08}
	magicBzip2 = []byte{'B', 'Z', 'h'}
	magicXz    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// stream is the uncompressed content of a file that may be compressed.
type stream struct {
	io.Reader
	stop func() error // releases the decompressor
}

// decompress returns a reader of what f holds, uncompressed: gzip, bzip2
// and zstd in process, xz by the xz program, as docker's archive package
// runs it.
func decompress(f *os.File) (*stream, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(len(magicXz))
	none := func() error { return nil }
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		return &stream{zr, zr.Close}, nil
	case bytes.HasPrefix(head, magicBzip2):
		return &stream{bzip2.NewReader(br), none}, nil
	case bytes.HasPrefix(head, magicZstd):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		return &stream{zr, func() error { zr.Close(); return nil }}, nil
	case bytes.HasPrefix(head, magicXz):
		return unxz(br)
	}
	return &stream{br, none}, nil
}

// unxz runs xz -d over r.
func unxz(r io.Reader) (*stream, error) {
	cmd := exec.Command("xz", "-d", "-c", "-q")
	cmd.Stdin = r
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("xz archive: %w", err)
	}
	stop := func() error {
		out.Close() // an xz still writing gets SIGPIPE
		if err := cmd.Wait(); err != nil && stderr.Len() > 0 {
			return fmt.Errorf("xz: %s", bytes.TrimSpace(stderr.Bytes()))
		}
		return nil
	}
	return &stream{out, stop}, nil
}

// isArchive reports whether f holds a tar archive, maybe compressed: one
// whose first header reads, as BuildKit's ADD decides. A compressor that
// cannot run (no xz) is an error, as in BuildKit; a file that merely is
// not an archive is not.
func isArchive(f *os.File) (bool, error) {
	s, err := decompress(f)
	if errors.Is(err, exec.ErrNotFound) {
		return false, err
	}
	if err != nil {
		return false, nil
	}
	_, err = tar.NewReader(s).Next()
	s.stop()
	return err == nil, nil
}

// unpackIfArchive unpacks the source name in parent into dest when it is
// an archive, and reports whether it was.
func (cp *copier) unpackIfArchive(parent *os.File, name string, st *unix.Stat_t, s Source, rel string) (bool, error) {
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, nil
	}
	f, err := openReadAt(int(parent.Fd()), name, s.Rel)
	if err != nil {
		return false, err
	}
	defer f.Close()
	ok, err := isArchive(f)
	if !ok || err != nil {
		return false, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return true, fmt.Errorf("read %s: %w", quote(s.Path), err)
	}
	z, err := decompress(f)
	if err != nil {
		return true, fmt.Errorf("read %s: %w", quote(s.Path), err)
	}
	into, err := cp.t.mkdirAll(rel, cp.newOwner)
	if err != nil {
		return true, errors.Join(err, z.stop())
	}
	defer into.Close()
	u := &unpacker{cp: cp, dest: into, at: shown(rel)}
	err = u.run(tar.NewReader(z))
	if err == nil {
		// to the end, so that the decompressor checks its checksum
		_, err = io.Copy(io.Discard, z)
	}
	if err = errors.Join(err, z.stop()); err != nil {
		return true, fmt.Errorf("unpack %s: %w", quote(s.Path), err)
	}
	return true, nil
}
