package layers_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/images"
	"minidocker/internal/app"
	"minidocker/internal/cli"
	"minidocker/internal/testutil"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
)

// layerRow is what the layer list and "minidocker layers" both say of a
// layer: its size and docker's added, changed and deleted counts.
type layerRow struct {
	Size                    string
	Added, Changed, Deleted int
}

// TestCountsAgreeWithCLI opens real images of a store in the TUI's image
// view, as the application hands them to it, and checks that its layer
// list shows, layer by layer, the size and counts "minidocker layers"
// prints for the same image: the base image made from this host's
// programs, and one that removes in every way a layer can.
func TestCountsAgreeWithCLI(t *testing.T) {
	testutil.RequireRoot(t)
	root := filepath.Join(t.TempDir(), "store")
	a := app.New(root)
	st, err := a.Images()
	must(t, err)
	_, err = st.CreateBase()
	must(t, err)
	_, err = st.Create("removals", []images.NewLayer{
		layerTar("etc/", "", "etc/gone", "bye", "app/", "", "app/static/", "", "app/static/old.css", "old", "dir/", "", "dir/f", "f", "big", strings.Repeat("x", 5000)),
		layerTar("etc/", "", "etc/.wh.gone", "", "app/", "", "app/static/", "", "app/static/.wh..wh..opq", "", "app/static/new.css", "new",
			"dir", "a file over the directory", "big", strings.Repeat("y", 5000)),
		layerTar("etc/", "", "etc/gone", "back"),
	}, ocispec.ImageConfig{})
	must(t, err)
	list, err := a.UISources().Images.Images()
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("the store lists %d images, want 2", len(list))
	}
	for _, img := range list {
		t.Run(img.Names[0], func(t *testing.T) {
			want := cliRows(t, root, img.Names[0])
			s, err := a.UISources().Images.ImageStack(img.ID)
			must(t, err)
			if diff := cmp.Diff(want, tuiRows(t, s)); diff != "" {
				t.Errorf("the layer list differs from minidocker layers (-cli +tui):\n%s", diff)
			}
		})
	}
}

// cliRows runs "minidocker layers" and reads its table, bottom layer
// first.
func cliRows(t *testing.T, root, image string) []layerRow {
	t.Helper()
	var out, errs bytes.Buffer
	if code := cli.Main([]string{"--root", root, "layers", image}, strings.NewReader(""), &out, &errs); code != 0 {
		t.Fatalf("layers %s: exit %d: %s", image, code, errs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")[1:] // the header
	rows := make([]layerRow, len(lines))
	for _, l := range lines {
		// # LAYER SIZE ADDED CHANGED DELETED CREATED BY…
		var i int
		var id string
		var r layerRow
		if _, err := fmt.Sscan(l, &i, &id, &r.Size, &r.Added, &r.Changed, &r.Deleted); err != nil || i >= len(rows) {
			t.Fatalf("layers row %q: %v", l, err)
		}
		rows[i] = r
	}
	return rows
}

// tuiRows reads the layer list off the image view's screen.
func tuiRows(t *testing.T, s layers.Stack) []layerRow {
	t.Helper()
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(200, 12+4*len(s.Layers))
	var rows []layerRow
	for _, l := range strings.Split(ansi.Strip(m.View()), "\n") {
		cells := strings.Split(l, "│")
		if len(cells) < 2 || len(rows) == len(s.Layers) {
			continue
		}
		row := strings.TrimLeft(cells[1], "▶▪ ")
		var i int
		var r layerRow
		if _, err := fmt.Sscanf(row, "%d %s +%d ~%d -%d", &i, &r.Size, &r.Added, &r.Changed, &r.Deleted); err == nil && i == len(rows) {
			rows = append(rows, r)
		}
	}
	return rows
}

// layerTar builds a layer from name, content pairs; a name ending in / is
// a directory.
func layerTar(files ...string) images.NewLayer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		name, body := files[i], files[i+1]
		hdr := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(body))}
		if strings.HasSuffix(name, "/") {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		}
		_ = tw.WriteHeader(hdr)
		_, _ = io.WriteString(tw, body)
	}
	_ = tw.Close()
	b := buf.Bytes()
	return images.NewLayer{CreatedBy: "test", WriteTar: func(w io.Writer) error { _, err := w.Write(b); return err }}
}
