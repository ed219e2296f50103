// Package testutil holds the test helpers that more than one package needs:
// the root and tool requirements that fail instead of skipping in CI, and the
// check that a test leaves the host's mount table as it found it.
package testutil

import (
	"os"
	"os/exec"
	"slices"
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

// Mounts returns the mount points of this process's mount namespace.
func Mounts(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatalf("read mountinfo: %v", err)
	}
	var pts []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 {
			pts = append(pts, f[4])
		}
	}
	slices.Sort(pts)
	return pts
}

// CheckMounts records the mount table now and, when the test ends, fails it
// if any mount was added or removed.
func CheckMounts(t testing.TB) {
	t.Helper()
	before := Mounts(t)
	t.Cleanup(func() {
		after := Mounts(t)
		if !slices.Equal(before, after) {
			var added, gone []string
			for _, m := range after {
				if !slices.Contains(before, m) {
					added = append(added, m)
				}
			}
			for _, m := range before {
				if !slices.Contains(after, m) {
					gone = append(gone, m)
				}
			}
			t.Errorf("mount table changed: added %q, removed %q", added, gone)
		}
	})
}
