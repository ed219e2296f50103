package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// legendHelp is the help overlay's legend: every marker in its colour
// with its name, the colour in words and what it means, then the other
// signs of a tree row and what the cursors look like; each line at most
// w cells.
func (m Model) legendHelp(w int) string {
	lines := []string{m.th.Title.Render("legend") + m.th.Subtle.Render(" of the layer panes ("+m.keys.Legend.Help().Key+" shows or hides it under them)")}
	for _, e := range theme.Legend() {
		mark := m.th.Kind[e.Kind].Render(e.Marker + " " + pad(e.Name, 10))
		lines = append(lines, theme.Cut(mark+" "+m.th.Subtle.Render(pad(m.th.Look[e.Kind], 13))+" "+e.Meaning, w))
	}
	for _, s := range theme.Signs {
		lines = append(lines, theme.Cut(pad(s[0], 12)+" "+pad("", 13)+" "+s[1], w))
	}
	lines = append(lines,
		theme.Cut(m.th.Selected.Render(pad("cursor", 12))+" "+pad("", 13)+" the pane that has the keys (its title too)", w),
		theme.Cut(m.th.SelectedBlur.Render(pad("cursor", 12))+" "+pad("", 13)+" the cursor of a pane without the keys", w),
		theme.Cut(m.th.Flash.Render(pad("flash", 12))+" "+pad("", 13)+" changed in the last moment", w))
	return strings.Join(lines, "\n")
}

func pad(s string, n int) string { return s + strings.Repeat(" ", max(n-ansi.StringWidth(s), 0)) }

// refusedKey names the key msg presses when presenter mode turned it off
// ("D remove"), or "".
func (m Model) refusedKey(msg tea.KeyPressMsg) string {
	for _, b := range m.refused {
		// r restarts a container only where one is: on an image it runs.
		if b.Help() == m.keys.Restart.Help() && !m.onContainer() {
			continue
		}
		if key.Matches(msg, b) {
			return b.Help().Key + " " + b.Help().Desc
		}
	}
	return ""
}

// onContainer reports whether the keys act on a container: its view, or
// the Containers panel's selection.
func (m Model) onContainer() bool {
	if m.detail != nil || m.build != nil || m.learn != nil {
		return m.detail != nil && m.detail.kind == kindContainer
	}
	return m.current() == containersPanel
}

// refusedList lists the keys presenter mode turned off: "S stop, D remove".
func refusedList(bs []key.Binding) string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Help().Key+" "+b.Help().Desc)
	}
	return strings.Join(out, ", ")
}

// strayKey reports whether msg is a letter typed at the layer panes of
// the Shell tab that is no binding: most likely meant for the shell,
// which does not have the keys.
func (d detail) strayKey(msg tea.KeyPressMsg, km keys.Map) bool {
	if d.current() != "Shell" || d.shell == nil || d.shell.Focused() || d.layers.Filtering() || d.preview != nil {
		return false
	}
	if msg.Text == "" || msg.Mod&^tea.ModShift != 0 {
		return false
	}
	for _, g := range km.FullHelp() {
		for _, b := range g {
			if key.Matches(msg, b) {
				return false
			}
		}
	}
	return true
}
