// Command synth writes the synthetic image the benchmarks use: a
// docker-archive of three gzip layers holding about 54,000 small files, 1,000
// whiteouts and an opaque directory. The same seed gives the same bytes.
//
//	go run ./scripts/synth -o synth.tar [-layers DIR]
//
// With -layers, the three layer blobs are also written there as
// layer1.tar.gz … for "tar -xzf" to unpack in the same benchmark.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

var mtime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// layer builds one layer tar in memory.
type layer struct {
	buf  bytes.Buffer
	tw   *tar.Writer
	rng  *rand.Rand
	dirs map[string]bool
}

func newLayer(seed uint64) *layer {
	l := &layer{rng: rand.New(rand.NewPCG(seed, 7)), dirs: map[string]bool{}}
	l.tw = tar.NewWriter(&l.buf)
	return l
}

func (l *layer) dir(name string) {
	if l.dirs[name] || name == "." {
		return
	}
	l.dir(filepath.Dir(name))
	l.dirs[name] = true
	l.must(l.tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}))
}

var words = strings.Fields("the layer of a container image holds files that the kernel merges with overlayfs upper lower whiteout opaque copy up")

// file writes a small text-like file of 100 B to 4 KiB.
func (l *layer) file(name string) {
	l.dir(filepath.Dir(name))
	n := 100 + l.rng.IntN(4000)
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[l.rng.IntN(len(words))])
		if l.rng.IntN(9) == 0 {
			fmt.Fprintf(&b, " %d\n", l.rng.Uint32())
		} else {
			b.WriteByte(' ')
		}
	}
	body := b.String()[:n]
	l.must(l.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(n), ModTime: mtime, Format: tar.FormatPAX}))
	_, err := io.WriteString(l.tw, body)
	l.must(err)
}

func (l *layer) empty(name string) {
	l.dir(filepath.Dir(name))
	l.must(l.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX}))
}

func (l *layer) must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

// blob is a finished layer: gzip bytes and both digests.
type blob struct {
	gz             []byte
	digest, diffID string
}

func (l *layer) finish() blob {
	l.must(l.tw.Close())
	raw := l.buf.Bytes()
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	zw.Write(raw)
	l.must(zw.Close())
	return blob{gz: gz.Bytes(), digest: sha(gz.Bytes()), diffID: sha(raw)}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func main() {
	out := flag.String("o", "synth.tar", "the docker-archive to write")
	layersDir := flag.String("layers", "", "also write the gzip layers here")
	flag.Parse()

	// Layer 1: 30,000 files in 600 packages.
	l1 := newLayer(1)
	for p := range 600 {
		for f := range 50 {
			l1.file(fmt.Sprintf("usr/lib/pkg%03d/file%02d.txt", p, f))
		}
	}
	// Layer 2: 20,000 new files, 1,000 whiteouts of layer-1 files, and
	// usr/lib/pkg000 made opaque with new content.
	l2 := newLayer(2)
	l2.dir("usr/lib/pkg000")
	l2.empty("usr/lib/pkg000/.wh..wh..opq")
	for f := range 20 {
		l2.file(fmt.Sprintf("usr/lib/pkg000/new%02d.txt", f))
	}
	for i := range 1000 {
		p, f := 1+i/10, i%10
		l2.empty(fmt.Sprintf("usr/lib/pkg%03d/.wh.file%02d.txt", p, f))
	}
	for p := range 400 {
		for f := range 50 {
			l2.file(fmt.Sprintf("opt/app%03d/data%02d.txt", p, f))
		}
	}
	// Layer 3: 4,000 changed files over layer 1 and 2, each once (a path
	// twice in one layer tar is refused by podman's storage).
	l3 := newLayer(3)
	for i := range 4000 {
		j := i / 2
		if i%2 == 0 {
			l3.file(fmt.Sprintf("usr/lib/pkg%03d/file%02d.txt", 300+j/40, 10+j%40))
		} else {
			l3.file(fmt.Sprintf("opt/app%03d/data%02d.txt", j/50, j%50))
		}
	}
	blobs := []blob{l1.finish(), l2.finish(), l3.finish()}

	created := mtime.Format(time.RFC3339)
	cfg := map[string]any{
		"architecture": "amd64", "os": "linux", "created": created,
		"config": map[string]any{"Cmd": []string{"/bin/sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{blobs[0].diffID, blobs[1].diffID, blobs[2].diffID}},
		"history": []map[string]any{
			{"created": created, "created_by": "synth: 30,000 files in 600 packages"},
			{"created": created, "created_by": "synth: 20,000 files, 1,000 whiteouts, an opaque dir"},
			{"created": created, "created_by": "synth: 4,000 changed files"},
		},
	}
	cb, _ := json.Marshal(cfg)
	cfgName := "blobs/sha256/" + strings.TrimPrefix(sha(cb), "sha256:")
	var layerNames []string
	for _, b := range blobs {
		layerNames = append(layerNames, "blobs/sha256/"+strings.TrimPrefix(b.digest, "sha256:"))
	}
	mb, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"synth:latest"}, "Layers": layerNames}})

	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
	tw := tar.NewWriter(f)
	put := func(name string, b []byte) {
		l1.must(tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b)), ModTime: mtime}))
		_, err := tw.Write(b)
		l1.must(err)
	}
	put(cfgName, cb)
	for i, b := range blobs {
		put(layerNames[i], b.gz)
		if *layersDir != "" {
			l1.must(os.WriteFile(filepath.Join(*layersDir, fmt.Sprintf("layer%d.tar.gz", i+1)), b.gz, 0o644))
		}
	}
	put("manifest.json", mb)
	l1.must(tw.Close())
	l1.must(f.Close())
}
