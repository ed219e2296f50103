package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"minidocker/internal/testutil"
)

// imageID is the ID of image ref in the store at root.
func imageID(t *testing.T, root, ref string) string {
	t.Helper()
	var imgs []struct {
		ID string `json:"Id"`
	}
	if err := json.Unmarshal([]byte(mdOK(t, root, "image", "inspect", ref)), &imgs); err != nil || len(imgs) != 1 {
		t.Fatalf("inspect %s: %v", ref, err)
	}
	return imgs[0].ID
}

// savedBase is a store holding base and base saved from it as a
// docker-archive.
func savedBase(t *testing.T) (root, archive string) {
	t.Helper()
	testutil.RequireRoot(t)
	dir := t.TempDir()
	root, archive = filepath.Join(dir, "store"), filepath.Join(dir, "base.tar")
	mdOK(t, root, "image", "create-base")
	mdOK(t, root, "save", "--format", "docker-archive", "-o", archive, "base")
	return root, archive
}

// fakeTool puts a script named name first in PATH.
func fakeTool(t *testing.T, name, script string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
}

// TestLoadFromDocker takes images from a docker that is a script writing
// a real archive (no docker daemon answers here): the image arrives with
// its ID; the tool's errors, a missing tool and a stream cut short each
// end in one line.
func TestLoadFromDocker(t *testing.T) {
	root, archive := savedBase(t)
	fakeTool(t, "docker", `[ "$1" = save ] && [ "$2" = -- ] || { echo "unexpected arguments: $*" >&2; exit 2; }
case "$3" in
base) exec cat "`+archive+`" ;;
cut) head -c 30000 "`+archive+`"; echo "write /dev/stdout: broken" >&2; exit 1 ;;
junk) echo "not a tar" ;;
*) echo "Error response from daemon: No such image: $3" >&2; exit 1 ;;
esac
`)
	fresh := filepath.Join(t.TempDir(), "store")
	if out := mdOK(t, fresh, "load", "--from", "docker", "base"); !strings.Contains(out, "Loaded image: base:latest") {
		t.Errorf("load --from docker: %q", out)
	}
	if got, want := imageID(t, fresh, "base"), imageID(t, root, "base"); got != want {
		t.Errorf("loaded image %s, saved %s", got, want)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nosuch"}, 1, "load --from docker: docker save nosuch: Error response from daemon: No such image: nosuch"},
		{[]string{"cut"}, 1, "docker save cut: write /dev/stdout: broken"},
		{[]string{"junk"}, 1, "load --from docker junk: "},
		{nil, 125, "want the image to take from docker"},
		{[]string{"-i", archive, "base"}, 125, "--from and --input: give one"},
	} {
		code, out, errs := cli(t, fresh, append([]string{"load", "--from", "docker"}, tc.args...)...)
		if code != tc.code || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) || out != "" {
			t.Errorf("load --from docker %v: exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, out, errs, tc.code, tc.want)
		}
	}
	t.Setenv("PATH", t.TempDir())
	if code, _, errs := cli(t, fresh, "load", "--from", "docker", "base"); code != 1 || !strings.Contains(errs, "docker is not installed") {
		t.Errorf("without docker: exit %d, %q", code, errs)
	}
}

// TestLoadFromPodman goes through a real podman, over a podman store of
// the test's own: base saved here, loaded by podman, taken back from it
// with the same ID.
func TestLoadFromPodman(t *testing.T) {
	root, archive := savedBase(t)
	podman := testutil.RequireTool(t, "podman")
	testutil.CheckMounts(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "storage.conf")
	if err := os.WriteFile(conf, []byte("[storage]\ndriver = \"overlay\"\ngraphroot = \""+filepath.Join(dir, "graph")+
		"\"\nrunroot = \""+filepath.Join(dir, "run")+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONTAINERS_STORAGE_CONF", conf)
	if out, err := exec.Command(podman, "load", "-i", archive).CombinedOutput(); err != nil {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(podman, "rmi", "-a", "-f").Run() })
	fresh := filepath.Join(t.TempDir(), "store")
	if out := mdOK(t, fresh, "load", "--from", "podman", "localhost/base:latest"); !strings.Contains(out, "Loaded image: localhost/base:latest") {
		t.Errorf("load --from podman: %q", out)
	}
	if got, want := imageID(t, fresh, "localhost/base"), imageID(t, root, "base"); got != want {
		t.Errorf("loaded image %s, saved %s", got, want)
	}
	if code, _, errs := cli(t, fresh, "load", "--from", "podman", "nosuch"); code != 1 || !strings.Contains(errs, "podman save nosuch: nosuch: image not known") {
		t.Errorf("an image podman does not have: exit %d, %q", code, errs)
	}
}
