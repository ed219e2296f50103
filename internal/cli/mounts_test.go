package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestMountsNamesContainers runs a container, whose overlay is mounted in
// its own mount namespace, and finds it in "mounts" by its name and image,
// with its upper directory; its layers read through the path listed; once
// it is removed, it is no longer listed.
func TestMountsNamesContainers(t *testing.T) {
	root := commitRoot(t)
	removeAtEnd(t, root, "mnt-owner")
	mdOK(t, root, "run", "-d", "--name", "mnt-owner", "base", "sh", "-c", "echo hi > /hello; exec sleep 600")
	waitExec(t, root, "mnt-owner", "test -s /hello")
	var st []struct {
		Pid    int `json:"pid"`
		Rootfs struct {
			Upper string `json:"upper"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal([]byte(mdOK(t, root, "inspect", "mnt-owner")), &st); err != nil || len(st) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	path := fmt.Sprintf("/proc/%d/root", st[0].Pid)

	var line string
	for _, l := range strings.Split(mdOK(t, root, "mounts"), "\n") {
		if strings.HasPrefix(l, path+" ") {
			line = l
		}
	}
	for _, want := range []string{"minidocker container mnt-owner (base)", st[0].Rootfs.Upper, "mnt:["} {
		if !strings.Contains(line, want) {
			t.Errorf("mounts: the container's line %q lacks %q", line, want)
		}
	}
	if out := mdOK(t, root, "tree", "--changed", path); !strings.Contains(out, "hello") {
		t.Errorf("tree --changed %s:\n%s", path, out)
	}

	mdOK(t, root, "rm", "-f", "mnt-owner")
	if out := mdOK(t, root, "mounts"); strings.Contains(out, "mnt-owner") {
		t.Errorf("a removed container is still listed:\n%s", out)
	}
}
