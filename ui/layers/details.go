package layers

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"minidocker/overlay"
	"minidocker/ui/tree"
)

// details describes the selected entry in two lines: what it is and where
// it comes from, then for a whiteout or an opaque directory both of its
// forms and the kernel's rule, else what its provenance means.
func (m Model) details() (string, string) {
	n, ok := m.Selected()
	if !ok {
		return "", ""
	}
	p := safe(n.Path)
	from := m.layerName(n.Layer)
	switch {
	case n.Whiteout:
		dir, name := path.Split(n.Path)
		return fmt.Sprintf("whiteout %s · overlay: c--------- 0,0 %s in upper · OCI: %s", p, safe(name), safe(dir+".wh."+name)),
			"A whiteout hides the name in every layer below it; the kernel shows no entry there, and a commit writes it as an empty .wh. file."
	case n.Opaque:
		return fmt.Sprintf("opaque dir %s · overlay: trusted.overlay.opaque=y · OCI: %s", p, safe(path.Join(n.Path, ".wh..wh..opq"))),
			"An opaque directory shows only its own entries: the kernel stops merging the same directory from the layers below."
	}
	line := fmt.Sprintf("%s %s %s %d:%d", typeName(n.Mode), p, n.Mode.String(), n.UID, n.GID)
	if n.Mode.IsRegular() {
		line += " " + HumanSize(n.Size)
	}
	if n.Link != "" {
		line += " → " + safe(n.Link)
	}
	line += " · " + n.Kind.String() + " · from " + from
	if len(n.Shadows) > 0 {
		var s []string
		for _, l := range n.Shadows {
			s = append(s, m.layerName(l))
		}
		line += " · shadows " + strings.Join(s, ", ")
	}
	return line, rule(n.Kind)
}

func rule(k overlay.DiffKind) string {
	switch k {
	case overlay.CopiedUp:
		return "Copied up: on the first write the kernel copies a lower file whole into upper, which then shadows the lower copy."
	case overlay.MetadataOnly:
		return "Metadata only: chmod, chown or touch copies the entry up; the content is unchanged."
	case overlay.Modified:
		return "Modified: upper holds different content at this path and shadows every layer below."
	case overlay.Added:
		return "New: no layer below holds this path."
	case overlay.Removed:
		return "Removed: this layer hides the path the layers below show."
	}
	return "Unmodified: read straight from the lower layer; the container never wrote it."
}

func (m Model) layerName(i int) string {
	switch {
	case i < 0:
		return "-"
	case i < len(m.stack.Names):
		return fmt.Sprintf("layer %d (%s)", i, safe(m.stack.Names[i]))
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

// apply changes the upper and merged trees by a batch of events, without
// rebuilding either, then flattens each pane once.
func (m *Model) apply(evs []tree.Node) {
	if !m.Container() {
		return
	}
	up := len(m.stack.Layers)
	for _, ev := range evs {
		p := tree.Clean(ev.Path)
		ev.Path = p
		m.flash[p] = true
		low, inLower := m.stack.Lower.Lookup(p)
		switch ev.Kind {
		case overlay.Removed: // gone from upper: the lower entry shows again
			m.stack.Upper.Remove(p)
			if inLower {
				m.stack.Merged.Set(low)
			} else {
				m.stack.Merged.Remove(p)
			}
			continue
		case overlay.Whiteout:
			ev.Whiteout = true
			m.stack.Merged.Remove(p)
		case overlay.Opaque:
			ev.Opaque = true
			for _, c := range m.stack.Merged.Children(p) {
				if c.Layer != up {
					m.stack.Merged.Remove(c.Path)
				}
			}
		case overlay.Added:
			if inLower {
				ev.Kind = overlay.CopiedUp
			}
		}
		ev.Layer = up
		ev.Shadows = nil
		if inLower {
			ev.Shadows = []int{low.Layer}
		}
		m.stack.Upper.Set(ev)
		if !ev.Whiteout {
			mv := ev
			if !inLower && !ev.Opaque {
				mv.Kind = overlay.Added
			}
			m.stack.Merged.Set(mv)
		}
	}
	m.panes[upperPane].refresh(m.opts)
	m.panes[mergedPane].refresh(m.opts)
}
