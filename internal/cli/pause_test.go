package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"minidocker/internal/testutil"
)

// TestPauseCommands pauses and unpauses a running container through the
// command line, as docker's verbs and under "container": each prints the
// names it did, refuses in docker's words with exit code 1, and inspect
// shows the container paused; rm -f ends it paused.
func TestPauseCommands(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	checkCgroups(t)
	root := filepath.Join(t.TempDir(), "store")
	if code, _, stderr := cli(t, root, "image", "create-base"); code != 0 {
		t.Fatal(stderr)
	}
	for _, name := range []string{"p1", "p2"} {
		if code, _, stderr := cli(t, root, "run", "-d", "--name", name, "base", "sleep", "60"); code != 0 {
			t.Fatalf("run %s: %d %s", name, code, stderr)
		}
	}
	t.Cleanup(func() { cli(t, root, "rm", "-f", "p1", "p2") })
	paused := func(name string) bool {
		t.Helper()
		code, stdout, stderr := cli(t, root, "inspect", name)
		var out []struct {
			Status string `json:"status"`
			Paused bool   `json:"paused"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil || len(out) != 1 {
			t.Fatalf("inspect %s: %d %s %s", name, code, stdout, stderr)
		}
		if out[0].Status != "running" {
			t.Errorf("inspect %s: status %q, want running", name, out[0].Status)
		}
		return out[0].Paused
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
		paused [2]bool // p1's and p2's after
	}{
		{[]string{"pause", "p1", "p2"}, 0, "p1\np2\n", "", [2]bool{true, true}},
		{[]string{"pause", "p1"}, 1, "", "minidocker: container p1 is already paused\n", [2]bool{true, true}},
		{[]string{"container", "unpause", "p2"}, 0, "p2\n", "", [2]bool{true, false}},
		{[]string{"unpause", "p2", "p1"}, 1, "p1\n", "minidocker: container p2 is not paused\n", [2]bool{false, false}},
		{[]string{"container", "pause", "nosuch", "p2"}, 1, "p2\n", "no such container", [2]bool{false, true}},
		{[]string{"unpause"}, 125, "", "minidocker: unpause: want a container\n", [2]bool{false, true}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := cli(t, root, tc.args...)
			if code != tc.code || stdout != tc.stdout || !strings.Contains(stderr, tc.stderr) || (tc.stderr == "") != (stderr == "") {
				t.Errorf("got %d %q %q, want %d %q %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
			if got := [2]bool{paused("p1"), paused("p2")}; got != tc.paused {
				t.Errorf("paused %v, want %v", got, tc.paused)
			}
		})
	}
	if code, _, stderr := cli(t, root, "rm", "-f", "p2"); code != 0 {
		t.Errorf("rm -f of a paused container: %d %s", code, stderr)
	}
}
