package lesson

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
	"minidocker/overlay"
)

// stack is an overlay mount of two lower layers made in code, as the
// engine mounts a container's root (index=off, redirect_dir=nofollow,
// metacopy=off): the kernel does the work of every change made through it.
type stack struct {
	env    Env
	merged string
}

// newStack mounts the fixture: layer 0 holds /app with files, a symlink
// /lnk to app, /app/gone.txt and /app/old/x; layer 1 deletes gone.txt with
// a whiteout and makes /app/old opaque with y in it.
func newStack(t testing.TB) stack {
	t.Helper()
	testutil.RequireRoot(t)
	dir := t.TempDir()
	testutil.CheckMounts(t, dir)
	l0, l1 := filepath.Join(dir, "l0"), filepath.Join(dir, "l1")
	files := map[string]string{
		"app/config.ini":        "version=1\ncolour=blue\n",
		"app/static/index.html": "<h1>1</h1>\n",
		"app/static/old.css":    "body{}\n",
		"app/cache/a.tmp":       "a\n",
		"app/cache/b.tmp":       "b\n",
		"app/data/numbers.txt":  strings.Repeat("1234567\n", 4096),
		"app/gone.txt":          "gone\n",
		"app/old/x":             "x\n",
	}
	for p, s := range files {
		write(t, filepath.Join(l0, p), s)
	}
	must(t, os.Symlink("app", filepath.Join(l0, "lnk")))
	write(t, filepath.Join(l1, "app/old/y"), "y\n")
	must(t, unix.Setxattr(filepath.Join(l1, "app/old"), xattrOpaque, []byte("y"), 0))
	must(t, unix.Mknod(filepath.Join(l1, "app/gone.txt"), unix.S_IFCHR, 0))
	s := stack{merged: filepath.Join(dir, "merged")}
	s.env = Env{Upper: filepath.Join(dir, "upper"), Lower: []string{l0, l1}, Root: s.merged}
	for _, d := range []string{s.env.Upper, filepath.Join(dir, "work"), s.merged} {
		must(t, os.Mkdir(d, 0o755))
	}
	spec := overlay.Spec{Lower: s.env.Lower, Upper: s.env.Upper, Work: filepath.Join(dir, "work"), Target: s.merged}
	if err := spec.Mount(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(s.merged, unix.MNT_DETACH); err != nil {
			t.Error(err)
		}
	})
	return s
}

func (s stack) path(p string) string { return filepath.Join(s.merged, p) }

func write(t testing.TB, p, s string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(s), 0o644))
}

func appendTo(t testing.TB, p, s string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.WriteString(s)
	must(t, errors.Join(err, f.Close()))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLessonChecksOnOverlay makes each change of the lessons through a real
// overlay mount and evaluates checks against what the kernel left: each
// line holds (ok) or not, as the kernel's rules say.
func TestLessonChecksOnOverlay(t *testing.T) {
	type want struct {
		check string
		ok    bool
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, s stack)
		want   []want
	}{{
		name:   "untouched",
		change: func(*testing.T, stack) {},
		want: []want{
			{"upper missing /app/config.ini", true},
			{"upper copied-up /app/config.ini", false},
			{"upper entries /", true},
			{"lower file /app/config.ini", true},
			{"lower missing /app/gone.txt", true},
			{"lower entries /app/old y", true},
			{"merged entries /app/old y", true},
			{"lower missing /app/old/x", true},
			{"merged file /lnk/config.ini", true},
			{"lower file /lnk/config.ini", false},
			{"lower symlink /lnk app", true},
			{"merged missing /app/gone.txt", true},
		},
	}, {
		name: "copy-up on write",
		change: func(t *testing.T, s stack) {
			appendTo(t, s.path("app/config.ini"), "colour=red\n")
		},
		want: []want{
			{"upper copied-up /app/config.ini", true},
			{"upper new /app/config.ini", false},
			{"upper contains /app/config.ini version=1", true},
			{"upper contains /app/config.ini colour=red", true},
			{"upper entries /app config.ini", true},
			{"upper copied-up /app", true},
			{"upper same-as-lower /app/config.ini", false},
			{"lower contains /app/config.ini colour=blue", true},
			{"not lower contains /app/config.ini colour=red", true},
			{"merged contains /app/config.ini colour=red", true},
			{"upper size /app/config.ini 33", true},
		},
	}, {
		name: "reading copies nothing up",
		change: func(t *testing.T, s stack) {
			_, err := os.ReadFile(s.path("app/config.ini"))
			must(t, err)
		},
		want: []want{
			{"upper copied-up /app/config.ini", false},
			{"upper missing /app", true},
		},
	}, {
		name: "whiteout on delete",
		change: func(t *testing.T, s stack) {
			must(t, os.Remove(s.path("app/cache/a.tmp")))
		},
		want: []want{
			{"upper whiteout /app/cache/a.tmp", true},
			{"upper exists /app/cache/a.tmp", true},
			{"upper file /app/cache/a.tmp", false},
			{"merged missing /app/cache/a.tmp", true},
			{"lower file /app/cache/a.tmp", true},
			{"upper whiteout /app/cache/b.tmp", false},
			{"commit entry app/cache/.wh.a.tmp whiteout", true},
			{"commit entry app/cache/.wh.b.tmp", false},
			{"commit entry app/cache/ dir", true},
		},
	}, {
		name: "opaque directory",
		change: func(t *testing.T, s stack) {
			must(t, os.RemoveAll(s.path("app/static")))
			must(t, os.Mkdir(s.path("app/static"), 0o755))
			write(t, s.path("app/static/index.html"), "new\n")
		},
		want: []want{
			{"upper opaque /app/static", true},
			{"upper opaque /app", false},
			{"upper new /app/static/index.html", true},
			{"merged entries /app/static index.html", true},
			{"merged missing /app/static/old.css", true},
			{"lower file /app/static/old.css", true},
			{"commit entry app/static/.wh..wh..opq opaque", true},
		},
	}, {
		name: "chmod copies the whole file",
		change: func(t *testing.T, s stack) {
			must(t, os.Chmod(s.path("app/data/numbers.txt"), 0o600))
		},
		want: []want{
			{"upper copied-up /app/data/numbers.txt", true},
			{"upper mode /app/data/numbers.txt 600", true},
			{"upper size /app/data/numbers.txt 32768", true},
			{"upper same-as-lower /app/data/numbers.txt", true},
			{"lower mode /app/data/numbers.txt 644", true},
		},
	}, {
		name: "renaming a lower directory",
		change: func(t *testing.T, s stack) {
			err := os.Rename(s.path("app/static"), s.path("app/assets"))
			if !errors.Is(err, syscall.EXDEV) {
				t.Fatalf("rename of a lower directory: %v; want EXDEV", err)
			}
			// What mv does then: copy, then delete.
			for _, n := range []string{"index.html", "old.css"} {
				b, err := os.ReadFile(s.path("app/static/" + n))
				must(t, err)
				write(t, s.path("app/assets/"+n), string(b))
			}
			must(t, os.RemoveAll(s.path("app/static")))
		},
		want: []want{
			{"upper whiteout /app/static", true},
			{"upper new /app/assets", true},
			{"upper file /app/assets/old.css", true},
			{"not upper redirect /app/assets", true},
			{"merged missing /app/static", true},
		},
	}, {
		name: "hard link",
		change: func(t *testing.T, s stack) {
			must(t, os.Link(s.path("app/config.ini"), s.path("app/config.link")))
		},
		want: []want{
			{"upper copied-up /app/config.ini", true},
			{"upper nlink /app/config.ini 2", true},
			{"upper same-inode /app/config.ini /app/config.link", true},
			{"upper same-inode /app/config.ini /app/static/old.css", false},
			{"upper new /app/config.link", true},
			{"lower nlink /app/config.ini 1", true},
			{"merged nlink /app/config.link 2", true},
			{"commit entry app/config.link hardlink", true},
			{"commit entry app/config.ini file", true},
		},
	}, {
		name: "a file over a lower directory",
		change: func(t *testing.T, s stack) {
			must(t, os.RemoveAll(s.path("app/cache")))
			write(t, s.path("app/cache"), "now a file\n")
		},
		want: []want{
			{"upper file /app/cache", true},
			{"merged missing /app/cache/a.tmp", true},
			{"upper missing /app/cache/a.tmp", true},
			{"upper copied-up /app/cache", true},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t)
			tc.change(t, s)
			for _, w := range tc.want {
				c, err := parseCheck(w.check)
				if err != nil {
					t.Fatalf("%s: %v", w.check, err)
				}
				if r := c.Eval(s.env); r.OK != w.ok {
					t.Errorf("%s: ok = %v (found %s); want %v", w.check, r.OK, r.Got, w.ok)
				}
			}
		})
	}
}

// TestLessonStepEval checks a step's results together, the places beyond
// the overlay (a volume, the container), and that a place that cannot be
// read fails its checks, negated or not.
func TestLessonStepEval(t *testing.T) {
	s := newStack(t)
	vol := t.TempDir()
	write(t, filepath.Join(vol, "note.txt"), "saved\n")
	env := s.env
	env.Volumes = map[string]string{"/data": vol}
	step := func(lines ...string) Step {
		var st Step
		for _, l := range lines {
			c, err := parseCheck(l)
			must(t, err)
			st.Checks = append(st.Checks, c)
		}
		return st
	}
	for _, tc := range []struct {
		name string
		env  Env
		step Step
		want []bool
	}{
		{"volume", env, step("volume contains /data/note.txt saved", "volume missing /data/x", "upper missing /data/note.txt"), []bool{true, true, true}},
		{"no volume there", env, step("volume file /etc/x"), []bool{false}},
		{"not reset", env, step("container reset", "not container reset"), []bool{false, true}},
		{"reset", Env{Reset: true}, step("container reset"), []bool{true}},
		{"no root", Env{Upper: env.Upper, Lower: env.Lower}, step("merged file /app/config.ini", "not merged file /app/config.ini"), []bool{false, false}},
		{"no upper", Env{Lower: env.Lower}, step("commit entry app/"), []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := tc.step.Eval(tc.env)
			for i, r := range rs {
				if r.OK != tc.want[i] {
					t.Errorf("%s: ok = %v (found %s); want %v", tc.step.Checks[i], r.OK, r.Got, tc.want[i])
				}
			}
			all := true
			for _, w := range tc.want {
				all = all && w
			}
			if Done(rs) != all {
				t.Errorf("Done = %v; want %v", Done(rs), all)
			}
		})
	}
}

// BenchmarkLessonStepEval is the cost of evaluating a step of five checks
// on a real overlay, as the lesson view does on every change it sees.
func BenchmarkLessonStepEval(b *testing.B) {
	s := newStack(b)
	appendTo(b, s.path("app/config.ini"), "colour=red\n")
	var st Step
	for _, l := range []string{"upper copied-up /app/config.ini", "upper contains /app/config.ini colour=red",
		"upper entries /app config.ini", "lower contains /app/config.ini colour=blue", "merged contains /app/config.ini colour=red"} {
		c, err := parseCheck(l)
		if err != nil {
			b.Fatal(err)
		}
		st.Checks = append(st.Checks, c)
	}
	b.ResetTimer()
	for b.Loop() {
		if !Done(st.Eval(s.env)) {
			b.Fatal("the checks do not hold")
		}
	}
}
