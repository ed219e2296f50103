// Package testutil holds the test helpers that more than one package needs:
// the root and tool requirements that fail instead of skipping in CI, and the
// check that a test leaves no mount behind under its own directories.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// InCI reports whether the tests run under CI, where a test that cannot run
// must fail rather than skip.
func InCI() bool { return os.Getenv("CI") != "" }

// Unavailable skips the test with why, or fails it when running in CI.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("cannot run in CI: %s", why)
	}
	t.Skip(why)
}

// RequireRoot stops the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root")
	}
}

// RequireTool returns the path of the named program, stopping the test when
// it is not installed.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, name+" is not installed")
	}
	return p
}

// Mounts returns the mount points of the test's mount namespace: the
// whole table, which other software on a shared host changes at any time.
// A test asserts on MountsUnder its own directories instead.
func Mounts(t testing.TB) []string {
	t.Helper()
	return MountsUnder(t, "/")
}

// MountsUnder returns the mount points of the test's mount namespace that
// are one of dirs or below one, sorted.
func MountsUnder(t testing.TB, dirs ...string) []string {
	t.Helper()
	// The calling thread's table, not /proc/self's: that is the main
	// thread's, and a test that ran a goroutine locked to its thread in a
	// mount namespace of its own (unshare(2)) may have left the main
	// thread there, wedged, when the goroutine ran on it and exited.
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		t.Fatalf("read mountinfo: %v", err)
	}
	roots := make([]string, len(dirs))
	for i, d := range dirs {
		// The table has the real paths: a temporary directory may be
		// reached through a symbolic link (TMPDIR=/var/tmp -> ...).
		if r, err := filepath.EvalSymlinks(d); err == nil {
			d = r
		}
		roots[i] = filepath.Clean(d)
	}
	return mountPoints(string(b), roots)
}

// mountPoints lists the mount points of a mountinfo table
// (proc_pid_mountinfo(5)) at or below one of roots, sorted.
func mountPoints(mountinfo string, roots []string) []string {
	var pts []string
	for line := range strings.SplitSeq(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescape(f[4])
		if slices.ContainsFunc(roots, func(r string) bool { return under(mp, r) }) {
			pts = append(pts, mp)
		}
	}
	slices.Sort(pts)
	return pts
}

// under reports whether path is dir or below it.
func under(path, dir string) bool {
	return path == dir || dir == "/" || strings.HasPrefix(path, dir+"/")
}

// unescape undoes the octal escapes of a mountinfo field (\040 for a
// space, \011, \012, \134).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// CheckMounts records the mounts under the test's temporary directories
// (every t.TempDir of this test, not of its subtests) and under dirs and,
// when the test ends, fails it if any was added or removed there. The
// rest of the host's table is not looked at: other software on a shared
// host mounts and unmounts meanwhile. A subtest that makes temporary
// directories of its own checks them with a call of its own.
func CheckMounts(t testing.TB, dirs ...string) {
	t.Helper()
	// t.TempDir is a new directory in one per test, removed after the
	// cleanups registered later than its first call: this one included.
	roots := append([]string{filepath.Dir(t.TempDir())}, dirs...)
	before := MountsUnder(t, roots...)
	t.Cleanup(func() {
		added, gone := changes(before, MountsUnder(t, roots...))
		if len(added) > 0 || len(gone) > 0 {
			t.Errorf("mounts under %q changed: added %q, removed %q", roots, added, gone)
		}
	})
}

// changes lists the mount points of after that are not in before and those
// of before not in after, counting each point as often as it is mounted
// on (mounts stack).
func changes(before, after []string) (added, gone []string) {
	n := map[string]int{}
	for _, m := range before {
		n[m]++
	}
	for _, m := range after {
		n[m]--
	}
	for _, m := range after {
		if n[m] < 0 {
			added = append(added, m)
			n[m]++
		}
	}
	for _, m := range before {
		if n[m] > 0 {
			gone = append(gone, m)
			n[m]--
		}
	}
	return added, gone
}
