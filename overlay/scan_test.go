package overlay

import (
	"archive/tar"
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// scanCase is one layer tar that Scan must count and refuse as Unpack does.
type scanCase struct {
	name    string
	tar     []byte
	opts    UnpackOptions
	wantErr error // a sentinel, or nil for success
}

// scanCases holds a layer of every kind of entry the counts tell apart and
// one layer for each refusal that Scan shares with Unpack.
func scanCases(t *testing.T) []scanCase {
	aufs := ".wh..wh." + "plnk"
	mixed := []tarEntry{
		{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}}},
		tDir("./"), tDir("etc/"), tFile("etc/hosts", "127.0.0.1\n"), tLink("etc/hosts2", "etc/hosts"),
		tSym("hosts", "/etc/hosts"), {hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "run/fifo", Mode: 0o600}},
		tDir("usr/"), tDir("usr/"), tFile("usr/a", "aaaa"), tFile("usr/a", "replaced"), tWhiteout(".", "gone"),
		tWhiteout("usr", "old"), tFile("usr/.wh..wh..opq", ""), tDir(aufs + "/"), tFile(aufs+"/7", "x"),
		tFile("big", strings.Repeat("b", 70000)),
		with(tFile("x", "x"), xattrRecords("user.a", "1", "user.b", "")),
	}
	tarOf := func(entries ...tarEntry) []byte { return buildTar(t, entries, "") }
	three := tarOf(tFile("a", "0123456789"), tFile("b", "0123456789"), tDir("c/"))
	valid := tarOf(tDir("d/"), tFile("d/f", strings.Repeat("x", 600)))
	badSum := bytes.Clone(valid)
	badSum[148] ^= 1 // header checksum
	return []scanCase{
		{"mixed", buildTar(t, mixed, ""), UnpackOptions{}, nil},
		{"empty", tarOf(), UnpackOptions{}, nil},
		{"nothing at all", nil, UnpackOptions{}, nil},
		{"escape", tarOf(tFile("a", "x"), tFile("../x", "x")), UnpackOptions{}, ErrUnsafePath},
		{"control character", tarOf(tFile("a\nb", "x")), UnpackOptions{}, ErrUnsafePath},
		{"long name", tarOf(tFile(strings.Repeat("n", 256), "")), UnpackOptions{}, ErrUnsafePath},
		{"long path", tarOf(tFile(strings.Repeat("d/", 2048)+"f", "")), UnpackOptions{}, ErrUnsafePath},
		{"whiteout as dir", tarOf(tFile(".wh.a/b", "x")), UnpackOptions{}, ErrUnsafePath},
		{"whiteout of nothing", tarOf(tFile("d/.wh...", "")), UnpackOptions{}, ErrUnsafePath},
		{"root as file", tarOf(tFile(".", "")), UnpackOptions{}, ErrUnsafePath},
		{"owner out of range", tarOf(with(tFile("f", ""), func(h *tar.Header) { h.Uid = math.MaxUint32 })), UnpackOptions{}, ErrMalformed},
		{"trusted xattr", tarOf(with(tFile("f", ""), xattrRecords(opaqueXattr, "y"))), UnpackOptions{}, ErrUnsupported},
		{"char device", tarOf(tarEntry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "null", Mode: 0o666, Devmajor: 1, Devminor: 3}}), UnpackOptions{}, ErrUnsupported},
		{"block device", tarOf(tarEntry{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "sda", Mode: 0o660, Devmajor: 8}}), UnpackOptions{}, ErrUnsupported},
		{"unknown type", tarOf(tarEntry{hdr: tar.Header{Typeflag: 'Z', Name: "z", Mode: 0o644}}), UnpackOptions{}, ErrUnsupported},
		{"symlink without target", tarOf(tSym("s", "")), UnpackOptions{}, ErrMalformed},
		{"hardlink escaping", tarOf(tFile("a", "x"), tLink("b", "../a")), UnpackOptions{}, ErrUnsafePath},
		{"hardlink to itself", tarOf(tFile("a", "x"), tLink("./a", "a")), UnpackOptions{}, ErrUnsafePath},
		{"entries at the limit", three, UnpackOptions{MaxEntries: 3}, nil},
		{"entries over the limit", three, UnpackOptions{MaxEntries: 2}, ErrLimit},
		{"bytes at the limit", three, UnpackOptions{MaxBytes: 20}, nil},
		{"bytes over the limit", three, UnpackOptions{MaxBytes: 19}, ErrLimit},
		{"truncated in a header", valid[:512+100], UnpackOptions{}, ErrMalformed},
		{"truncated in content", valid[:1024+300], UnpackOptions{}, ErrMalformed},
		{"bad header checksum", badSum, UnpackOptions{}, ErrMalformed},
		{"data after the end", append(bytes.Clone(valid), "trailing"...), UnpackOptions{}, nil},
	}
}

// TestScanAsUnpack checks that Scan returns Unpack's counts and Unpack's
// error, to the letter, for every case.
func TestScanAsUnpack(t *testing.T) {
	testutil.RequireRoot(t) // whiteouts and opaque directories
	for _, tc := range scanCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Scan(bytes.NewReader(tc.tar), tc.opts)
			if !errors.Is(err, tc.wantErr) || tc.wantErr == nil && err != nil {
				t.Fatalf("Scan error %v, want %v", err, tc.wantErr)
			}
			root, out := newTarget(t)
			want, uerr := Unpack(bytes.NewReader(tc.tar), root, tc.opts)
			checkOutside(t, root, out)
			if errText(uerr) != errText(err) {
				t.Errorf("errors differ:\nUnpack %v\nScan   %v", uerr, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("counts (-Unpack +Scan):\n%s", diff)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestScanLeavesToUnpack checks the other side of Scan's promise: what only
// the entries before it make wrong is Unpack's to refuse.
func TestScanLeavesToUnpack(t *testing.T) {
	tests := []struct {
		name    string
		entries []tarEntry
	}{
		{"beneath a symlink", []tarEntry{tSym("l", "/etc"), tFile("l/passwd", "x")}},
		{"beneath a file", []tarEntry{tFile("f", "x"), tFile("f/g", "x")}},
		{"hardlink to nothing", []tarEntry{tLink("a", "b")}},
		{"hardlink to a directory", []tarEntry{tDir("d/"), tLink("a", "d")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			layer := buildTar(t, tc.entries, "")
			if _, err := Scan(bytes.NewReader(layer), UnpackOptions{}); err != nil {
				t.Errorf("Scan: %v", err)
			}
			root, out := newTarget(t)
			_, err := Unpack(bytes.NewReader(layer), root, UnpackOptions{})
			checkOutside(t, root, out)
			if !errors.Is(err, ErrUnsafePath) {
				t.Errorf("Unpack error %v, want ErrUnsafePath", err)
			}
		})
	}
}

// TestScanReadsToEnd checks that Scan reads what follows the tar's end, so
// that a decompressor beneath reports a bad checksum there.
func TestScanReadsToEnd(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(buildTar(t, []tarEntry{tFile("f", "content")}, ""))
	zw.Write([]byte("trailing"))
	zw.Close()
	b := gz.Bytes()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Scan(zr, UnpackOptions{}); err != nil {
		t.Fatalf("Scan of a sound gzip stream: %v", err)
	}
	b[len(b)-8] ^= 0xff // CRC-32 in the trailer
	if zr, err = gzip.NewReader(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	if _, err := Scan(zr, UnpackOptions{}); !errors.Is(err, gzip.ErrChecksum) {
		t.Fatalf("Scan error %v, want %v", err, gzip.ErrChecksum)
	}
}

// FuzzScan checks Scan against Unpack on arbitrary bytes: when Unpack
// accepts them Scan gives the same counts; when Scan refuses them Unpack
// refuses them too, with the same error unless it stopped on one of the
// checks that Scan leaves to it. The seeds are those of FuzzUnpack and
// testdata/fuzz/FuzzScan.
func FuzzScan(f *testing.F) {
	for _, seed := range corpus(f, "FuzzUnpack") {
		f.Add(seed)
	}
	opts := UnpackOptions{MaxBytes: 4096, MaxEntries: 16}
	parent := fastTempDir(f)
	out := plantOutside(f, parent)
	root := filepath.Join(parent, "root")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		defer func() {
			makeWritable(root)
			if err := os.RemoveAll(root); err != nil {
				t.Fatal(err)
			}
		}()
		got, err := Scan(bytes.NewReader(data), opts)
		want, uerr := Unpack(bytes.NewReader(data), root, opts)
		checkOutside(t, root, out)
		switch {
		case uerr == nil && err != nil:
			t.Fatalf("Scan: %v; Unpack accepts", err)
		case uerr == nil && got != want:
			t.Fatalf("counts (-Unpack +Scan):\n%s", cmp.Diff(want, got))
		case err != nil && errText(err) != errText(uerr) && !unpackOnly(uerr):
			t.Fatalf("errors differ:\nUnpack %v\nScan   %v", uerr, err)
		case uerr != nil && want.Entries > got.Entries:
			t.Fatalf("Unpack stopped at entry %d, Scan went to %d: %v", want.Entries, got.Entries, uerr)
		}
	})
}

// unpackOnly reports whether err comes from what Unpack checks and Scan
// does not: the entries before this one, or a system call. The messages
// are those of dirAt, prepare and hardlink.
func unpackOnly(err error) bool {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return true
	}
	for _, s := range []string{": parent ", ": hardlink to directory ", ", not an earlier file of this layer", ": replace directory: "} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

// corpus reads the []byte inputs of the seed corpus of the fuzz target
// name in testdata/fuzz.
func corpus(f *testing.F, name string) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if err != nil {
		f.Fatal(err)
	}
	var seeds [][]byte
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		lit, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "go test fuzz v1\n[]byte(")
		lit, ok2 := strings.CutSuffix(lit, ")")
		s, err := strconv.Unquote(lit)
		if !ok || !ok2 || err != nil {
			f.Fatalf("seed %s: not one []byte literal", file)
		}
		seeds = append(seeds, []byte(s))
	}
	return seeds
}
