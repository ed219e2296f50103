package overlay

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzUnpack unpacks arbitrary bytes as a layer tar: whatever they hold,
// Unpack must not panic and nothing may appear, change or vanish beside the
// target. The seeds in testdata/fuzz/FuzzUnpack hold whiteouts, escapes
// through symlinks and dot dot, hardlinks, replacements and PAX records.
//
// One parent directory serves every input of a fuzzing process, on tmpfs
// when /dev/shm is one: making and removing a fresh temporary directory per
// input on a disk costs ten times the unpack, and the fuzzer minimizes every
// new input it finds, running it thousands of times.
func FuzzUnpack(f *testing.F) {
	f.Add([]byte{})
	f.Add(buildTar(f, []tarEntry{tDir("d/"), tFile("d/f", "x"), tSym("d/l", "../outside"), tFile("d/l/victim", "x")}, ""))
	parent := fastTempDir(f)
	out := plantOutside(f, parent)
	root := filepath.Join(parent, "root")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := os.RemoveAll(root); err != nil {
				makeWritable(root)
				if err := os.RemoveAll(root); err != nil {
					t.Fatal(err)
				}
			}
		}()
		Unpack(bytes.NewReader(data), root, UnpackOptions{MaxBytes: 1 << 20, MaxEntries: 1 << 10})
		checkOutside(t, root, out)
	})
}

// fastTempDir returns a new temporary directory on the tmpfs at /dev/shm if
// there is one, else in the usual place.
func fastTempDir(f *testing.F) string {
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		return f.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "minidocker-fuzz-")
	if err != nil {
		return f.TempDir()
	}
	f.Cleanup(func() {
		makeWritable(dir)
		if err := os.RemoveAll(dir); err != nil {
			f.Error(err)
		}
	})
	return dir
}
