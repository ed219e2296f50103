package ui

import (
	"fmt"
	"strings"
	"time"

	"minidocker/internal/human"
)

// mainText is the content of the main panel's tab for the selection.
func (m Model) mainText() string {
	p := m.panels[m.current()]
	it, ok := p.Selected()
	switch {
	case !ok && p.HasFilter():
		return "nothing matches the filter \"" + human.Visible(p.Filter()) + "\": esc clears it"
	case !ok && m.current() == containersPanel && m.src.NoRun != "":
		return m.src.NoRun
	case !ok:
		return ""
	}
	switch m.current() {
	case imagesPanel:
		for _, img := range m.images {
			if img.ID == it.ID {
				return imageText(img, m.tabs()[m.tab])
			}
		}
	case containersPanel:
		for _, c := range m.containers {
			if c.ID == it.ID {
				if m.tabs()[m.tab] == "Inspect" {
					return c.Inspect
				}
				return containerText(c)
			}
		}
	case mountsPanel:
		for _, mt := range m.mounts {
			if mt.Point == it.ID {
				return mountText(mt)
			}
		}
	}
	return ""
}

func imageText(img Image, tab string) string {
	var b strings.Builder
	switch tab {
	case "History":
		for _, h := range img.History {
			empty := ""
			if h.EmptyLayer {
				empty = " (empty)"
			}
			fmt.Fprintf(&b, "%s  %s%s\n", date(h.Created), h.CreatedBy, empty)
			if h.Comment != "" {
				fmt.Fprintf(&b, "    %s\n", h.Comment)
			}
		}
		return b.String()
	case "Config":
		return img.Config
	}
	fmt.Fprintf(&b, "ID       %s\nNames    %s\nCreated  %s\nSize     %s\n\n", img.ID, strings.Join(img.Names, ", "), date(img.Created), human.Size(img.Size))
	fmt.Fprintf(&b, "%3s %-12s %9s  %s\n", "#", "LAYER", "SIZE", "CREATED BY")
	for i, l := range img.Layers {
		id := strings.TrimPrefix(l.DiffID, "sha256:")
		fmt.Fprintf(&b, "%3d %-12.12s %9s  %s\n", i, id, human.Size(l.Size), l.CreatedBy)
	}
	b.WriteString("\nenter: layers, trees, efficiency · r: run a container")
	return b.String()
}

func containerText(c Container) string {
	state := c.State()
	return fmt.Sprintf("Name     %s\nID       %s\nImage    %s\nCommand  %s\nStatus   %s\nCreated  %s\n\nenter: layer view, shell, logs, stats",
		c.Name, c.ID, c.Image, c.Command, state, date(c.Created))
}

func mountText(mt Mount) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Mount point  %s\n", mt.Point)
	if mt.Namespace != "" {
		fmt.Fprintf(&b, "Namespace    %s\n", mt.Namespace)
	}
	if mt.Owner != "" {
		fmt.Fprintf(&b, "Owner        %s\n", mt.Owner)
	}
	fmt.Fprintf(&b, "Upper        %s\nWork         %s\nLower (top first):\n", orDash(mt.Upper), orDash(mt.Work))
	for i, l := range mt.Lower {
		l = layerText(mt, i) + l
		fmt.Fprintf(&b, "  %d %s\n", len(mt.Lower)-1-i, l)
	}
	b.WriteString("\nenter: the layers and the merged view, read from the layer directories")
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func date(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
