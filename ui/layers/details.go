package layers

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"minidocker/internal/human"
	"minidocker/overlay"
)

// details describes the selected entry in two lines: what it is and where
// it comes from, then for a whiteout or an opaque directory both of its
// forms and the kernel's rule, else what its provenance means.
func (m Model) details() (string, string) {
	n, ok := m.Selected()
	if !ok {
		return "", ""
	}
	p := human.Visible(n.Path)
	from := m.layerName(n.Layer)
	switch {
	case n.Whiteout:
		dir, name := path.Split(n.Path)
		return fmt.Sprintf("whiteout %s · overlay: c--------- 0,0 %s in upper · OCI: %s", p, human.Visible(name), human.Visible(dir+".wh."+name)),
			"Kernel rule: a whiteout hides this name in every lower layer."
	case n.Opaque:
		return fmt.Sprintf("opaque dir %s · overlay: trusted.overlay.opaque=y · OCI: %s", p, human.Visible(path.Join(n.Path, ".wh..wh..opq"))),
			"Kernel rule: an opaque dir hides what lower layers hold beneath it."
	}
	line := fmt.Sprintf("%s %s %s %d:%d", typeName(n.Mode), p, n.Mode.String(), n.UID, n.GID)
	if n.Mode.IsRegular() {
		line += " " + human.Size(n.Size)
	}
	if n.Link != "" {
		line += " → " + human.Visible(n.Link)
	}
	line += " · " + n.Kind.String() + " · from " + from
	if len(n.Shadows) > 0 {
		var s []string
		for _, l := range n.Shadows {
			s = append(s, m.layerName(l))
		}
		line += " · shadows " + strings.Join(s, ", ")
	}
	return line, rule(n.Kind, m.Container())
}

func rule(k overlay.DiffKind, container bool) string {
	if !container && k == overlay.Unmodified {
		return "Unmodified: the layers above leave this entry as its layer wrote it."
	}
	switch k {
	case overlay.CopiedUp:
		return "Copied up: the first write copied the lower entry whole into upper."
	case overlay.MetadataOnly:
		return "Metadata only: chmod, chown or touch copied it up; content unchanged."
	case overlay.Modified:
		return "Modified: this layer holds other content here, shadowing those below."
	case overlay.Added:
		return "New: no layer below holds this path."
	case overlay.Removed:
		return "Removed: this layer hides the path the layers below show."
	}
	return "Unmodified: read straight from a lower layer, never written."
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
