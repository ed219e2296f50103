package layers

import (
	"os"
	"path/filepath"
	"testing"

	"minidocker/overlay"
)

// TestLowerNames checks that the names WatchUpper reads of the lower
// layers say "none there" only where ChangeAt finds nothing below: no
// layer holds the name, the directory is missing, or a file stands where a
// directory would. A directory that cannot be read in the layer (here, a
// symlink aimed out of it) may hold anything: ChangeAt decides.
func TestLowerNames(t *testing.T) {
	dir := t.TempDir()
	l0, l1, up := filepath.Join(dir, "l0"), filepath.Join(dir, "l1"), filepath.Join(dir, "up")
	for _, p := range []string{"l0/etc/hosts", "l0/tmp/a", "l1/tmp/b", "l1/usr/lib/libc.so",
		"up/etc/hosts", "up/tmp/a", "up/tmp/b", "up/tmp/c", "up/nodir/x", "up/x", "up/lib/libc.so",
		"up/host/passwd"} {
		mkfile(t, filepath.Join(dir, p))
	}
	// merged /usr: /lib is a symlink in the layer above /usr/lib
	if err := os.Symlink("usr/lib", filepath.Join(l1, "lib")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(l1, "host")); err != nil {
		t.Fatal(err)
	}
	lower := []string{l0, l1}
	names := lowerNames{dirs: lower, names: map[string]map[string]bool{}}
	for p, want := range map[string]bool{
		"/etc/hosts": true, "/tmp/a": true, "/tmp/b": true, "/tmp/c": false, "/nodir/x": false,
		"/x": false, "/etc/hosts/x": false, "/lib": true, "/lib/libc.so": true, "/host/passwd": true,
	} {
		got := names.mayHold(p)
		if got != want {
			t.Errorf("mayHold(%s) = %v, want %v", p, got, want)
		}
		c, ok, err := overlay.ChangeAt(up, lower, p)
		if err != nil {
			t.Fatalf("change at %s: %v", p, err)
		}
		if ok && !got && c.Lower >= 0 {
			t.Errorf("mayHold(%s) = false, but layer %d holds it", p, c.Lower)
		}
	}
	if len(names.names) != 7 {
		t.Errorf("read %d directories, want each of the 7 once: %v", len(names.names), names.names)
	}
	if set, ok := names.names["/host/"]; !ok || set != nil {
		t.Errorf("names of /host/ = %v, want nil for unknown", set)
	}
}

func mkfile(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}
