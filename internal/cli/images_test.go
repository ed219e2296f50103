package cli

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"minidocker/internal/testutil"
)

// TestImportDeviceNodes: import leaves a root filesystem's device nodes out
// and says so in one line on standard error; --strict refuses them.
func TestImportDeviceNodes(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "dev/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
		{Name: "dev/zero", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 5},
		{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "rootfs.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := cli(t, root, "import", p, "rootfs")
	if code != 0 || !strings.HasPrefix(stdout, "sha256:") {
		t.Fatalf("import: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if want := "import: skipped 2 device nodes (the container gets its /dev from the engine); --strict refuses them\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	code, _, stderr = cli(t, root, "import", "--strict", p, "strict")
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `"dev/null"`) || !strings.Contains(stderr, "strict") {
		t.Errorf("import --strict: exit %d, stderr %q; want one line refusing dev/null", code, stderr)
	}
	if code, out, _ := cli(t, root, "images"); code != 0 || strings.Contains(out, "strict") {
		t.Errorf("images after a refused import: %q", out)
	}
}
