package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// inMountNamespace runs fn on a thread of its own in a new, private mount
// namespace; the thread is thrown away afterwards, and its mounts with it.
func inMountNamespace(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			done <- fmt.Errorf("unshare: %w", err)
			return
		}
		if err := mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

func TestOverlayMountAPIs(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	base := t.TempDir()
	var lower []string
	for i := range 140 {
		l := filepath.Join(base, "layers", fmt.Sprintf("%03d", i))
		os.MkdirAll(l, 0o755)
		os.WriteFile(filepath.Join(l, fmt.Sprint(i)), nil, 0o644)
		os.WriteFile(filepath.Join(l, "top"), []byte(fmt.Sprint(i)), 0o644)
		lower = append(lower, l)
	}
	for _, tt := range []struct {
		name  string
		mount func(Overlay) error
	}{{"fsopen", mountOverlayFsopen}, {"legacy", mountOverlayLegacy}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(base, tt.name)
			o := Overlay{Lower: lower, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"), Target: filepath.Join(dir, "merged")}
			for _, d := range []string{o.Upper, o.Work, o.Target} {
				os.MkdirAll(d, 0o755)
			}
			var names []string
			var top string
			err := inMountNamespace(t, func() error {
				if err := tt.mount(o); err != nil {
					return err
				}
				ents, err := os.ReadDir(o.Target)
				if err != nil {
					return err
				}
				for _, e := range ents {
					names = append(names, e.Name())
				}
				b, err := os.ReadFile(filepath.Join(o.Target, "top"))
				top = string(b)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != 141 || top != "139" {
				t.Errorf("merged view has %d entries and top %q, want 141 and \"139\"", len(names), top)
			}
		})
	}
	t.Run("legacy refuses more than a page", func(t *testing.T) {
		long := make([]string, 140)
		for i := range long {
			long[i] = filepath.Join(base, strings.Repeat("x", 40)+fmt.Sprint(i))
		}
		err := mountOverlayLegacy(Overlay{Lower: long, Target: "/nonexistent"})
		if err == nil || !strings.Contains(err.Error(), "more than a page") {
			t.Errorf("got %v", err)
		}
	})
}

func TestCommonDir(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"/a/b/c", "/a/b/d"}, "/a/b"},
		{[]string{"/a/b/c", "/a/x/d"}, "/a"},
		{[]string{"/a/b", "/c/d"}, "/"},
		{[]string{"/a/bc/x", "/a/b/y"}, "/a"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ","), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, commonDir(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
