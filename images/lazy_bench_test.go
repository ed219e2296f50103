package images

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minidocker/overlay"
)

// BenchmarkDerive10k stores as a layer a directory of 10,000 1-KiB files,
// packed as commit packs a container's upper directory: unpacked as it is
// made (eager), stored lazily (lazy), and, for comparison, tar -czf of the
// same directory. The store is under $TMPDIR: run it with TMPDIR=/dev/shm
// to see what the disk costs.
func BenchmarkDerive10k(b *testing.B) {
	src := filepath.Join(b.TempDir(), "upper")
	writeFiles(b, src, 100, 100, 1024)
	pack := func(w io.Writer) error { _, err := overlay.Pack(src, w, overlay.PackOptions{}); return err }
	for _, lazy := range []bool{false, true} {
		name := map[bool]string{false: "eager", true: "lazy"}[lazy]
		b.Run(name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				s := newStore(b)
				b.StartTimer()
				_, err := s.Derive(Derivation{Layer: pack, Compression: Gzip, Lazy: lazy, Created: time.Unix(int64(i), 0)}, []string{"c:1"})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				removeAll(s.Root())
				b.StartTimer()
			}
		})
	}
	b.Run("tar-czf", func(b *testing.B) {
		out := filepath.Join(b.TempDir(), "out.tgz")
		for b.Loop() {
			if o, err := exec.Command("tar", "-czf", out, "-C", src, ".").CombinedOutput(); err != nil {
				b.Fatalf("tar: %v: %s", err, o)
			}
		}
	})
}

// writeFiles fills root with dirs directories of files files of size
// bytes each, of text that compresses as source code does.
func writeFiles(b *testing.B, root string, dirs, files, size int) {
	for d := range dirs {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", d))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range files {
			line := fmt.Sprintf("file %d of directory %d: some text that repeats\n", f, d)
			body := strings.Repeat(line, size/len(line)+1)[:size]
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d", f)), []byte(body), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}
