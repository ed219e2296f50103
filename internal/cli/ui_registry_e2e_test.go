package cli

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"minidocker/internal/testutil"
)

// skopeoLayers is how many layers skopeo reads in the manifest of ref, a
// reference of the test's registry, and the manifest's digest.
func skopeoLayers(t *testing.T, skopeo, ref string) (int, string) {
	t.Helper()
	out, err := exec.Command(skopeo, "inspect", "--tls-verify=false", "docker://"+ref).Output()
	if err != nil {
		t.Fatalf("skopeo inspect %s: %v", ref, err)
	}
	var m struct {
		Digest string
		Layers []string
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, out)
	}
	return len(m.Layers), m.Digest
}

// waitWithout waits for the screen to stop showing text: a box closed.
func (e *e2e) waitWithout(text string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(e.tm("capture-pane", "-p", "-t", "ui"), text) {
		if time.Now().After(deadline) {
			e.t.Fatalf("the screen still shows %q", text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestUIRegistryEndToEnd is issue 13's path, in one session of the real
// binary's UI in tmux over an empty store, against the reference registry
// started by the test (base pushed to it first with the CLI): pull the
// image from the registry in the Images panel, skipping TLS checks; open
// its view; run it; change a file from the container's shell; commit it;
// push the new image back from the Images panel. skopeo then reads one
// more layer in the image pushed than in base. Then ui IMAGE over another
// empty store pulls the image pushed and opens its view.
func TestUIRegistryEndToEnd(t *testing.T) {
	dockerConfigDir(t)
	e := newE2E(t)
	skopeo := testutil.RequireTool(t, "skopeo")
	host := startDistribution(t)
	from, to := host+"/e2e/base:v1", host+"/e2e/base:v2"
	e.md("push", "--tls-verify=false", "base", from)
	baseLayers, _ := skopeoLayers(t, skopeo, from)

	// A store of its own: the pull fetches every layer.
	e.root = filepath.Join(t.TempDir(), "store")
	root := e.root // the container's store, whatever e.root is at the end
	t.Cleanup(func() { exec.Command(e.bin, "--root", root, "rm", "-f", "e2e").Run() })
	e.open(e.bin + " --root " + e.root + " ui")
	e.waitFor("[1] Images")

	e.keys("u")
	e.waitFor("Pull an image from a registry")
	e.keys(from, "Tab", "Space")
	e.waitFor("[x] skip TLS verification")
	e.keys("Enter")
	screen := e.waitFor("Pulled " + from)
	for _, want := range []string{"pull complete", "digest sha256:", "fetched, stored as " + from, "enter open the image"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the ended pull lacks %q:\n%s", want, screen)
		}
	}
	e.keys("Enter")
	e.waitFor("› " + from)
	e.waitFor("merged")
	e.keys("Escape")
	e.waitFor("[1] Images")

	// Run it from the Images panel, which selects the image pulled.
	e.keys("r")
	e.waitFor("Run a container")
	e.keys("/bin/sh", "Tab", "Tab", "Tab", "Tab", "Tab", "e2e", "Enter")
	e.waitFor("● e2e running")
	e.keys("2", "Enter")
	e.waitFor("merged")
	e.keys("2")
	e.waitFor("ctrl+g to leave")
	e.keys("echo from-the-ui > /etc/e2e-note; echo step-$((6*7))", "Enter")
	e.waitFor("step-42")
	e.waitFor("e2e-note")
	e.keys("C-g")
	e.keys("C")
	e.waitFor("Commit e2e")
	e.keys(to, "Tab", "pushed from the UI", "Enter")
	e.waitFor("committed")
	e.waitFor("› " + to)
	e.keys("Escape")
	e.waitFor("[1] Images")

	// Push it back from the Images panel: the palette selects it there.
	e.keys(":", "base:v2", "Enter")
	e.waitFor("› " + to)
	e.keys("Escape")
	e.waitFor("[1] Images")
	e.keys("U")
	screen = e.waitFor("Push an image to a registry")
	for _, want := range []string{"destination " + to, "[x] skip TLS verification"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the push dialog lacks %q (the image's name, the host's TLS choice):\n%s", want, screen)
		}
	}
	e.keys("Enter")
	screen = e.waitFor("Pushed " + to)
	e.keys("Escape")
	e.waitWithout("Pushed " + to)
	e.keys("q")
	e.waitGone("q did not quit the UI")

	layers, digest := skopeoLayers(t, skopeo, to)
	if layers != baseLayers+1 {
		t.Errorf("the image pushed has %d layers, base %d: want one more", layers, baseLayers)
	}
	if !strings.Contains(screen, "digest "+digest) {
		t.Errorf("the push's box does not show the registry's digest %s:\n%s", digest, screen)
	}

	// ui IMAGE: a registry's image not here is pulled, then opened.
	e.root = filepath.Join(t.TempDir(), "store")
	e.open(e.bin + " --root " + e.root + " ui --tls-verify=false " + to)
	e.waitFor("› " + to)
	screen = e.waitFor("merged")
	if !strings.Contains(screen, "e2e-note") {
		t.Errorf("the view of the image pulled by ui IMAGE lacks the committed file:\n%s", screen)
	}
	e.keys("q")
	e.waitGone("q did not quit ui IMAGE")
	out, err := exec.Command(e.bin, "--root", e.root, "ui", "nosuch").CombinedOutput()
	if msg := strings.TrimSpace(string(out)); err == nil || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "nosuch") {
		t.Errorf("ui nosuch: %v, %q; want an error of one line naming it", err, msg)
	}
}
