package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minidocker/internal/app"
	"minidocker/ui"
)

// uiState is the state the UI shows for the container name, read as the
// UI reads it.
func uiState(t *testing.T, src ui.Sources, name string) (ui.Container, bool) {
	t.Helper()
	list, err := src.ContainerList.Containers()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.Name == name {
			return c, true
		}
	}
	return ui.Container{}, false
}

// waitState waits for the UI to show want for the container name.
func waitState(t *testing.T, src ui.Sources, name, want string) ui.Container {
	t.Helper()
	var c ui.Container
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, _ = uiState(t, src, name); c.State() == want {
			return c
		}
	}
	t.Fatalf("%s: the UI shows %q, want %q", name, c.State(), want)
	return c
}

// TestUIContainerStates runs real containers and checks the states the UI
// shows: exited with the command's code, OOM-killed for a command past
// its memory limit (as the engine records it), paused, running.
func TestUIContainerStates(t *testing.T) {
	root := commitRoot(t)
	removeAtEnd(t, root, "three", "hog", "nap")
	if code, _, stderr := cli(t, root, "run", "--name", "three", "base", "sh", "-c", "exit 3"); code != 3 {
		t.Fatalf("run three: exit %d, want 3: %s", code, stderr)
	}
	// dd reads into a 64 MiB buffer: the kernel kills it at 16 MiB.
	if code, _, stderr := cli(t, root, "run", "--name", "hog", "-m", "16m", "base", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"); code != 137 {
		t.Fatalf("run hog: exit %d, want 137 (SIGKILL): %s", code, stderr)
	}
	mdOK(t, root, "run", "-d", "--name", "nap", "base", "sleep", "1000")
	mdOK(t, root, "pause", "nap")
	src := app.New(root).UISources()
	for name, want := range map[string]string{"three": "exited (3)", "hog": "OOM-killed (137)", "nap": "paused"} {
		if c, _ := uiState(t, src, name); c.State() != want {
			t.Errorf("%s: the UI shows %q, want %q", name, c.State(), want)
		}
	}
	mdOK(t, root, "unpause", "nap")
	if c, _ := uiState(t, src, "nap"); c.State() != "running" || c.ImageID == "" {
		t.Errorf("nap unpaused: %q, image %q", c.State(), c.ImageID)
	}
}

// TestUIContainerActions drives a real container through the UI's
// manager actions: kill, restart (of a stopped and of a running one), a
// remove refused while it runs, and a force remove.
func TestUIContainerActions(t *testing.T) {
	root := commitRoot(t)
	removeAtEnd(t, root, "web")
	mdOK(t, root, "run", "-d", "--name", "web", "base", "sleep", "1000")
	src := app.New(root).UISources()
	c := waitState(t, src, "web", "running")
	lc := src.Lifecycle
	if err := lc.Kill(c.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, src, "web", "exited (137)")
	if err := lc.Restart(c.ID); err != nil {
		t.Fatalf("restart of a stopped container: %v", err)
	}
	waitState(t, src, "web", "running")
	before := pidOf(t, root, "web")
	if err := lc.Restart(c.ID); err != nil {
		t.Fatalf("restart of a running container: %v", err)
	}
	waitState(t, src, "web", "running")
	if after := pidOf(t, root, "web"); after == before {
		t.Errorf("restart kept the process %d", after)
	}
	if err := lc.Remove(c.ID, false); err == nil || !strings.Contains(err.Error(), "use force") {
		t.Errorf("remove of a running container without force: %v", err)
	}
	if err := lc.Remove(c.ID, true); err != nil {
		t.Fatalf("force remove: %v", err)
	}
	if _, ok := uiState(t, src, "web"); ok {
		t.Error("the force-removed container is still listed")
	}
}

// pidOf is the pid of the container name's init, as inspect reports it.
func pidOf(t *testing.T, root, name string) int {
	t.Helper()
	var st []struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(mdOK(t, root, "inspect", name)), &st); err != nil || len(st) != 1 || st[0].Pid == 0 {
		t.Fatalf("inspect %s: %v %+v", name, err, st)
	}
	return st[0].Pid
}

// TestUIImageActions removes, tags and saves an image through the UI's
// image manager: a tag is listed, a save loads back under the image's
// name, and a remove of an image a container uses is refused without
// force.
func TestUIImageActions(t *testing.T) {
	root := commitRoot(t)
	removeAtEnd(t, root, "user")
	src := app.New(root).UISources()
	im := src.ImageManager
	list, err := src.Images.Images()
	if err != nil || len(list) != 1 {
		t.Fatalf("images: %v %v", list, err)
	}
	id := list[0].ID
	if err := im.TagImage(id, "copy:1"); err != nil {
		t.Fatal(err)
	}
	if out := mdOK(t, root, "images"); !strings.Contains(out, "copy") {
		t.Errorf("the tag is not listed:\n%s", out)
	}
	for _, f := range []string{"oci-archive", "docker-archive"} {
		p := filepath.Join(t.TempDir(), "saved.tar")
		if err := im.SaveImage(id, p, f); err != nil {
			t.Fatalf("save as %s: %v", f, err)
		}
		fresh := filepath.Join(t.TempDir(), "store")
		if out := mdOK(t, fresh, "load", "-i", p); !strings.Contains(out, "base:latest") {
			t.Errorf("the %s loads as:\n%s", f, out)
		}
	}
	if err := im.SaveImage(id, filepath.Join(t.TempDir(), "x.tar"), "zip"); err == nil {
		t.Error("save as zip worked")
	}
	if err := im.SaveImage(id, "/nonexistent/dir/x.tar", "oci-archive"); err == nil {
		t.Error("save into a missing directory worked")
	} else if _, serr := os.Stat("/nonexistent/dir"); serr == nil {
		t.Error("the save made the directory")
	}
	if _, err := im.RemoveImage(id, false); err == nil || !strings.Contains(err.Error(), "remove them one by one or force") {
		t.Errorf("remove of an image of two names without force: %v", err)
	}
	mdOK(t, root, "rmi", "copy:1")
	mdOK(t, root, "create", "--name", "user", "base", "true")
	if _, err := im.RemoveImage(id, false); err == nil || !strings.Contains(err.Error(), "used by container") {
		t.Errorf("remove of an image in use without force: %v", err)
	}
	said, err := im.RemoveImage(id, true)
	if err != nil || said != "untagged base:latest; deleted "+strings.TrimPrefix(id, "sha256:")[:12] {
		t.Errorf("forced remove: %q, %v", said, err)
	}
	if out := mdOK(t, root, "images"); strings.Contains(out, "copy") || strings.Contains(out, "base") {
		t.Errorf("the removed image is listed:\n%s", out)
	}
}
