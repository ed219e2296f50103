package overlay

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"minidocker/internal/testutil"
)

// Shape of the benchmark layer: like one layer of a distribution image.
const (
	benchTopDirs = 50
	benchSubDirs = 20 // in each top directory
	benchFiles   = 18 // in each subdirectory
)

// benchLayer builds a layer tar of benchTopDirs*benchSubDirs directories
// holding benchFiles files of 1–4 KiB each, with some whiteouts, an opaque
// directory, symlinks and hardlinks. It returns the tar and its file count.
func benchLayer(tb testing.TB) ([]byte, int) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	content := make([]byte, 4096)
	for i := range content {
		content[i] = byte(rng.IntN(256))
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	add := func(h *tar.Header, body []byte) {
		h.ModTime = mtime
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			tb.Fatal(err)
		}
	}
	dir := func(name string) { add(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}, nil) }
	files := 0
	dir("usr/")
	dir("usr/share/")
	for top := range benchTopDirs {
		t := fmt.Sprintf("usr/share/pkg%02d/", top)
		dir(t)
		for sub := range benchSubDirs {
			d := fmt.Sprintf("%sdoc%02d/", t, sub)
			dir(d)
			for f := range benchFiles {
				size := 1024 + rng.IntN(3072)
				mode := int64(0o644)
				if f%9 == 0 {
					mode = 0o755
				}
				name := d + "file" + strconv.Itoa(f) + ".txt"
				add(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(size), Uid: 0, Gid: 0}, content[:size])
				files++
			}
			add(&tar.Header{Typeflag: tar.TypeSymlink, Name: d + "latest", Linkname: "file0.txt"}, nil)
			add(&tar.Header{Typeflag: tar.TypeLink, Name: d + "copy", Linkname: d + "file1.txt"}, nil)
			if sub%10 == 0 {
				add(&tar.Header{Typeflag: tar.TypeReg, Name: d + ".wh.removed" + strconv.Itoa(sub)}, nil)
			}
		}
	}
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "usr/share/pkg00/.wh..wh..opq"}, nil)
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), files
}

// BenchmarkUnpack unpacks benchLayer into a fresh directory, from the tar
// and through a gzip reader as a layer blob would be. Making the directory
// and removing the tree are outside the timer.
func BenchmarkUnpack(b *testing.B) {
	testutil.RequireRoot(b)
	layer, files := benchLayer(b)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(layer)
	zw.Close()
	for _, bc := range []struct {
		name   string
		reader func() (io.Reader, error)
	}{
		{"tar", func() (io.Reader, error) { return bytes.NewReader(layer), nil }},
		{"gzip", func() (io.Reader, error) { return gzip.NewReader(bytes.NewReader(gz.Bytes())) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			base := b.TempDir()
			b.SetBytes(int64(len(layer)))
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				dir := filepath.Join(base, strconv.Itoa(i))
				if err := os.Mkdir(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				r, err := bc.reader()
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := Unpack(r, dir, UnpackOptions{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
