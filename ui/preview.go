package ui

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

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

// extract copies the entry n to the host path dst, refusing to replace
// an existing file.
func extract(open func(tree.Node) (io.ReadCloser, error), n tree.Node, dst string) error {
	if open == nil {
		return errNoContent
	}
	if !n.Mode.IsRegular() {
		return fmt.Errorf("extract %s: only regular files can be extracted", n.Path)
	}
	r, err := open(n)
	if err != nil {
		return fmt.Errorf("extract %s: %w", n.Path, err)
	}
	defer r.Close()
	f, err := os.OpenFile(filepath.Clean(dst), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("extract %s: %w", n.Path, err)
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Close())
}
