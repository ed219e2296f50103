package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLearnCommand lists the lessons, and refuses a lesson that does not
// exist or too many arguments with a usage error naming them.
func TestLearnCommand(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	code, out, stderr := cli(t, root, "learn")
	if code != 0 {
		t.Fatalf("learn: exit code %d: %s", code, stderr)
	}
	for _, want := range []string{"LESSON", "layers", "stack", "whiteout", "opaque", "commit", "shared", "wasted", "minidocker learn layers"} {
		if !strings.Contains(out, want) {
			t.Errorf("learn lists no %q:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"learn", "nosuch"}, "learn: no lesson nosuch"},
		{[]string{"learn", "\x1b[2J"}, `no lesson \x1b[2J`},
		{[]string{"learn", "a", "b"}, "want at most one lesson, got 2"},
	} {
		code, _, stderr := cli(t, root, tc.args...)
		if code != 125 || !strings.Contains(stderr, tc.msg) || strings.ContainsRune(stderr, 0x1b) {
			t.Errorf("%q: exit code %d, stderr %q; want 125 and %q", tc.args, code, stderr, tc.msg)
		}
	}
}
