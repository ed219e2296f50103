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
		{[]string{"save", "--format", "zip", "-o", "/tmp/x", "base"}, 125, `format "zip"`},
		{[]string{"images", "--bogus"}, 125, "unknown flag: --bogus"},
		{[]string{"frobnicate"}, 125, `unknown command "frobnicate"`},
		{[]string{"tag", "only-one"}, 125, "want SOURCE and TARGET"},
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

// TestDockerExitCodes checks the exit codes docker gives: 125 for a usage
// error or an engine's failure to run a container, 126 for a command that
// cannot be run, 127 for one not found, the command's own code otherwise.
func TestDockerExitCodes(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	root := filepath.Join(t.TempDir(), "store")
	if code, _, errs := cli(t, root, "image", "create-base"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := cli(t, root, "run", "-d", "--name", "codes", "base", "sleep", "60"); code != 0 {
		t.Fatal(errs)
	}
	t.Cleanup(func() { cli(t, root, "rm", "-f", "codes") })
	for _, tc := range []struct {
		args []string
		code int
		msg  string // "" for no message: the container's own code
	}{
		{[]string{"run", "--rm", "nosuch"}, 125, "image nosuch: not found"},
		{[]string{"run", "--rm", "base", "/nonexistent"}, 127, "/nonexistent"},
		{[]string{"run", "--rm", "base", "/etc"}, 126, "/etc"},
		{[]string{"run", "--rm", "base", "sh", "-c", "exit 3"}, 3, ""},
		{[]string{"run", "--rm", "-w", "rel", "base", "true"}, 125, `working directory "rel" is not absolute`},
		{[]string{"run", "--rm", "--memory", "1e30", "base", "true"}, 125, `size "1e30"`},
		{[]string{"run", "--rm", "-it", "base", "true"}, 125, "the input device is not a TTY"},
		{[]string{"exec", "-it", "codes", "true"}, 125, "the input device is not a TTY"},
		{[]string{"exec", "-w", "rel", "codes", "pwd"}, 125, `working directory "rel" is not absolute`},
		{[]string{"exec", "codes", "/nonexistent"}, 127, "/nonexistent"},
		{[]string{"exec", "codes", "sh", "-c", "exit 4"}, 4, ""},
		{[]string{"exec", "nosuch", "true"}, 125, "no such container"},
		{[]string{"start", "nosuch"}, 125, "no such container"},
		{[]string{"ps", "--bogus"}, 125, "minidocker: ps: unknown flag: --bogus\n"},
		{[]string{"image", "ls", "extra"}, 125, "minidocker: image ls: want no arguments"},
		{[]string{"--root", "", "images"}, 125, `--root "": want a store directory`},
		{[]string{"inspect", "nosuch"}, 1, "no image or container nosuch"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := cliIn(t, root, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if tc.msg == "" && stderr != "" || tc.msg != "" && (!strings.Contains(stderr, tc.msg) || strings.Count(stderr, "\n") != 1) {
				t.Errorf("stderr %q, want one line naming %q", stderr, tc.msg)
			}
		})
	}
}

// cliIn is cli without --root when the arguments give one.
func cliIn(t *testing.T, root string, args ...string) (int, string, string) {
	t.Helper()
	if args[0] == "--root" {
		var out, errb bytes.Buffer
		code := Main(args, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	return cli(t, root, args...)
}
