package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/internal/human"
	"minidocker/ui/panel"
	"minidocker/ui/theme"
)

func imageItems(imgs []Image) []panel.Item {
	items := make([]panel.Item, len(imgs))
	for i, img := range imgs {
		name := "<none>"
		if len(img.Names) > 0 {
			name = strings.Join(img.Names, ",")
		}
		items[i] = panel.Item{ID: img.ID, Text: fmt.Sprintf("%s %s %s", human.Visible(name), img.ShortID, human.Size(img.Size))}
	}
	return items
}

// containerItems lists containers with their state, or the action under
// way on them (acting, by ID).
func containerItems(cs []Container, acting map[string]string) []panel.Item {
	items := make([]panel.Item, len(cs))
	for i, c := range cs {
		dot := "○"
		if c.Running {
			dot = "●"
		}
		state := c.State()
		if a := acting[c.ID]; a != "" {
			state = a
		}
		items[i] = panel.Item{ID: c.ID, Text: fmt.Sprintf("%s %s %s %s", dot, human.Visible(c.Name), state, human.Visible(c.Image)), Faint: !c.Running}
	}
	return items
}

func mountItems(ms []Mount) []panel.Item {
	items := make([]panel.Item, len(ms))
	for i, mt := range ms {
		items[i] = mountItem(mt)
	}
	return items
}

// sideWidth is the width of the column of side panels.
func (m Model) sideWidth() int { return min(max(m.width/3, 26), 50) }

// resize lays the screen out for w×h cells.
func (m Model) resize(w, h int) Model {
	m.width, m.height = w, h
	body := max(h-2, 3)
	side := m.sideWidth()
	each := body / 3
	for i := range m.panels {
		ph := each
		if i == 0 {
			ph = body - 2*each
		}
		m.panels[i] = m.panels[i].SetSize(side, ph)
	}
	m.main = m.main.SetSize(w-side-2, body-3)
	m.help.SetWidth(w)
	if m.detail != nil {
		d := m.detail.resize(w, body)
		m.detail = &d
	}
	m = m.lessonResize()
	if m.build != nil {
		b := m.build.resize(w, body)
		m.build = &b
	}
	if m.commit != nil {
		c := m.commit.SetSize(w, h)
		m.commit = &c
	}
	if m.palette != nil {
		p := m.palette.SetSize(w, h)
		m.palette = &p
	}
	return m
}

// header is the first line: the counts and the last status.
func (m Model) header() string {
	left := m.th.Title.Render("minidocker") + m.th.Subtle.Render(fmt.Sprintf(" · %d images · %d containers · %d mounts", len(m.images), len(m.containers), len(m.mounts)))
	switch {
	case m.detail != nil:
		left += m.th.Subtle.Render(" › ") + m.th.Bold.Render(human.Visible(m.detail.title))
	case m.build != nil:
		left += m.th.Subtle.Render(" › ") + m.th.Bold.Render("build")
	case m.learn != nil:
		left += m.th.Subtle.Render(" › ") + m.th.Bold.Render("lessons")
	}
	right := ""
	switch {
	case m.busy != "":
		right = m.spin.View() + " " + m.busy
	case strings.HasPrefix(m.status, "error"):
		right = m.th.Error.Render(human.Visible(m.status))
	case m.status != "":
		right = m.th.Warn.Render(human.Visible(m.status))
	}
	room := m.width - ansi.StringWidth(left) - 1
	if room < 10 {
		return theme.Fit(left, m.width)
	}
	right = ansi.Truncate(right, room, "…")
	return left + strings.Repeat(" ", max(m.width-ansi.StringWidth(left)-ansi.StringWidth(right), 1)) + right
}

// home draws the side panels and the main panel of the selection.
func (m Model) home() string {
	var side []string
	for i := range m.panels {
		side = append(side, m.panels[i].SetFocus(m.focus == i).View())
	}
	w := m.width - m.sideWidth() - 2
	h := max(m.height-2, 3) - 2
	tabs := m.tabsLine()
	content := tabs + "\n" + m.th.Subtle.Render(strings.Repeat("─", max(w, 0))) + "\n" + m.main.View()
	main := m.th.Box(m.selectionTitle(), content, w, h, m.focus == mainPanel)
	return lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.JoinVertical(lipgloss.Left, side...), main)
}

// tabs returns the tab names of the main panel for the focused panel.
func (m Model) tabs() []string {
	switch m.current() {
	case containersPanel:
		return []string{"Info", "Inspect"}
	case mountsPanel:
		return []string{"Info"}
	}
	return []string{"Layers", "History", "Config"}
}

// current is the side panel whose selection the main panel shows.
func (m Model) current() int {
	if m.focus == mainPanel {
		return m.side
	}
	return m.focus
}

func (m Model) tabsLine() string {
	var parts []string
	for i, t := range m.tabs() {
		if i == m.tab {
			parts = append(parts, m.th.TabActive.Render(t))
		} else {
			parts = append(parts, m.th.TabInactive.Render(t))
		}
	}
	return strings.Join(parts, m.th.Subtle.Render(" │ "))
}

func (m Model) selectionTitle() string {
	it, ok := m.panels[m.current()].Selected()
	if !ok {
		return m.panels[m.current()].Title
	}
	return strings.SplitN(it.Text, " ", 2)[0] + " " + strings.SplitN(it.Text+" ", " ", 3)[1]
}

// homeKey handles the keys of the home screen.
func (m Model) homeKey(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Jump):
		if n := int(msg.String()[0] - '1'); n < len(m.panels) {
			m = m.focusPanel(n)
		} else if n == len(m.panels) {
			m.focus = mainPanel
		}
	case key.Matches(msg, k.NextPane):
		m = m.focusPanel((m.focus + 1) % (mainPanel + 1))
	case key.Matches(msg, k.PrevPane):
		m = m.focusPanel((m.focus + mainPanel) % (mainPanel + 1))
	case key.Matches(msg, k.NextTab):
		m.tab = (m.tab + 1) % len(m.tabs())
		m.main = m.main.SetText(m.mainText())
	case key.Matches(msg, k.PrevTab):
		m.tab = (m.tab + len(m.tabs()) - 1) % len(m.tabs())
		m.main = m.main.SetText(m.mainText())
	case key.Matches(msg, k.Enter):
		return m.open()
	case key.Matches(msg, k.Learn):
		return m.openLessons("")
	case key.Matches(msg, k.Refresh):
		return m, tea.Batch(loadImages(m.src.Images), loadContainers(m.src.ContainerList), loadMounts(m.src.Mounts))
	case m.focus == mainPanel:
		var cmd tea.Cmd
		m.main, cmd = m.main.Update(msg)
		return m, cmd
	default:
		if a, cmd, ok := m.action(msg); ok {
			return a, cmd
		}
		var cmd tea.Cmd
		m.panels[m.focus], cmd = m.panels[m.focus].Update(msg)
		m.main = m.main.SetText(m.mainText())
		return m, cmd
	}
	return m, nil
}

func (m Model) focusPanel(n int) Model {
	if n < len(m.panels) {
		if n != m.side {
			m.tab = 0
		}
		m.side = n
	}
	m.focus = n
	m.main = m.main.SetText(m.mainText())
	return m
}
