package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/images"
	"minidocker/internal/testutil"
)

// startDistribution starts Debian's docker-registry (the reference
// registry, distribution) on a random loopback port, its storage in a
// temp dir, and returns its host:port. It is stopped when the test ends.
func startDistribution(t *testing.T) string {
	t.Helper()
	bin := testutil.RequireTool(t, "docker-registry")
	dir := t.TempDir()
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  secret: minidocker-test
`, filepath.Join(dir, "data"))
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		r.Close()
	})
	// It says where it listens once it does: "listening on 127.0.0.1:PORT".
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (127\.0\.0\.1:[0-9]+)`)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, r)
	}()
	select {
	case host := <-found:
		return host
	case <-time.After(30 * time.Second):
		t.Fatal("docker-registry did not say where it listens")
	}
	return ""
}

// dockerConfigDir points DOCKER_CONFIG at an empty directory: no test
// reads the credentials of whoever runs it.
func dockerConfigDir(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
}

// mustCLI runs minidocker and fails the test unless it exits 0.
func mustCLI(t *testing.T, root string, args ...string) string {
	t.Helper()
	code, stdout, stderr := cli(t, root, args...)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

// TestDistributionRoundTrip pushes the base image and a built one to the
// reference registry, reads them back with skopeo, and pulls them into a
// fresh store: the same image IDs, under the registry's names. An image
// that skopeo stored there with docker's media types is pulled, pushed
// back by us and read by skopeo as well.
func TestDistributionRoundTrip(t *testing.T) {
	dockerConfigDir(t)
	e := newBuildEnv(t)
	skopeo := testutil.RequireTool(t, "skopeo")
	host := startDistribution(t)
	e.write(t, map[string]string{"Dockerfile": "FROM base\nCOPY greeting /app/greeting\nRUN echo built > /app/run\n", "greeting": "hello\n"})
	e.mustBuild(t, "-t", "built")
	want := map[string]string{"base": inspectImage(t, e.root, "base").ID, "built": inspectImage(t, e.root, "built").ID}

	for name := range want {
		out := mustCLI(t, e.root, "push", name, host+"/test/"+name+":v1")
		if !strings.HasPrefix(out, host+"/test/"+name+":v1: digest: sha256:") {
			t.Errorf("push %s printed %q", name, out)
		}
		ref := "docker://" + host + "/test/" + name + ":v1"
		b, err := exec.Command(skopeo, "inspect", "--tls-verify=false", ref).CombinedOutput()
		var info struct{ Layers []string }
		if err != nil || json.Unmarshal(b, &info) != nil || len(info.Layers) == 0 {
			t.Errorf("skopeo inspect %s: %v\n%s", ref, err, b)
		}
		if b, err := exec.Command(skopeo, "copy", "-q", "--src-tls-verify=false", ref, "oci:"+filepath.Join(t.TempDir(), "oci")+":"+name).CombinedOutput(); err != nil {
			t.Errorf("skopeo copy %s: %v\n%s", ref, err, b)
		}
	}

	fresh := filepath.Join(t.TempDir(), "fresh")
	for name, id := range want {
		ref := host + "/test/" + name + ":v1"
		out := mustCLI(t, fresh, "pull", ref)
		if !strings.Contains(out, "Status: Downloaded newer image for "+ref) || !strings.HasSuffix(out, id+"\n") {
			t.Errorf("pull %s printed:\n%s", ref, out)
		}
		if got := inspectImage(t, fresh, ref).ID; got != id {
			t.Errorf("pulled %s: ID %s, pushed %s", ref, got, id)
		}
	}
	if out := mustCLI(t, fresh, "images"); !strings.Contains(out, host+"/test/base") || !strings.Contains(out, host+"/test/built") {
		t.Errorf("images after the pulls:\n%s", out)
	}
	if out := mustCLI(t, fresh, "pull", host+"/test/base:v1"); !strings.Contains(out, "Status: Image is up to date") {
		t.Errorf("second pull:\n%s", out)
	}

	// docker's media types: skopeo writes schema 2 from our layout; we pull
	// it, push it again, and skopeo reads that.
	v2s2 := "docker://" + host + "/test/docker:v2s2"
	if b, err := exec.Command(skopeo, "copy", "-q", "--format", "v2s2", "--dest-tls-verify=false",
		"oci:"+filepath.Join(e.root, "oci")+":built:latest", v2s2).CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy to schema 2: %v\n%s", err, b)
	}
	mustCLI(t, fresh, "pull", "-q", host+"/test/docker:v2s2")
	if got := inspectImage(t, fresh, host+"/test/docker:v2s2").ID; got != want["built"] {
		t.Errorf("pulled from schema 2: ID %s, want %s", got, want["built"])
	}
	mustCLI(t, fresh, "push", "-q", host+"/test/docker:v2s2", host+"/test/again:v1")
	if b, err := exec.Command(skopeo, "copy", "-q", "--src-tls-verify=false", "docker://"+host+"/test/again:v1", "oci:"+filepath.Join(t.TempDir(), "oci")+":again").CombinedOutput(); err != nil {
		t.Errorf("skopeo copy of the pushed-back image: %v\n%s", err, b)
	}
}

// pushedImage makes a two-layer image "small" in a store of its own and
// pushes it to a fresh in-process registry as repo:v1, returning the
// reference and the image's ID.
func pushedImage(t *testing.T, repo string) (string, string) {
	t.Helper()
	testutil.RequireRoot(t)
	dockerConfigDir(t)
	src, err := images.Open(filepath.Join(t.TempDir(), "src"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := src.Create("small", []images.NewLayer{layerTar("etc/", "", "etc/a", "a"), layerTar("etc/", "", "etc/b", "b")}, ocispec.ImageConfig{})
	if err != nil {
		t.Fatal(err)
	}
	sr := startStallingRegistry(t)
	ref := sr.host + "/" + repo + ":v1"
	if _, err := src.Push(context.Background(), "small", ref, images.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	return ref, string(img.ID)
}

// TestPullPushCLI: pull's and push's output and errors, one line each,
// with docker's exit codes.
func TestPullPushCLI(t *testing.T) {
	ref, id := pushedImage(t, "cli")
	host, _, _ := strings.Cut(ref, "/")
	root := filepath.Join(t.TempDir(), "store")
	out := mustCLI(t, root, "pull", ref)
	if strings.Count(out, ": Pull complete\n") != 2 || !strings.HasSuffix(out, "Status: Downloaded newer image for "+ref+" (2 layers fetched)\n"+id+"\n") {
		t.Errorf("pull printed:\n%s", out)
	}
	if out := mustCLI(t, root, "pull", "-q", ref); out != ref+"\n" {
		t.Errorf("pull -q printed %q", out)
	}
	if out := mustCLI(t, root, "push", ref, host+"/cli/copy:v2"); !strings.HasPrefix(out, host+"/cli/copy:v2: digest: sha256:") {
		t.Errorf("push printed %q", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"pull", "--platform", "linux", ref}, 125, `platform "linux": want OS/ARCH`},
		{[]string{"pull", host + "/cli:nope"}, 1, "pull " + host + "/cli:nope: "},
		{[]string{"pull", "--platform", "linux/mips", ref}, 1, "is for linux/" + runtime.GOARCH + ", not linux/mips"},
		{[]string{"pull", "Bad/Name"}, 1, `reference "Bad/Name": invalid reference`},
		{[]string{"push", "nosuch", host + "/x"}, 1, "push " + host + "/x: image nosuch: not found"},
		{[]string{"push", "a", "b", "c"}, 125, "want an image and an optional destination"},
		{[]string{"pull"}, 125, "want an image reference"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := cli(t, root, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want %d and one line with %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
}

// TestLayerCommandsPull: layers, tree and analyze pull a registry's image
// they do not find here, its progress on standard error; a name without a
// registry host is pulled only when a registry flag is given.
func TestLayerCommandsPull(t *testing.T) {
	ref, _ := pushedImage(t, "look")
	root := filepath.Join(t.TempDir(), "store")
	code, out, stderr := cli(t, root, "layers", ref)
	if code != 0 || !strings.HasPrefix(out, "#  LAYER") || strings.Count(out, "\n") != 3 || !strings.Contains(stderr, "Pull complete") {
		t.Errorf("layers %s: exit %d\n%s\n%s", ref, code, out, stderr)
	}
	// Pulled once: now a stored image, opened without the registry.
	if code, out, stderr := cli(t, root, "tree", ref, "/etc"); code != 0 || !strings.Contains(out, "b") || stderr != "" {
		t.Errorf("tree %s: exit %d\n%s\n%s", ref, code, out, stderr)
	}
	if code, out, _ := cli(t, root, "analyze", "--tls-verify=false", ref); code != 0 || !strings.HasPrefix(out, "image "+ref+": 2 layers") {
		t.Errorf("analyze %s: exit %d\n%s", ref, code, out)
	}
	other := filepath.Join(t.TempDir(), "other")
	if code, _, stderr := cli(t, other, "layers", "look"); code != 1 || stderr != "minidocker: no image, container or overlay mount look\n" {
		t.Errorf("layers of a name without a registry: exit %d, %q", code, stderr)
	}
	missing := strings.TrimSuffix(ref, ":v1") + ":nope"
	if code, _, stderr := cli(t, other, "analyze", missing); code != 1 || !strings.HasPrefix(stderr, "minidocker: pull "+missing+": ") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("analyze of a missing tag: exit %d, %q", code, stderr)
	}
	if out := mustCLI(t, other, "images"); strings.Count(out, "\n") != 1 {
		t.Errorf("images after failed pulls:\n%s", out)
	}
}
