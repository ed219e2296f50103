package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"minidocker/engine"
	"minidocker/internal/testutil"
)

// TestVolumeSpecErrors checks that a bad -v, --mount or --tmpfs is a usage
// error (exit 125) naming the spec, in docker's words.
func TestVolumeSpecErrors(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-v", "/tmp:/"}, `invalid volume specification: '/tmp:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`},
		{[]string{"-v", "/tmp:/proc"}, `invalid volume specification: '/tmp:/proc': invalid mount config for type "bind": "/proc" cannot be mounted because it is inside /proc`},
		{[]string{"-v", "/tmp:/data:bogus"}, "invalid volume specification: '/tmp:/data:bogus': invalid mode: bogus"},
		{[]string{"-v", "x:/data"}, `"x" includes invalid characters for a local volume name`},
		{[]string{"--mount", "type=bind,src=/tmp"}, `invalid argument "type=bind,src=/tmp" for "--mount" flag: invalid mount config for type "bind": field Target must not be empty`},
		{[]string{"--mount", "type=bind,src=/tmp,dst=/"}, "destination can't be '/'"},
		{[]string{"--tmpfs", "/run:bogus"}, `invalid argument "/run:bogus" for "--tmpfs" flag: invalid tmpfs option "bogus"`},
		{[]string{"--tmpfs", "/proc"}, `"/proc" cannot be mounted because it is inside /proc`},
	} {
		for _, verb := range []string{"run", "create"} {
			args := append(append([]string{verb}, tc.args...), "base", "true")
			code, _, stderr := cli(t, root, args...)
			if code != 125 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.msg) {
				t.Errorf("%q: exit %d, stderr %q; want 125 and one line with %q", args, code, stderr, tc.msg)
			}
		}
	}
	if code, _, stderr := cli(t, root, "volume", "create", "a b"); code != 125 || !strings.Contains(stderr, "invalid characters") {
		t.Errorf("volume create with a bad name: exit %d, %q", code, stderr)
	}
}

// TestVolumeCommands runs docker's volume workflow: a named volume seeded
// from the image, kept across containers, refused removal while a
// container has it; anonymous volumes gone with rm -v and --rm; prune; z
// accepted with a notice where SELinux is off.
func TestVolumeCommands(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	checkCgroups(t)
	root := filepath.Join(t.TempDir(), "store")
	ok := func(args ...string) string {
		t.Helper()
		code, out, stderr := cli(t, root, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d, %s", args, code, stderr)
		}
		return out
	}
	if out := ok("volume", "create", "web"); out != "web\n" {
		t.Errorf("volume create: %q", out)
	}
	ok("run", "--name", "one", "-v", "web:/etc", "base", "sh", "-c", "echo mine > /etc/mine")
	data := filepath.Join(root, "volumes", "web", "_data")
	for _, f := range []string{"passwd", "mine"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("the volume lacks %s: %v", f, err)
		}
	}
	if out := ok("run", "--rm", "--mount", "src=web,dst=/data,readonly", "base", "cat", "/data/mine"); out != "mine\n" {
		t.Errorf("second container: %q", out)
	}
	var sts []engine.State
	if err := json.Unmarshal([]byte(ok("container", "inspect", "one")), &sts); err != nil || len(sts) != 1 {
		t.Fatalf("inspect one: %v", err)
	}
	id := sts[0].ID
	code, _, stderr := cli(t, root, "volume", "rm", "web")
	if want := "minidocker: remove web: volume is in use - [" + id + "]\n"; code != 1 || stderr != want {
		t.Errorf("volume rm in use: exit %d, %q; want 1, %q", code, stderr, want)
	}
	var vols []engine.VolumeInfo
	if err := json.Unmarshal([]byte(ok("volume", "inspect", "web")), &vols); err != nil || len(vols) != 1 || vols[0].Mountpoint != data || vols[0].Driver != "local" {
		t.Errorf("volume inspect: %+v, %v", vols, err)
	}
	ok("rm", "one")
	if out := ok("volume", "rm", "web"); out != "web\n" {
		t.Errorf("volume rm: %q", out)
	}

	// Anonymous volumes: rm -v and --rm remove them, plain rm keeps them
	// for prune.
	ok("run", "--name", "two", "-v", "/data", "base", "true")
	if out := ok("volume", "ls", "-q"); !engine.IsID(strings.TrimSpace(out)) {
		t.Errorf("volume ls after -v /data: %q", out)
	}
	ok("rm", "-v", "two")
	ok("run", "--rm", "-v", "/data", "--tmpfs", "/run", "base", "true")
	ok("run", "--name", "three", "-v", "/data", "base", "true")
	ok("rm", "three")
	ok("volume", "create", "named")
	if out := ok("volume", "ls"); strings.Count(out, "\n") != 3 || !strings.HasPrefix(out, "DRIVER    VOLUME NAME\n") || !strings.Contains(out, "local     named\n") {
		t.Errorf("volume ls: %q", out)
	}
	if out := ok("volume", "prune"); !strings.HasPrefix(out, "Deleted Volumes:\n") || strings.Count(out, "\n") != 4 {
		t.Errorf("volume prune: %q", out)
	}
	if out := ok("volume", "ls", "-q"); out != "named\n" {
		t.Errorf("after prune: %q", out)
	}
	ok("volume", "prune", "-a")
	if out := ok("volume", "ls", "-q"); out != "" {
		t.Errorf("after prune -a: %q", out)
	}

	// z and Z are accepted; without SELinux, one notice says they do
	// nothing.
	dir := t.TempDir()
	code, out, stderr := cli(t, root, "run", "--rm", "-v", dir+":/a:z", "-v", dir+":/b:ro,Z", "base", "ls", "/a")
	if code != 0 || out != "" {
		t.Errorf("run with z and Z: exit %d, %q, %q", code, out, stderr)
	}
	if !engine.SELinuxEnabled() && strings.Count(stderr, "notice: SELinux is not enabled") != 1 {
		t.Errorf("stderr %q: want one notice", stderr)
	}
}
