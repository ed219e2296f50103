package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"minidocker/internal/testutil"
)

// TestRunDevice lets a host device in with --device and checks that a bad
// spec is a usage error naming it.
func TestRunDevice(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	root := filepath.Join(t.TempDir(), "store")
	const script = "(exec 3</dev/lc) 2>&1 && echo read; (exec 3>/dev/lc) 2>&1 && echo write"
	code, out, stderr := cli(t, root, "run", "--rm", "--device", "/dev/loop-control:/dev/lc:r", "base", "sh", "-c", script)
	if code == 0 || !strings.HasPrefix(out, "read\n") || !strings.HasSuffix(out, "/dev/lc: Operation not permitted\n") {
		t.Errorf("--device :r: exit %d, output %q (stderr %q), want read and a write refused", code, out, stderr)
	}
	for _, tc := range []struct {
		spec string
		code int
		msg  string
	}{
		{"dev/null", 125, `device "dev/null"`},
		{"/dev/null:/dev/n:rwx", 125, `permissions "rwx"`},
		{"/dev/null:/a:r:w", 125, `device "/dev/null:/a:r:w"`},
		// The host's node is the engine's to find: its failure is 125 too.
		{"/nonexistent", 125, `device "/nonexistent"`},
		{"/etc/passwd", 125, "not a character or block device"},
	} {
		code, _, stderr := cli(t, root, "run", "--rm", "--device", tc.spec, "base", "true")
		if code != tc.code || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.msg) {
			t.Errorf("--device %s: exit %d, stderr %q; want %d and one line naming %q", tc.spec, code, stderr, tc.code, tc.msg)
		}
	}
}
