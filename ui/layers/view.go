package layers

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"minidocker/overlay"
	"minidocker/ui/theme"
)

// View draws the view in its w×h cells.
func (m Model) View() string {
	if m.width < 10 || m.height < 6 {
		return ""
	}
	var out string
	switch {
	case m.explaining:
		out = m.explainView(m.width-2, m.panes[m.tallPane()].height)
	case m.cmp.open:
		out = m.compareView(m.width-2, m.panes[m.tallPane()].height)
	case m.Container():
		var cols []string
		for _, i := range m.shown() {
			flash := m.flash
			if i == lowerPane {
				flash = nil // changes happen in upper; lower never changes
			}
			footer := ""
			if i == upperPane && m.last != "" {
				footer = "last " + m.last
			}
			cols = append(cols, m.panes[i].view(m.th, i == m.focus && !m.inactive, flash, footer))
		}
		out = theme.JoinLines(cols...)
	default:
		left := m.leftColumn()
		right := m.panes[lowerPane].view(m.th, !m.inactive && m.side == sideNone, m.flash, "")
		out = theme.JoinLines(left, right)
	}
	for _, l := range m.legendLines() {
		out += "\n" + l
	}
	d1, d2 := m.details()
	return m.header() + "\n" + out + "\n" + theme.Fit(d1, m.width) + "\n" + theme.Fit(m.th.Subtle.Render(d2), m.width)
}

// tallPane is a pane on screen, whose height the panes share.
func (m Model) tallPane() int {
	if m.Container() {
		return mergedPane
	}
	return lowerPane
}

// header shows the filter, the toggles and the sort order.
func (m Model) header() string {
	var parts []string
	switch {
	case m.filterErr != "":
		parts = append(parts, m.th.Bold.Render("filter (regex on path): ")+m.filter.View(), m.th.Error.Render(m.filterErr))
	case m.Filtering() || m.opts.Filter != nil:
		parts = append(parts, m.th.Bold.Render("filter (regex on path): ")+m.filter.View())
	}
	show := func(label string, k overlay.DiffKind) string {
		if m.opts.Hide[k] {
			return m.th.Subtle.Render("[ ] " + label)
		}
		return m.th.Kind[k].Render("[x] " + label)
	}
	parts = append(parts, show("added", overlay.Added), show("modified", overlay.Modified),
		show("removed", overlay.Removed), show("unmodified", overlay.Unmodified))
	if m.opts.ChangedOnly {
		parts = append(parts, m.th.Warn.Render("changed only"))
	}
	if m.opts.SortBySize {
		parts = append(parts, "sort: size")
	} else {
		parts = append(parts, "sort: name")
	}
	line := strings.Join(parts, "  ")
	return theme.Fit(line, m.width)
}

// legendLines is the legend under the panes, when shown: each marker in
// its colour with its name, on as few lines as the width allows, each
// exactly the width.
func (m Model) legendLines() []string {
	if !m.legend || m.width < 10 {
		return nil
	}
	var items, plain []string
	for _, e := range theme.Legend() {
		if e.Kind == overlay.Unmodified {
			continue
		}
		plain = append(plain, e.Marker+" "+e.Name)
		items = append(items, m.th.Kind[e.Kind].Render(e.Marker+" "+e.Name))
	}
	all := strings.Join(plain, "  ")
	switch {
	case len("legend  ")+len(all) <= m.width:
		return []string{theme.Fit(m.th.Subtle.Render("legend  ")+strings.Join(items, "  "), m.width)}
	case len(all) <= m.width:
		return []string{theme.Fit(strings.Join(items, "  "), m.width)}
	}
	var lines []string
	line, w := "", 0
	for i, it := range items {
		n := ansi.StringWidth(plain[i])
		if w > 0 && w+1+n > m.width {
			lines = append(lines, theme.Fit(line, m.width))
			line, w = "", 0
		}
		if w > 0 {
			line += " "
			w++
		}
		line += it
		w += n
	}
	return append(lines, theme.Fit(line, m.width))
}
