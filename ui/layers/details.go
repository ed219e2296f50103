package layers

import (
	"fmt"
	"io/fs"
	"path"

	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui/tree"
)

// details describes the selected entry in two lines: what it is (type,
// path, ls -l mode, owner, size), how it got there (its cause, with both
// sizes of a copy-up, the link count and other names, what a whiteout or
// an opaque directory hides) and how it differs from the layers below (the
// letter docker diff prints); then the rule behind the cause and the
// section of the document that states it.
func (m Model) details() (string, string) {
	n, ok := m.Selected()
	if !ok {
		return "", ""
	}
	c, ok := m.causeOf(n)
	if !ok {
		return m.what(n, c) + " · from " + m.layerName(n.Layer), ""
	}
	line := m.what(n, c) + " · "
	switch {
	case c.Image && m.Container():
		// The container's difference comes first: none.
		line += "unmodified by the container · in " + m.layerName(n.Layer) + ": " + c.Summary()
	case c.Image && !m.alone:
		line += "in " + m.layerName(n.Layer) + ": " + c.Summary() + " · diff " + diffText(c.Diff)
	default:
		line += c.Summary() + " · diff " + diffText(c.Diff)
	}
	return line, ruleLine(c.Rule())
}

// what says what the entry is: its type, path, mode as ls -l prints it,
// owner and size; a whiteout with its tar name, an opaque directory with
// its mark.
func (m Model) what(n tree.Node, c overlay.Cause) string {
	p := human.Visible(n.Path)
	dir, name := path.Split(n.Path)
	switch {
	case n.Whiteout:
		return fmt.Sprintf("whiteout %s c--------- 0,0 (tar: %s)", p, human.Visible(dir+".wh."+name))
	case n.Opaque && n.IsDir():
		return fmt.Sprintf("dir %s %s %d:%d opaque=y (tar: %s)", p, human.Mode(n.Mode), n.UID, n.GID,
			human.Visible(path.Join(n.Path, ".wh..wh..opq")))
	}
	s := typeName(n.Mode) + " " + p
	if c.Kind == overlay.CauseHidden || c.Kind == overlay.CauseLayerHidden {
		s = "hidden " + s
	}
	s += fmt.Sprintf(" %s %d:%d", human.Mode(n.Mode), n.UID, n.GID)
	if n.Mode.IsRegular() {
		size := n.Size
		if c.Held && c.Kind != overlay.CauseUnknown {
			size = c.Size
		}
		s += " " + human.Size(size)
	}
	if n.Link != "" {
		s += " → " + human.Visible(n.Link)
	}
	return s
}

// diffText is a difference as docker diff's letter and its name: "C
// modified"; a kind diff does not list goes by its name alone.
func diffText(k overlay.DiffKind) string {
	if l := k.Letter(); l != " " {
		return l + " " + k.String()
	}
	return k.String()
}

// ruleLine is the rule with its source first, so that a narrow screen cuts
// the rule's end rather than where it is written.
func ruleLine(r overlay.Rule) string {
	return fmt.Sprintf("%s § %s: %s", r.Doc, r.Section, r.Text)
}

func (m Model) layerName(i int) string {
	switch {
	case i < 0:
		return "-"
	case i < len(m.stack.Names):
		return fmt.Sprintf("layer %d (%s)", i, human.Visible(m.stack.Names[i]))
	case i == len(m.stack.Layers) && m.Container():
		return "upper"
	}
	return fmt.Sprintf("layer %d", i)
}

func typeName(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "dir"
	case mode&fs.ModeSymlink != 0:
		return "symlink"
	case mode&fs.ModeCharDevice != 0:
		return "char device"
	case mode&fs.ModeDevice != 0:
		return "block device"
	case mode&fs.ModeNamedPipe != 0:
		return "fifo"
	case mode&fs.ModeSocket != 0:
		return "socket"
	}
	return "file"
}
