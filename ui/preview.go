package ui

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

var errNoContent = errors.New("the content of this entry cannot be read here")

// previewText shows b as text when it is text, else as a hex dump.
func previewText(b []byte) string {
	if utf8.Valid(b) && !bytes.ContainsRune(b, 0) {
		return string(b)
	}
	return hex.Dump(b)
}

// previewEntry previews the entry n of the layer view: a file's content,
// a directory's entries as the pane shows them, or, for an entry that has
// nothing to show, a one-line message saying why.
func (d detail) previewEntry(n tree.Node) (detail, tea.Cmd) {
	op := "preview " + human.Visible(n.Path)
	switch {
	case d.layers.Hidden(n) != "":
		return d, report(op, errors.New(d.layers.Hidden(n)))
	case n.IsDir():
		text := dirListing(n.Path, d.layers.Children(n.Path))
		return d, func() tea.Msg { return previewMsg{text: text} }
	case n.Mode.IsRegular():
		return d, readPreview(d.layers.Open(), n)
	case n.Mode&fs.ModeSymlink != 0:
		return d, report(op, fmt.Errorf("a symlink to %s holds no content of its own", human.Visible(n.Link)))
	}
	return d, report(op, fmt.Errorf("a %s holds no content", human.TypeWord(n.Mode)))
}

// dirListing lists a directory's entries as ls -l does, each with the
// marker of how it changed, what a layer removed included. The preview
// makes the text safe to print line by line: a name only has its line
// breaks shown as ␤, so that it stays on its line.
func dirListing(dir string, kids []tree.Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d entries\n\n", oneLine(dir), len(kids))
	ow := 0
	for _, k := range kids {
		ow = max(ow, len(fmt.Sprintf("%d:%d", k.UID, k.GID)))
	}
	for _, k := range kids {
		mode, size, name := human.Mode(k.Mode), "", oneLine(k.Name())
		switch {
		case k.Whiteout:
			mode, name = "c---------", name+" ⊘ whiteout"
		case k.IsDir():
			name += "/"
		case k.Link != "":
			name += " → " + oneLine(k.Link)
		case k.Mode.IsRegular():
			size = human.Size(k.Size)
		}
		fmt.Fprintf(&b, "%s %s %*s %6s %s\n", theme.Marker(k.Mark()), mode, ow, fmt.Sprintf("%d:%d", k.UID, k.GID), size, name)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func oneLine(s string) string { return strings.NewReplacer("\n", "␤", "\r", "␤").Replace(s) }

// extract copies the entry n to the host path dst, refusing to replace
// an existing file.
func extract(open func(tree.Node) (io.ReadCloser, error), n tree.Node, dst string) error {
	if open == nil {
		return errNoContent
	}
	if !n.Mode.IsRegular() {
		return fmt.Errorf("extract %s: only regular files can be extracted", human.Visible(n.Path))
	}
	r, err := open(n)
	if err != nil {
		return fmt.Errorf("extract %s: %w", human.Visible(n.Path), err)
	}
	defer r.Close()
	f, err := os.OpenFile(filepath.Clean(dst), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("extract %s: %w", human.Visible(n.Path), err)
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Close())
}
