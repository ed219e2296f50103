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
			"Kernel rule: a whiteout hides this name in every lower layer."
	case n.Opaque:
		return fmt.Sprintf("opaque dir %s · overlay: trusted.overlay.opaque=y · OCI: %s", p, safe(path.Join(n.Path, ".wh..wh..opq"))),
			"Kernel rule: an opaque dir hides what lower layers hold beneath it."
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
	// Rows point at their nodes: only a path added or removed, or an
	// option that depends on kind or size, needs the rows flattened again.
	all := len(m.opts.Hide) > 0 || m.opts.ChangedOnly || m.opts.SortBySize
	upChanged, mergedChanged := all, all
	set := func(t *tree.Tree, n tree.Node) {
		if t.Set(n) {
			upChanged = upChanged || t == m.stack.Upper
			mergedChanged = mergedChanged || t == m.stack.Merged
		}
	}
	for _, ev := range evs {
		p := tree.Clean(ev.Path)
		ev.Path = p
		m.flash[p] = true
		low, inLower := m.stack.Lower.Lookup(p)
		switch ev.Kind {
		case overlay.Removed: // gone from upper: the lower entry shows again
			upChanged = m.stack.Upper.Remove(p) || upChanged
			if inLower {
				set(m.stack.Merged, low)
			} else {
				mergedChanged = m.stack.Merged.Remove(p) || mergedChanged
			}
			continue
		case overlay.Whiteout:
			ev.Whiteout = true
			mergedChanged = m.stack.Merged.Remove(p) || mergedChanged
		case overlay.Opaque:
			ev.Opaque = true
			for _, c := range m.stack.Merged.Children(p) {
				if c.Layer != up {
					mergedChanged = m.stack.Merged.Remove(c.Path) || mergedChanged
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
		set(m.stack.Upper, ev)
		if !ev.Whiteout {
			mv := ev
			if !inLower && !ev.Opaque {
				mv.Kind = overlay.Added
			}
			set(m.stack.Merged, mv)
		}
	}
	if upChanged {
		m.panes[upperPane].refresh(m.opts)
	}
	if mergedChanged {
		m.panes[mergedPane].refresh(m.opts)
	}
}
