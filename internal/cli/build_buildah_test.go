package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
)

// buildahDockerfile exercises what a builder must get right to give the
// same files as another: a stage copied from, a directory with a symbolic
// link, a hard link, modes and an empty directory, COPY --chown and
// --chmod into directories that do not exist yet, ADD of a tar, and a RUN
// that deletes (whiteouts), links and changes modes and owners. FROM names
// the base as each tool knows it.
const buildahDockerfile = `FROM {{base}} AS build
RUN mkdir -p /out/bin && echo built >/out/bin/tool && chmod 750 /out/bin/tool && echo junk >/junk
FROM {{base}}
WORKDIR /app
COPY tree/ ./tree/
COPY --chown=nobody --chmod=600 tree/a.txt /opt/dest/owned.txt
ADD pkg.tar.gz /pkg/
COPY --from=build /out/ /usr/local/
RUN rm /etc/nsswitch.conf && rm -r tree/empty && ln -s /app/tree/a.txt abs && mkdir -m 1777 /var/made && touch /tmp/n && chown nobody /tmp/n
CMD ["/bin/sh"]
`

// TestBuildSameAsBuildah builds one Dockerfile with minidocker and with
// buildah bud --layers --isolation chroot, from the same base copied into
// buildah's storage by skopeo, and compares the two images' trees as umoci
// unpacks them: paths, types, modes, owners, sizes, content, link targets
// and hard links, all but times.
func TestBuildSameAsBuildah(t *testing.T) {
	testutil.RequireTool(t, "buildah")
	testutil.RequireTool(t, "skopeo")
	testutil.RequireTool(t, "umoci")
	e := newBuildEnv(t)
	e.write(t, map[string]string{
		"Dockerfile":         strings.ReplaceAll(buildahDockerfile, "{{base}}", "base"),
		"Dockerfile.buildah": strings.ReplaceAll(buildahDockerfile, "{{base}}", "localhost/base"),
		"tree/a.txt":         "a\n", "tree/run.sh": "#!/bin/sh\n", "tree/sub/s.txt": "s\n", "tree/.hidden": "h\n",
	})
	tree := func(p string) string { return filepath.Join(e.ctx, "tree", p) }
	for _, err := range []error{
		os.Chmod(tree("run.sh"), 0o755), os.Chmod(tree("sub"), 0o700), os.Mkdir(tree("empty"), 0o750),
		os.Symlink("a.txt", tree("link")), os.Link(tree("a.txt"), tree("hard")),
		os.WriteFile(filepath.Join(e.ctx, "pkg.tar.gz"), tarGz(t, [2]string{"lib/", ""}, [2]string{"lib/p.txt", "p\n"}), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	e.mustBuild(t, "-t", "same-md")
	ours := describeTree(t, umociUnpack(t, saveImage(t, e.root, "same-md"), "latest"))

	// buildah's storage for this test only; nothing of the host's.
	dir := t.TempDir()
	bstore := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"}
	buildah := func(args ...string) string {
		t.Helper()
		return runTool(t, "buildah", append(slices.Clone(bstore), args...)...)
	}
	t.Cleanup(func() {
		for _, args := range [][]string{{"rm", "--all"}, {"rmi", "--all", "--force"}} {
			if out, err := exec.Command("buildah", append(slices.Clone(bstore), args...)...).CombinedOutput(); err != nil {
				t.Errorf("buildah %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	})
	runTool(t, "skopeo", "copy", "-q", "oci-archive:"+saveImage(t, e.root, "base"),
		"containers-storage:[vfs@"+filepath.Join(dir, "root")+"+"+filepath.Join(dir, "run")+"]localhost/base:latest")
	buildah("bud", "-q", "--layers", "--isolation", "chroot", "-t", "same:bh", "-f", filepath.Join(e.ctx, "Dockerfile.buildah"), e.ctx)
	layout := filepath.Join(t.TempDir(), "layout")
	buildah("push", "-q", "same:bh", "oci:"+layout+":bh")
	bundle := filepath.Join(t.TempDir(), "bundle")
	runTool(t, "umoci", "unpack", "--image", layout+":bh", bundle)
	theirs := describeTree(t, filepath.Join(bundle, "rootfs"))

	// buildah makes /run, where it mounts its own files, in the first
	// RUN's layer; minidocker's engine leaves the image's tree alone.
	if run := "/run drwxr-xr-x 0:0"; slices.Contains(theirs, run) && !slices.Contains(ours, run) {
		theirs = slices.DeleteFunc(theirs, func(l string) bool { return l == run })
	}
	if diff := cmp.Diff(theirs, ours); diff != "" {
		t.Errorf("minidocker's image differs from buildah's (-buildah +minidocker):\n%s", diff)
	}
}

// saveImage saves an image to an OCI archive and returns its path.
func saveImage(t *testing.T, root, ref string) string {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	if code, _, stderr := cli(t, root, "save", "-o", archive, ref); code != 0 {
		t.Fatalf("save %s: %s", ref, stderr)
	}
	return archive
}
