package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"minidocker/internal/testutil"
)

// asNobody runs the binary bin as the user nobody, with no groups, no
// MINIDOCKER_ROOT and a home that does not exist, and returns its exit
// code, stdout and stderr.
func asNobody(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	setpriv := testutil.RequireTool(t, "setpriv")
	cmd := exec.Command(setpriv, append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", bin}, args...)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "TERM=xterm-256color"}
	cmd.Dir = "/"
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errb.String()
}

// openToAll lets every user reach dir: t.TempDir's directories are
// root's, mode 0700.
func openToAll(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWithoutRoot runs the real binary as nobody: analyze, layers and
// tree read an archive in place as dive does, mounts lists, and every
// command that needs root says so in one line that names it, with a
// non-zero exit.
func TestWithoutRoot(t *testing.T) {
	testutil.RequireRoot(t)
	dir := t.TempDir()
	bin, archive, store := filepath.Join(dir, "minidocker"), filepath.Join(dir, "base.tar"), filepath.Join(dir, "store")
	if out, err := buildCmd(bin).CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	mdOK(t, store, "image", "create-base")
	mdOK(t, store, "save", "--format", "docker-archive", "-o", archive, "base")
	openToAll(t, dir)
	if err := os.Chmod(archive, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze", "--ci", archive}, "PASS"},
		{[]string{"layers", archive}, "create-base"},
		{[]string{"tree", archive, "/etc"}, "passwd"},
		{[]string{"mounts"}, "MOUNT POINT"},
		{[]string{"learn"}, "LESSON"},
	} {
		code, out, errs := asNobody(t, bin, tc.args...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%s as nobody: exit %d, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}

	// The UI opens the archive read-only, on its image's view.
	e := &e2e{t: t, bin: bin, root: store, tmux: testutil.RequireTool(t, "tmux"), sock: fmt.Sprintf("minidocker-noroot-%d", os.Getpid())}
	e.open(strings.Join([]string{testutil.RequireTool(t, "setpriv"), "--reuid=nobody", "--regid=nogroup", "--clear-groups",
		"env", "-u", "MINIDOCKER_ROOT", "HOME=/nonexistent", bin, "ui", archive}, " "))
	e.waitFor("efficiency 100")
	if screen := e.waitFor("read-only"); !strings.Contains(screen, "base:latest") {
		t.Errorf("the UI as nobody does not show the archive's image:\n%s", screen)
	}
	e.keys("q")
	e.waitGone("the UI did not quit")

	// Whatever the store: the verbs that make or touch containers.
	verbs := [][]string{{"run", "base", "true"}, {"container", "run", "base", "true"}, {"create", "base"}, {"start", "x"},
		{"stop", "x"}, {"kill", "x"}, {"rm", "x"}, {"exec", "x", "true"}, {"attach", "x"}, {"pause", "x"},
		{"unpause", "x"}, {"commit", "x", "y"}, {"build", "."}, {"container", "exec", "x", "true"}}
	// The rest needs the store, root's: at its default place and elsewhere.
	for _, root := range [][]string{nil, {"--root", store}} {
		for _, args := range [][]string{{"images"}, {"ps"}, {"load", "-i", archive}, {"save", "base"}, {"rmi", "base"},
			{"tag", "base", "b2"}, {"inspect", "base"}, {"history", "base"}, {"logs", "x"}, {"diff", "x"},
			{"stats", "--no-stream"}, {"volume", "ls"}, {"system", "df"}, {"image", "prune"}, {"gc"},
			{"import", archive, "x"}, {"layers", "base"}, {"ui", "base"}} {
			verbs = append(verbs, append(slices.Clone(root), args...))
		}
	}
	for _, args := range verbs {
		code, out, errs := asNobody(t, bin, args...)
		name := strings.Join(args, " ")
		if i := slices.Index(args, "--root"); i >= 0 {
			name = strings.Join(args[i+2:], " ")
		}
		verb := verbName(args)
		lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
		if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "minidocker: "+verb+": needs root (") || out != "" {
			t.Errorf("%s as nobody: exit %d, stdout %q, stderr %q; want one line \"minidocker: %s: needs root (…)\"", name, code, out, errs, verb)
		}
	}
}

// verbName is the command's name in a message: its words before the
// first argument ("container run", "images").
func verbName(args []string) string {
	if args[0] == "--root" {
		args = args[2:]
	}
	n := 1
	if args[0] == "container" || args[0] == "image" || args[0] == "volume" || args[0] == "system" {
		n = 2
	}
	return strings.Join(args[:n], " ")
}
