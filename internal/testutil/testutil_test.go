package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestMountPoints(t *testing.T) {
	const table = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
36 22 0:31 / /tmp/TestX123 rw - tmpfs x rw
37 36 0:32 / /tmp/TestX123/001/a\040b rw - tmpfs x rw
38 36 0:33 / /tmp/TestX123/001/a\040b rw - tmpfs x rw
39 22 0:34 / /tmp/TestX1234/001 rw - tmpfs x rw
40 22 0:35 / /tmp/other\134dir rw - tmpfs x rw
`
	tests := []struct {
		name  string
		roots []string
		want  []string
	}{
		{"the test's directory", []string{"/tmp/TestX123"}, []string{"/tmp/TestX123", "/tmp/TestX123/001/a b", "/tmp/TestX123/001/a b"}},
		{"a sibling with the same prefix is not below", []string{"/tmp/TestX1234"}, []string{"/tmp/TestX1234/001"}},
		{"backslash", []string{`/tmp/other\dir`}, []string{`/tmp/other\dir`}},
		{"two roots", []string{"/tmp/TestX1234", `/tmp/other\dir`}, []string{"/tmp/TestX1234/001", `/tmp/other\dir`}},
		{"none", []string{"/srv"}, nil},
		{"all", []string{"/"}, []string{"/", "/tmp/TestX123", "/tmp/TestX123/001/a b", "/tmp/TestX123/001/a b", "/tmp/TestX1234/001", `/tmp/other\dir`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, mountPoints(table, tt.roots)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestChanges(t *testing.T) {
	tests := []struct {
		name                string
		before, after       []string
		wantAdded, wantGone []string
	}{
		{"same", []string{"/a", "/b"}, []string{"/a", "/b"}, nil, nil},
		{"added", []string{"/a"}, []string{"/a", "/b"}, []string{"/b"}, nil},
		{"gone", []string{"/a", "/b"}, []string{"/a"}, nil, []string{"/b"}},
		{"stacked once more", []string{"/a"}, []string{"/a", "/a"}, []string{"/a"}, nil},
		{"one of a stack gone", []string{"/a", "/a"}, []string{"/a"}, nil, []string{"/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, gone := changes(tt.before, tt.after)
			if diff := cmp.Diff(tt.wantAdded, added); diff != "" {
				t.Errorf("added (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantGone, gone); diff != "" {
				t.Errorf("gone (-want +got):\n%s", diff)
			}
		})
	}
}

// recorder is a test whose errors and cleanups are kept, to be looked at.
type recorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// end runs the cleanups, last first, as a test's end does.
func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// TestCheckMounts checks that a mount left under the test's directory
// fails it and that one elsewhere, as another program on the host makes,
// does not.
func TestCheckMounts(t *testing.T) {
	RequireRoot(t)
	elsewhere, err := os.MkdirTemp("", "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(elsewhere) })
	mount := func(t *testing.T, dir string) {
		t.Helper()
		if err := unix.Mount("testutil", dir, "tmpfs", 0, ""); err != nil {
			t.Fatalf("mount tmpfs on %s: %v", dir, err)
		}
		t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	}
	tests := []struct {
		name    string
		mount   func(t *testing.T, tmp string)
		wantErr bool
	}{
		{"nothing left", func(*testing.T, string) {}, false},
		{"another program's mount", func(t *testing.T, _ string) { mount(t, elsewhere) }, false},
		{"left in the test's directory", func(t *testing.T, tmp string) { mount(t, filepath.Join(tmp, "001")) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			CheckMounts(r)
			tt.mount(t, filepath.Dir(r.TempDir()))
			r.end()
			if got := len(r.errs) > 0; got != tt.wantErr {
				t.Errorf("errors %q, want any: %v", r.errs, tt.wantErr)
			}
		})
	}
}
