package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
)

// TestBuildMultiStage builds a stage alone with --target, then the whole
// file, whose last stage copies from the first stage by name, from the
// second by index and from an image of the store: the final image holds
// the files copied and none of the other files of the stages.
func TestBuildMultiStage(t *testing.T) {
	e := newBuildEnv(t)
	e.write(t, map[string]string{"Dockerfile": `FROM base AS build
RUN mkdir /out && echo artifact >/out/app && echo junk >/junk
FROM base AS other
RUN echo other >/other
FROM base
COPY --from=build /out/app /app
COPY --from=1 /other /other-by-index
COPY --from=stage:build /junk /junk-from-image
`})
	target := e.mustBuild(t, "--target", "build", "-t", "stage:build")
	if got := target.states(); got != "FM" || target.steps[0].total != 2 {
		t.Errorf("--target build: steps %s of %d, want FM of 2", got, target.steps[0].total)
	}
	withImage(t, e.root, "stage:build", func(dir string) {
		if got := readIn(t, dir, "out/app") + readIn(t, dir, "junk"); got != "artifact\njunk\n" {
			t.Errorf("the build stage holds %q", got)
		}
	})
	out := e.mustBuild(t, "-t", "final")
	if got := out.states(); got != "FHFMFMMM" {
		t.Errorf("steps %s, want FHFMFMMM (the build stage from the cache)", got)
	}
	if out.steps[1].id != target.built {
		t.Errorf("the build stage's RUN is %s, want the --target build's %s", out.steps[1].id, target.built)
	}
	base := imageTree(t, e.root, "base")
	tree := imageTree(t, e.root, "final")
	var extra []string
	for _, l := range tree {
		if !slices.Contains(base, l) {
			extra = append(extra, strings.SplitN(l, " ", 2)[0])
		}
	}
	if want := []string{"/app", "/junk-from-image", "/other-by-index"}; !slices.Equal(extra, want) {
		t.Errorf("the final image adds %q to base, want %q", extra, want)
	}
	withImage(t, e.root, "final", func(dir string) {
		got := readIn(t, dir, "app") + readIn(t, dir, "other-by-index") + readIn(t, dir, "junk-from-image")
		if got != "artifact\nother\njunk\n" {
			t.Errorf("the copied files hold %q", got)
		}
	})
}

// tarGz makes a gzipped tar of entries (name: content, a name ending in
// "/" a directory), owned 1000:1000.
func tarGz(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, en := range entries {
		h := &tar.Header{Name: en[0], Mode: 0o644, Uid: 1000, Gid: 1000, Size: int64(len(en[1])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(en[0], "/") {
			h.Mode, h.Typeflag = 0o755, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(en[1]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// instructionsDockerfile uses each instruction that changes files or the
// config in a way the final image shows.
const instructionsDockerfile = `FROM base
ENV DEST=/opt/dest
LABEL course=layers
EXPOSE 8080/tcp
VOLUME /data
WORKDIR /w
WORKDIR rel
COPY --chown=nobody --chmod=600 a.txt ./
COPY sub $DEST/
ADD pkg.tar.gz /unpacked/
USER nobody
RUN id -u >/tmp/uid && pwd >/tmp/pwd && echo "$DEST" >/tmp/dest
USER root
SHELL ["/bin/sh", "-xc"]
RUN : via-shell && rm /etc/nsswitch.conf
ENTRYPOINT ["/bin/echo", "ep"]
CMD ["arg"]
`

// TestBuildInstructions builds a file of COPY with --chown and --chmod,
// ADD of a local tar.gz, a relative WORKDIR, USER, an ENV expanded in a
// destination, SHELL and ENTRYPOINT with CMD, and checks the files, the
// config, the image run, and that its save is read by skopeo and
// unpacked by umoci to the kernel's overlay of its layers.
func TestBuildInstructions(t *testing.T) {
	e := newBuildEnv(t)
	e.write(t, map[string]string{"Dockerfile": instructionsDockerfile, "a.txt": "a\n", "sub/b.txt": "b\n"})
	if err := os.WriteFile(filepath.Join(e.ctx, "pkg.tar.gz"), tarGz(t, [2]string{"d/", ""}, [2]string{"d/t.txt", "in the tar\n"}), 0o644); err != nil {
		t.Fatal(err)
	}
	withImage(t, e.root, "base", func(dir string) {
		if !strings.Contains(readIn(t, dir, "etc/passwd"), "\nnobody:x:65534:65534:") {
			t.Fatal("base has no nobody of uid 65534 in /etc/passwd")
		}
	})
	out := e.mustBuild(t, "-t", "instr")
	if got := out.states(); got != "FMMMMMMMMMMMMMMMM" {
		t.Errorf("steps %s", got)
	}
	if run := out.steps[14]; !strings.Contains(run.output, "+ : via-shell\n") {
		t.Errorf("the RUN after SHELL [\"/bin/sh\", \"-xc\"] printed %q, want sh -x's trace", run.output)
	}
	withImage(t, e.root, "instr", func(dir string) {
		tree := describeTree(t, dir)
		for _, want := range []string{
			"/w/rel/a.txt -rw------- 65534:65534 2 ",     // --chown by name, --chmod
			"/opt/dest/b.txt -rw-r--r-- 0:0 2 ",          // $DEST expanded; a directory's content copied
			"/unpacked/d/t.txt -rw-r--r-- 1000:1000 11 ", // the tar unpacked, its owners kept
			"/tmp/uid -rw-r--r-- 65534:65534 6 ",         // written by USER nobody
		} {
			if !slices.ContainsFunc(tree, func(l string) bool { return strings.HasPrefix(l, want) }) {
				t.Errorf("no entry %q in the image", want)
			}
		}
		for _, gone := range []string{"unpacked/pkg.tar.gz", "etc/nsswitch.conf"} {
			if _, err := os.Lstat(filepath.Join(dir, gone)); err == nil {
				t.Errorf("/%s is in the image", gone)
			}
		}
		if got := readIn(t, dir, "tmp/uid") + readIn(t, dir, "tmp/pwd") + readIn(t, dir, "tmp/dest"); got != "65534\n/w/rel\n/opt/dest\n" {
			t.Errorf("the RUN as nobody wrote %q", got)
		}
	})
	c := inspectImage(t, e.root, "instr").Config.Config
	if !slices.Equal(c.Entrypoint, []string{"/bin/echo", "ep"}) || !slices.Equal(c.Cmd, []string{"arg"}) || c.WorkingDir != "/w/rel" ||
		c.User != "root" || !slices.Contains(c.Env, "DEST=/opt/dest") || c.Labels["course"] != "layers" ||
		!hasKey(c.ExposedPorts, "8080/tcp") || !hasKey(c.Volumes, "/data") {
		t.Errorf("config %+v", c)
	}
	if code, stdout, stderr := cli(t, e.root, "run", "--rm", "instr"); code != 0 || stdout != "ep arg\n" {
		t.Errorf("run: exit %d, %q %q; want the ENTRYPOINT with the CMD", code, stdout, stderr)
	}
	t.Run("save", func(t *testing.T) { checkSaveRoundTrip(t, e.root, "instr") })
}

func hasKey(m map[string]struct{}, k string) bool { _, ok := m[k]; return ok }

// checkSaveRoundTrip saves an image, has skopeo read the archive and
// umoci unpack it, and compares umoci's tree with the kernel's overlay of
// the image's layers.
func checkSaveRoundTrip(t *testing.T, root, ref string) {
	testutil.RequireTool(t, "skopeo")
	testutil.RequireTool(t, "umoci")
	archive := filepath.Join(t.TempDir(), "image.tar")
	if code, _, stderr := cli(t, root, "save", "-o", archive, ref); code != 0 {
		t.Fatalf("save: %s", stderr)
	}
	var info struct {
		Layers []string
		Env    []string
	}
	if err := json.Unmarshal([]byte(runTool(t, "skopeo", "inspect", "oci-archive:"+archive)), &info); err != nil {
		t.Fatal(err)
	}
	img := inspectImage(t, root, ref)
	if len(info.Layers) != len(img.Manifest.Layers) || !slices.Equal(info.Env, img.Config.Config.Env) {
		t.Errorf("skopeo reads %d layers and env %q; want %d, %q", len(info.Layers), info.Env, len(img.Manifest.Layers), img.Config.Config.Env)
	}
	rootfs := umociUnpack(t, archive, "latest")
	if diff := cmp.Diff(imageTree(t, root, ref), describeTree(t, rootfs)); diff != "" {
		t.Errorf("umoci's unpack of the saved image differs from the overlay of its layers (-overlay +umoci):\n%s", diff)
	}
}

// umociUnpack unpacks the image tagged tag of an OCI archive with umoci
// and returns its rootfs.
func umociUnpack(t *testing.T, archive, tag string) string {
	t.Helper()
	layout := t.TempDir()
	runTool(t, "tar", "-xf", archive, "-C", layout)
	bundle := filepath.Join(t.TempDir(), "bundle")
	runTool(t, "umoci", "unpack", "--image", layout+":"+tag, bundle)
	return filepath.Join(bundle, "rootfs")
}

// runTool runs a program and returns its standard output.
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
