package ui

import (
	tea "charm.land/bubbletea/v2"

	"minidocker/ui/meter"
)

// withMeter turns the disk meter on over the layers of an image's or a
// container's view, when the application reads meters; it reads until
// the view closes. Call it before the view is sized.
func (d detail) withMeter(m Model) (detail, tea.Cmd) {
	if m.src.Meter == nil || d.kind != kindImage && d.kind != kindContainer {
		return d, nil
	}
	d.meter = meter.New(d.ctx, m.th, m.src.Meter, d.kind == kindContainer, d.id)
	return d, d.meter.Init()
}

// overLayers is what the Layers tab shows over the layers, a line each:
// the container's mounts, the disk meter.
func (d detail) overLayers(m Model) string {
	var s string
	if len(d.mounts) > 0 {
		s += mountsLine(m, d.mounts, d.width) + "\n"
	}
	if d.meter.On() {
		s += d.meter.View() + "\n"
	}
	return s
}
