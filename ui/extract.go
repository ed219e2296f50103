package ui

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/ui/dialog"
	"minidocker/ui/tree"
)

// Extracting a directory writes what the focused pane shows beneath it (a
// layer alone, layers merged, the container's view), each file read from
// the layer that provides it, as a directory or as a tar: the dialog asks
// which. What a layer removed is left out; device nodes too, whose numbers
// the tree does not hold. The trees hold no times: what is written gets
// the time of writing.

// askExtract asks where to extract the entry n, or says why it cannot be.
func (d detail) askExtract(n tree.Node) tea.Cmd {
	op := "extract " + human.Visible(n.Path)
	switch {
	case d.layers.Hidden(n) != "":
		return report(op, errors.New(d.layers.Hidden(n)))
	case n.IsDir(), n.Mode.IsRegular():
		return func() tea.Msg { return extractAskMsg{n} }
	}
	return report(op, errors.New("only files and directories can be extracted"))
}

// extractDialog is the form that asks where to, and for a directory, as
// what.
func extractDialog(m Model, n tree.Node) dialog.Model {
	name := human.Visible(n.Name())
	if n.Path == "/" {
		name = "rootfs"
	}
	if !n.IsDir() {
		return dialog.Form(m.th, m.keys, askExtract, "Extract", human.Visible(n.Path)+" to a host path:",
			[]dialog.Field{{Label: "path", Value: "/tmp/" + name}})
	}
	return dialog.Form(m.th, m.keys, askExtract, "Extract", "the directory "+human.Visible(n.Path)+" as this pane shows it, to a host path:",
		[]dialog.Field{{Label: "path", Value: "/tmp/" + name}, {Label: "as", Value: "dir", Hint: "dir or tar"}})
}

// extractAnswer extracts the selected entry as the form says.
func (m Model) extractAnswer(v []string) (tea.Model, tea.Cmd) {
	if m.detail == nil {
		return m, nil
	}
	l := m.detail.layers
	n, ok := l.Selected()
	if !ok || len(v) == 0 {
		return m, nil
	}
	open, dst := l.Open(), strings.TrimSpace(v[0])
	if !n.IsDir() {
		return m.start("extracting", do("extracted to "+dst, func() error { return extract(open, n, dst) }))
	}
	write := extractDir
	as := "dir"
	if len(v) > 1 {
		as = strings.ToLower(strings.TrimSpace(v[1]))
	}
	switch as {
	case "dir", "directory", "":
	case "tar":
		write = extractTar
	default:
		return m, report("extract "+human.Visible(n.Path), fmt.Errorf("as %q: want dir or tar", as))
	}
	entries := l.Subtree(n.Path)
	return m.start("extracting", func() tea.Msg {
		left, err := write(open, entries, n.Path, dst)
		what := fmt.Sprintf("extracted %s to %s", human.Visible(n.Path), human.Visible(dst))
		if left > 0 {
			what += fmt.Sprintf(" (%d device nodes, fifos or sockets left out)", left)
		}
		return doneMsg{what, err}
	})
}

// entryOf is the name of the entry at p beneath the extracted directory
// root: "." for root itself.
func entryOf(root, p string) string {
	if p == root {
		return "."
	}
	if root == "/" {
		return strings.TrimPrefix(p, "/")
	}
	return strings.TrimPrefix(p, root+"/")
}

// permOf is the part of a mode chmod sets.
func permOf(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// extractDir writes entries, the subtree of root parents first (as
// layers.Model.Subtree lists it), into the new directory dst, and returns
// how many special files it left out. Names come from a layer: os.Root
// keeps every write inside dst, even past a symlink an entry made.
func extractDir(open func(tree.Node) (io.ReadCloser, error), entries []tree.Node, root, dst string) (int, error) {
	if open == nil {
		return 0, errNoContent
	}
	dst = filepath.Clean(dst)
	if err := os.Mkdir(dst, 0o700); err != nil {
		return 0, fmt.Errorf("extract %s: %w", human.Visible(root), err)
	}
	r, err := os.OpenRoot(dst)
	if err != nil {
		return 0, fmt.Errorf("extract %s: %w", human.Visible(root), err)
	}
	defer r.Close()
	left := 0
	var dirs []tree.Node
	for _, e := range entries {
		name := entryOf(root, e.Path)
		var err error
		switch {
		case e.IsDir():
			if name != "." {
				err = r.Mkdir(name, 0o700)
			}
			dirs = append(dirs, e)
		case e.Mode.IsRegular():
			err = copyInto(r, name, open, e)
		case e.Mode&fs.ModeSymlink != 0:
			err = r.Symlink(e.Link, name)
		default:
			left++
			continue
		}
		if err == nil && os.Geteuid() == 0 {
			err = r.Lchown(name, int(e.UID), int(e.GID))
		}
		if err != nil {
			return left, fmt.Errorf("extract %s: %w", human.Visible(e.Path), err)
		}
	}
	// Directories take their modes last, deepest first: a read-only one
	// would have refused its entries.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := r.Chmod(entryOf(root, dirs[i].Path), permOf(dirs[i].Mode)); err != nil {
			return left, fmt.Errorf("extract %s: %w", human.Visible(dirs[i].Path), err)
		}
	}
	return left, nil
}

// copyInto writes the content of e to the new file name under r.
func copyInto(r *os.Root, name string, open func(tree.Node) (io.ReadCloser, error), e tree.Node) error {
	src, err := open(e)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, src)
	if err == nil {
		err = f.Chmod(permOf(e.Mode))
	}
	return errors.Join(err, f.Close())
}

// extractTar writes entries, the subtree of root parents first, as a tar
// at the new file dst, named beneath root's own name as tar would name
// them, and returns how many device nodes and sockets it left out.
func extractTar(open func(tree.Node) (io.ReadCloser, error), entries []tree.Node, root, dst string) (left int, err error) {
	if open == nil {
		return 0, errNoContent
	}
	f, err := os.OpenFile(filepath.Clean(dst), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, fmt.Errorf("extract %s: %w", human.Visible(root), err)
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	tw := tar.NewWriter(f)
	for _, e := range entries {
		hdr, ok := tarHeader(e, tarName(root, e.Path))
		switch {
		case !ok:
			left++
			continue
		case hdr.Name == "":
			continue // the root of the filesystem: tar names it by its entries
		}
		if err := writeEntry(tw, hdr, open, e); err != nil {
			return left, fmt.Errorf("extract %s: %w", human.Visible(e.Path), err)
		}
	}
	return left, tw.Close()
}

// tarName is the name in the tar of the entry at p: beneath root's own
// base name ("etc/passwd" for /etc/passwd from /etc), or relative to the
// filesystem's root.
func tarName(root, p string) string {
	if root == "/" {
		return strings.TrimPrefix(p, "/")
	}
	base := path.Base(root)
	if p == root {
		return base
	}
	return base + "/" + strings.TrimPrefix(p, root+"/")
}

// tarHeader is e's header, or false for a type the tree cannot write.
func tarHeader(e tree.Node, name string) (*tar.Header, bool) {
	mode := int64(e.Mode.Perm())
	if e.Mode&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if e.Mode&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if e.Mode&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	h := &tar.Header{Name: name, Mode: mode, Uid: int(e.UID), Gid: int(e.GID), Format: tar.FormatPAX}
	switch {
	case e.IsDir():
		h.Typeflag = tar.TypeDir
		if name != "" {
			h.Name += "/"
		}
	case e.Mode.IsRegular():
		h.Typeflag, h.Size = tar.TypeReg, e.Size
	case e.Mode&fs.ModeSymlink != 0:
		h.Typeflag, h.Linkname = tar.TypeSymlink, e.Link
	case e.Mode&fs.ModeNamedPipe != 0:
		h.Typeflag = tar.TypeFifo
	default:
		return nil, false
	}
	return h, true
}

// writeEntry writes a header and, for a file, its content, which must
// still be the size the tree says.
func writeEntry(tw *tar.Writer, hdr *tar.Header, open func(tree.Node) (io.ReadCloser, error), e tree.Node) error {
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	src, err := open(e)
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := io.CopyN(tw, src, hdr.Size); err != nil {
		return fmt.Errorf("read %d bytes: %w (the file changed?)", hdr.Size, err)
	}
	return nil
}
