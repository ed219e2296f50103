package layers

import (
	"fmt"
	"strings"

	"minidocker/internal/human"
	"minidocker/ui/theme"
)

// leftColumn draws an image's left column: the layer list, the selected
// layer's details when there is room, and the wasted list, stacked to the
// height of the tree beside them.
func (m Model) leftColumn() string {
	c := m.column()
	w := m.leftWidth() - 2
	boxes := []string{m.th.Box(m.listTitle(c), m.layerRows(w, c.layers), w, c.layers, m.side == sideLayers)}
	if c.details > 0 {
		boxes = append(boxes, m.th.Box(fmt.Sprintf("layer %d", m.layer), m.layerDetails(w), w, c.details, false))
	}
	boxes = append(boxes, m.th.Box(m.wastedTitle(c), m.wastedBody(w, c), w, c.wasted, m.side == sideWasted))
	return strings.Join(boxes, "\n")
}

func (m Model) listTitle(c column) string {
	t := "layers"
	if m.alone {
		t += " · alone"
	} else {
		t += " · merged"
	}
	if n := len(m.stack.Layers); n > c.layers {
		t += fmt.Sprintf(" %d/%d", m.layer+1, n)
	}
	return t
}

// layerRows is the layer list, bottom layer first as dive lists them: the
// number, the size and what the layer adds, changes and deletes, counted
// as "minidocker layers" counts them, then its label. ▶ marks the selected
// layer and ▪ the layers merged beneath it.
func (m Model) layerRows(w, h int) string {
	n := len(m.stack.Layers)
	sizes := make([]string, n)
	var cw [4]int // widths: number, size, then the counts
	for i := range n {
		c := m.countsOf(i)
		sizes[i] = m.sizeOf(i)
		cw[0] = max(cw[0], len(fmt.Sprint(i)))
		cw[1] = max(cw[1], len(sizes[i]))
		cw[2] = max(cw[2], len(fmt.Sprint(c.Added)))
		cw[3] = max(cw[3], len(fmt.Sprint(c.Changed)))
	}
	var lines []string
	for i := m.list.top; i < min(m.list.top+h, n); i++ {
		c := m.countsOf(i)
		mark := " "
		switch {
		case i == m.layer:
			mark = "▶"
		case i < m.layer && !m.alone:
			mark = "▪"
		}
		line := fmt.Sprintf("%s%*d ", mark, cw[0], i)
		if cw[1] > 0 {
			line += fmt.Sprintf("%*s ", cw[1], sizes[i])
		}
		line += fmt.Sprintf("+%-*d ~%-*d -%d ", cw[2], c.Added, cw[3], c.Changed, c.Deleted)
		line = theme.Fit(line+human.Visible(m.label(i)), w)
		switch {
		case i == m.layer && m.side == sideLayers && !m.inactive:
			line = m.th.Selected.Render(line)
		case i == m.layer:
			line = m.th.SelectedBlur.Render(line)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func (m Model) countsOf(i int) Counts {
	if i < len(m.counts) {
		return m.counts[i]
	}
	return Counts{}
}

func (m Model) sizeOf(i int) string {
	if i < len(m.stack.Sizes) {
		return human.Size(m.stack.Sizes[i])
	}
	return ""
}

func (m Model) label(i int) string {
	if i < len(m.stack.Names) {
		return m.stack.Names[i]
	}
	return fmt.Sprintf("layer %d", i)
}

// layerDetails is what dive's layer details say of the selected layer:
// its digest, its size and changes, and the command that made it.
func (m Model) layerDetails(w int) string {
	i := m.layer
	if i < 0 {
		return ""
	}
	digest, by := m.digestOf(i), m.createdBy(i)
	if by == "" {
		by = "(no history)"
	}
	c := m.countsOf(i)
	changes := fmt.Sprintf("%d added, %d changed, %d deleted", c.Added, c.Changed, c.Deleted)
	if size := m.sizeOf(i); size != "" {
		changes = m.th.Subtle.Render("size ") + size + " · " + changes
	}
	lines := []string{
		m.th.Subtle.Render("digest ") + human.Visible(digest),
		changes,
		m.th.Subtle.Render("created by ") + human.Visible(by),
	}
	for k, l := range lines {
		lines[k] = theme.Fit(l, w)
	}
	return strings.Join(lines, "\n")
}

// digestOf is layer i's digest, else the short ID its label starts with.
func (m Model) digestOf(i int) string {
	if i < len(m.stack.Digests) && m.stack.Digests[i] != "" {
		return m.stack.Digests[i]
	}
	id, _, _ := strings.Cut(m.label(i), " ")
	return id
}

// createdBy is the history line that made layer i, else what its label
// says after the short ID.
func (m Model) createdBy(i int) string {
	if i < len(m.stack.CreatedBy) {
		return m.stack.CreatedBy[i]
	}
	_, by, _ := strings.Cut(m.label(i), " ")
	return by
}

func (m Model) wastedTitle(c column) string {
	t := "wasted space"
	if n := len(m.stack.Efficiency.Files); n > c.wastedRows() {
		t += fmt.Sprintf(" %d/%d", m.wasted.cursor+1, n)
	}
	return t
}

// wastedBody is dive's image efficiency: the score, the bytes wasted, and
// each path whose bytes the layers store more than the merged view shows
// (overwritten, or hidden by a whiteout or an opaque directory), most
// wasted first, with how many layers store it.
func (m Model) wastedBody(w int, c column) string {
	e := m.stack.Efficiency
	lines := []string{
		m.th.Bold.Render("efficiency ") + fmt.Sprintf("%.1f%%", e.Score*100),
		"wasted " + human.Size(e.Wasted) + " of " + human.Size(e.Stored),
	}
	if len(e.Files) == 0 {
		lines = append(lines, m.th.Subtle.Render("every byte stored is shown"))
	}
	end := min(m.wasted.top+c.wastedRows(), len(e.Files))
	for i := m.wasted.top; i < end; i++ {
		f := e.Files[i]
		cur := i == m.wasted.cursor && m.side == sideWasted && !m.inactive
		mark := " "
		if cur {
			mark = "▶"
		}
		line := theme.Fit(fmt.Sprintf("%s×%d %7s %s", mark, f.Copies, human.Size(f.Wasted), human.Visible(f.Path)), w)
		if cur {
			line = m.th.Selected.Render(line)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
