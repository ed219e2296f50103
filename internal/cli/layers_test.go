package cli

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/images"
	"minidocker/internal/testutil"
)

// layerTar builds a layer from name → content; a name ending in / is a
// directory, and whiteout markers are spelled out in code, never committed.
func layerTar(files ...string) images.NewLayer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(files); i += 2 {
		name, body := files[i], files[i+1]
		hdr := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(body))}
		if strings.HasSuffix(name, "/") {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		}
		tw.WriteHeader(hdr)
		io.WriteString(tw, body)
	}
	tw.Close()
	b := buf.Bytes()
	return images.NewLayer{CreatedBy: "test", WriteTar: func(w io.Writer) error { _, err := w.Write(b); return err }}
}

// wasteful is an image whose second layer rewrites a big file and deletes another.
func wasteful(t *testing.T, root string) {
	t.Helper()
	s, err := images.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 100000)
	_, err = s.Create("wasteful", []images.NewLayer{
		layerTar("etc/", "", "etc/big", big, "etc/gone", "bye", "app/", "", "app/a", "a"),
		layerTar("etc/", "", "etc/big", big+"y", "etc/.wh.gone", "", "app/", "", "app/.wh..wh..opq", "", "app/b", "b"),
	}, ocispec.ImageConfig{})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAnalysisCommands(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	wasteful(t, root)

	code, out, errs := cli(t, root, "layers", "wasteful")
	if code != 0 || !strings.Contains(out, "1  ") || !strings.Contains(out, "test") {
		t.Fatalf("layers: %d %q %q", code, out, errs)
	}
	// Layer 1 adds app/b, changes etc/big, deletes etc/gone and app/a (opaque).
	fields := strings.Fields(strings.Split(out, "\n")[1])
	if got := strings.Join(fields[3:6], " "); got != "1 3 2" && got != "1 2 2" {
		t.Errorf("layer 1 added/changed/deleted = %s; row %q", got, fields)
	}

	code, out, _ = cli(t, root, "tree", "--json", "--layer", "1", "wasteful")
	var lines []treeLine
	if code != 0 || json.Unmarshal([]byte(out), &lines) != nil {
		t.Fatalf("tree --json: %d %q", code, out)
	}
	kinds := map[string]string{}
	for _, l := range lines {
		kinds[l.Path] = l.Kind
	}
	for p, want := range map[string]string{"/etc/big": "modified", "/etc/gone": "removed (whiteout)", "/app/a": "removed (opaque)", "/app/b": "added"} {
		if kinds[p] != want {
			t.Errorf("tree --layer 1: %s is %q, want %q (all: %v)", p, kinds[p], want, kinds)
		}
	}
	code, out, _ = cli(t, root, "tree", "wasteful", "/app")
	if code != 0 || !strings.Contains(out, "b") || strings.Contains(out, " a\n") {
		t.Errorf("tree /app: %d\n%s", code, out)
	}

	code, out, _ = cli(t, root, "analyze", "wasteful")
	if code != 0 || !strings.Contains(out, "wasted bytes:        100kB") {
		t.Errorf("analyze: %d\n%s", code, out)
	}
	code, out, _ = cli(t, root, "analyze", "--ci", "wasteful")
	if code != 1 || !strings.Contains(out, "FAIL: lowest-efficiency") {
		t.Errorf("analyze --ci on a wasteful image: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, root, "analyze", "--ci", "--lowest-efficiency", "0.4", "--highest-user-wasted-percent", "2", "--highest-wasted-bytes", "200kB", "wasteful")
	if code != 0 || strings.Contains(out, "FAIL") {
		t.Errorf("analyze --ci with loose rules: exit %d\n%s", code, out)
	}
	// 20MiB is twenty mebibytes, not 20 bytes: the 100kB wasted pass.
	code, out, _ = cli(t, root, "analyze", "--ci", "--lowest-efficiency", "0.4", "--highest-user-wasted-percent", "2", "--highest-wasted-bytes", "20MiB", "wasteful")
	if code != 0 || !strings.Contains(out, "PASS: highest-wasted-bytes (100kB <= 21MB)") {
		t.Errorf("analyze --ci --highest-wasted-bytes 20MiB: exit %d\n%s", code, out)
	}
	// The same analysis straight from an archive file, not loaded.
	archive := filepath.Join(t.TempDir(), "w.tar")
	if code, _, errs := cli(t, root, "save", "--format", "docker-archive", "-o", archive, "wasteful"); code != 0 {
		t.Fatalf("save: %s", errs)
	}
	code, out, _ = cli(t, filepath.Join(t.TempDir(), "empty"), "analyze", archive)
	if code != 0 || !strings.Contains(out, "wasted bytes:        100kB") || !strings.Contains(out, "archive") {
		t.Errorf("analyze ARCHIVE: %d\n%s", code, out)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"tree", "nosuch"}, 1, "no image, container or overlay mount nosuch"},
		{[]string{"tree", "wasteful", "/nope"}, 1, "path /nope: not in image"},
		{[]string{"tree", "--layer", "7", "wasteful"}, 125, "--layer 7"},
		{[]string{"analyze", "--highest-wasted-bytes", "lots", "wasteful"}, 125, `--highest-wasted-bytes: size "lots"`},
		{[]string{"analyze", "--ci", "--lowest-efficiency", "NaN", "wasteful"}, 125, "--lowest-efficiency NaN"},
		{[]string{"analyze", "--ci", "--highest-user-wasted-percent", "Inf", "wasteful"}, 125, "--highest-user-wasted-percent +Inf"},
		{[]string{"analyze", "/nonexistent/archive.tar"}, 1, "/nonexistent/archive.tar"},
	} {
		code, _, errs := cli(t, root, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}

func TestTreeNamesBothImageAndContainer(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	root := filepath.Join(t.TempDir(), "store")
	wasteful(t, root)
	if code, _, errs := cli(t, root, "image", "create-base"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := cli(t, root, "create", "--name", "wasteful", "base", "true"); code != 0 {
		t.Fatal(errs)
	}
	t.Cleanup(func() { cli(t, root, "rm", "-f", "wasteful") })
	code, _, errs := cli(t, root, "tree", "wasteful")
	if code != 1 || !strings.Contains(errs, "names both image") {
		t.Errorf("tree of a name both an image and a container have: exit %d, %q", code, errs)
	}
}

// TestTreeChangedShowsDeletions checks that tree --changed lists what a
// container deleted (a whiteout in its upper dir), not only what it added.
func TestTreeChangedShowsDeletions(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	root := filepath.Join(t.TempDir(), "store")
	if code, _, errs := cli(t, root, "image", "create-base"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := cli(t, root, "tree", "base", "/etc/passwd"); code != 0 {
		t.Fatalf("base has no /etc/passwd to delete: %s", errs)
	}
	// chmod to the mode it has copies /etc/group up without changing it.
	if code, _, errs := cli(t, root, "run", "--name", "chg", "base", "sh", "-c", "rm /etc/passwd && echo hi > /added && chmod 644 /etc/group"); code != 0 {
		t.Fatal(errs)
	}
	t.Cleanup(func() { cli(t, root, "rm", "-f", "chg") })
	code, out, errs := cli(t, root, "tree", "--changed", "--json", "chg")
	var lines []treeLine
	if code != 0 || json.Unmarshal([]byte(out), &lines) != nil {
		t.Fatalf("tree --changed: %d %q %q", code, out, errs)
	}
	kinds := map[string]string{}
	for _, l := range lines {
		kinds[l.Path] = l.Kind
	}
	for p, want := range map[string]string{"/added": "added", "/etc/passwd": "removed (whiteout)"} {
		if kinds[p] != want {
			t.Errorf("tree --changed: %s is %q, want %q (all: %v)", p, kinds[p], want, kinds)
		}
	}
	code, out, _ = cli(t, root, "tree", "--changed", "chg", "/etc")
	if code != 0 || !strings.Contains(out, "passwd") {
		t.Errorf("tree --changed chg /etc does not show the deleted passwd:\n%s", out)
	}
	// diff lists every path of the upper directory as docker does, the
	// copied-up /etc/group too; the layers row counts no fewer.
	code, out, _ = cli(t, root, "diff", "chg")
	letters := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		letters[l[:1]]++
	}
	for _, want := range []string{"C /etc", "C /etc/group", "D /etc/passwd", "A /added"} {
		if !slices.Contains(strings.Split(out, "\n"), want) {
			t.Errorf("diff: no %q in\n%s", want, out)
		}
	}
	_, lay, _ := cli(t, root, "layers", "chg")
	row := strings.Fields(lineWith(lay, "upper"))
	if len(row) < 6 {
		t.Fatalf("layers chg: no upper row in\n%s", lay)
	}
	for i, k := range []string{"A", "C", "D"} {
		if n, _ := strconv.Atoi(row[3+i]); n < letters[k] {
			t.Errorf("layers counts %s %s for the upper dir, diff lists %d:\n%s\n%s", row[3+i], k, letters[k], lay, out)
		}
	}
}
