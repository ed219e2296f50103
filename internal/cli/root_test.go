package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"minidocker/internal/testutil"
)

// cli runs minidocker with args against the store root and returns its exit
// code, standard output and standard error.
func cli(t *testing.T, root string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"--root", root}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIErrors(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"inspect", "nosuch"}, 1, "no image or container nosuch"},
		{[]string{"history", "sha256:abc"}, 1, "image sha256:abc: not found"},
		{[]string{"rmi", "nosuch"}, 1, "image nosuch: not found"},
		{[]string{"tag", "nosuch", "x"}, 1, "image nosuch: not found"},
		{[]string{"tag", "nosuch", "Bad Name"}, 1, `image name "Bad Name"`},
		{[]string{"load", "-i", "/nonexistent.tar"}, 1, "/nonexistent.tar: no such file"},
		{[]string{"import", "/nonexistent.tar", "x"}, 1, "/nonexistent.tar: no such file"},
		{[]string{"save", "--format", "zip", "-o", "/tmp/x", "base"}, 2, `format "zip"`},
		{[]string{"images", "--bogus"}, 2, "unknown flag: --bogus"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"tag", "only-one"}, 2, "want SOURCE and TARGET"},
		{[]string{"inspect", "\x1b]52;c;aGk=\x07"}, 1, `\x1b]52`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := cli(t, root, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.HasPrefix(stderr, "minidocker: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q: want one line naming %q", stderr, tc.msg)
			}
			if strings.ContainsAny(stderr, "\x1b\x07") {
				t.Errorf("stderr carries raw control characters: %q", stderr)
			}
		})
	}
}
