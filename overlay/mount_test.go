package overlay

import (
	"encoding/json"
	"errors"
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

func TestSpecPlan(t *testing.T) {
	fixed := []Option{{Key: "index", Value: "off"}, {Key: "redirect_dir", Value: "nofollow"}, {Key: "metacopy", Value: "off"}}
	opts := func(o ...Option) []Option { return append(o, fixed...) }
	tests := []struct {
		name string
		spec Spec
		want Plan
	}{{
		name: "one layer",
		spec: Spec{Lower: []string{"/l/0"}, Upper: "/c/upper", Work: "/c/work", Target: "/c/root"},
		want: Plan{Source: "overlay", FSType: "overlay", Target: "/c/root", Dir: "/l",
			Options: opts(Option{Key: "lowerdir+", Value: "/l/0"}, Option{Key: "upperdir", Value: "/c/upper"}, Option{Key: "workdir", Value: "/c/work"}),
			Data:    "lowerdir=0,upperdir=/c/upper,workdir=/c/work,index=off,redirect_dir=nofollow,metacopy=off"},
	}, {
		name: "layers top first, volatile last",
		spec: Spec{Lower: []string{"/s/a/0", "/s/b/1", "/s/a/2"}, Upper: "/u", Work: "/w", Target: "/t", Volatile: true},
		want: Plan{Source: "overlay", FSType: "overlay", Target: "/t", Dir: "/s",
			Options: append(opts(Option{Key: "lowerdir+", Value: "/s/a/2"}, Option{Key: "lowerdir+", Value: "/s/b/1"}, Option{Key: "lowerdir+", Value: "/s/a/0"},
				Option{Key: "upperdir", Value: "/u"}, Option{Key: "workdir", Value: "/w"}), Option{Key: "volatile", Flag: true}),
			Data: "lowerdir=a/2:b/1:a/0,upperdir=/u,workdir=/w,index=off,redirect_dir=nofollow,metacopy=off,volatile"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.spec.Plan()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no layers", func(t *testing.T) {
		if _, err := (Spec{Target: "/t"}).Plan(); !errors.Is(err, errNoLayers) {
			t.Errorf("got %v, want errNoLayers", err)
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

// inMountNamespace runs fn on a thread of its own in a new, private mount
// namespace; the thread is thrown away afterwards, and its mounts with it.
func inMountNamespace(fn func() error) error {
	done := make(chan error)
	go func() {
		// Never unlocked: the thread's working directory is its own now
		// (CLONE_FS: the legacy mount changes it), so the thread must die
		// with the goroutine. If it is the main thread, Go parks it instead:
		// it goes back to the test's mount namespace first (setns(2)), or
		// /proc/self would show the private one for the rest of the run.
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/mnt")
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			done <- fmt.Errorf("unshare: %w", err)
			return
		}
		defer func() { done <- errors.Join(err, unix.Setns(int(orig.Fd()), unix.CLONE_NEWNS)) }()
		if err = unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			err = fmt.Errorf("make / private: %w", err)
			return
		}
		err = fn()
	}()
	return <-done
}

// TestMountAPIs mounts 140 layers, more than mount(2)'s page holds as
// absolute paths, with both the new mount API and the legacy fallback.
func TestMountAPIs(t *testing.T) {
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
		mount func(Plan) error
	}{{"fsopen", mountNew}, {"legacy", mountLegacy}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(base, tt.name)
			s := Spec{Lower: lower, Upper: filepath.Join(dir, "upper"), Work: filepath.Join(dir, "work"), Target: filepath.Join(dir, "merged")}
			for _, d := range []string{s.Upper, s.Work, s.Target} {
				os.MkdirAll(d, 0o755)
			}
			p, err := s.Plan()
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			var top string
			err = inMountNamespace(func() error {
				if err := tt.mount(p); err != nil {
					return err
				}
				// The namespace may outlive this goroutine (a locked main
				// thread is parked, not ended): unmount here.
				defer unix.Unmount(s.Target, unix.MNT_DETACH)
				ents, err := os.ReadDir(s.Target)
				if err != nil {
					return err
				}
				for _, e := range ents {
					names = append(names, e.Name())
				}
				b, err := os.ReadFile(filepath.Join(s.Target, "top"))
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
		p, err := Spec{Lower: long, Target: "/nonexistent"}.Plan()
		if err != nil {
			t.Fatal(err)
		}
		if err := mountLegacy(p); err == nil || !strings.Contains(err.Error(), "more than a page") {
			t.Errorf("got %v", err)
		}
	})
}

// TestSpecJSON pins the JSON form that the engine's state files hold.
func TestSpecJSON(t *testing.T) {
	s := Spec{Lower: []string{"/l/0", "/l/1"}, Upper: "/c/upper", Work: "/c/work", Target: "/c/rootfs", Volatile: true}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"lower":["/l/0","/l/1"],"upper":"/c/upper","work":"/c/work","target":"/c/rootfs","volatile":true}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
