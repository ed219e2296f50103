// Package theme holds every style the terminal UI draws with, for a dark or a
// light background, or without colour when NO_COLOR is set.
package theme

import (
	"image/color"
	"os"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"minidocker/overlay"
)

// Theme is the set of styles the views use. Views never build styles of
// their own: they take them from a Theme.
type Theme struct {
	NoColor bool
	exact   bool // Box trusts its body lines' widths
	heavy   bool // Box draws the focused frame in heavy lines

	Title, Subtle, Bold, Error, Warn, OK lipgloss.Style
	// TitleFocus is the title of the focused box, so that which pane has
	// the keys shows without reading the frame's colour.
	TitleFocus          lipgloss.Style
	Border, BorderFocus lipgloss.Style
	// Frame and FrameFocus colour the lines Box draws.
	Frame, FrameFocus      lipgloss.Style
	Selected, SelectedBlur lipgloss.Style
	TabActive, TabInactive lipgloss.Style
	Key, KeyDesc, Footer   lipgloss.Style
	Flash                  lipgloss.Style
	Dialog                 lipgloss.Style
	// HelpColumn spaces the columns of the help overlay.
	HelpColumn lipgloss.Style
	// Kind styles an entry of a tree by how it relates to the layers below;
	// SelectedKind and BlurKind are the same under the cursor of a focused
	// and of an unfocused pane.
	Kind, SelectedKind, BlurKind map[overlay.DiffKind]lipgloss.Style
	// Look names in words how Kind draws each kind ("green", "bold"), for
	// the legend.
	Look map[overlay.DiffKind]string
	// Plot draws the bars of a small chart.
	Plot lipgloss.Style
	// Match marks what a search found; MatchCurrent the match n and N
	// are on.
	Match, MatchCurrent lipgloss.Style
}

// NoColorSet reports whether the NO_COLOR convention asks for no colour.
func NoColorSet() bool { return os.Getenv("NO_COLOR") != "" }

// New returns the theme for a dark or light background; with noColor it
// uses only bold, faint and reverse video.
func New(dark, noColor bool) Theme {
	if noColor {
		return plain()
	}
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkc)) }
	accent := c("#5A3FC0", "#B39DFF")
	subtle := c("#6B6B6B", "#8A8A8A")
	green := c("#1E7B34", "#7EE787")
	yellow := c("#8A6100", "#E3B341")
	red := c("#B31D28", "#FF7B72")
	blue := c("#0550AE", "#79C0FF")
	cyan := c("#0A7B83", "#56D4DD")
	magenta := c("#8250DF", "#D2A8FF")
	selBg := c("#D8D0F5", "#3B2F6B")
	// The cursor of an unfocused pane must still show on a projector: a
	// grey well apart from the background (236 on black did not).
	blurBg := c("#C4C4C4", "#585858")

	t := Theme{
		Title:        lipgloss.NewStyle().Bold(true).Foreground(accent),
		TitleFocus:   lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(accent),
		Subtle:       lipgloss.NewStyle().Foreground(subtle),
		Bold:         lipgloss.NewStyle().Bold(true),
		Error:        lipgloss.NewStyle().Foreground(red).Bold(true),
		Warn:         lipgloss.NewStyle().Foreground(yellow),
		OK:           lipgloss.NewStyle().Foreground(green),
		Border:       lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(subtle),
		Frame:        lipgloss.NewStyle().Foreground(subtle),
		FrameFocus:   lipgloss.NewStyle().Foreground(accent).Bold(true),
		BorderFocus:  lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent),
		Selected:     lipgloss.NewStyle().Background(selBg).Bold(true),
		SelectedBlur: lipgloss.NewStyle().Background(blurBg),
		TabActive:    lipgloss.NewStyle().Bold(true).Foreground(accent).Underline(true),
		TabInactive:  lipgloss.NewStyle().Foreground(subtle),
		Key:          lipgloss.NewStyle().Bold(true).Foreground(accent),
		KeyDesc:      lipgloss.NewStyle().Foreground(subtle),
		Footer:       lipgloss.NewStyle(),
		Flash:        lipgloss.NewStyle().Reverse(true).Foreground(yellow),
		Dialog:       lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).BorderForeground(accent).Padding(0, 1),
		Plot:         lipgloss.NewStyle().Foreground(cyan),
		Match:        lipgloss.NewStyle().Foreground(yellow).Bold(true).Underline(true),
		MatchCurrent: lipgloss.NewStyle().Foreground(yellow).Bold(true).Reverse(true),
		HelpColumn:   lipgloss.NewStyle().PaddingRight(3),
		Kind: map[overlay.DiffKind]lipgloss.Style{
			overlay.Unmodified:   lipgloss.NewStyle(),
			overlay.Added:        lipgloss.NewStyle().Foreground(green),
			overlay.Modified:     lipgloss.NewStyle().Foreground(yellow),
			overlay.Removed:      lipgloss.NewStyle().Foreground(red).Strikethrough(true),
			overlay.CopiedUp:     lipgloss.NewStyle().Foreground(blue),
			overlay.MetadataOnly: lipgloss.NewStyle().Foreground(cyan),
			overlay.Opaque:       lipgloss.NewStyle().Foreground(magenta).Bold(true),
			overlay.Whiteout:     lipgloss.NewStyle().Foreground(red).Faint(true),
		},
		Look: colourLook,
	}
	return t.withCursor()
}

// colourLook names the colours of New's and HighContrast's kinds.
var colourLook = map[overlay.DiffKind]string{
	overlay.Unmodified: "plain", overlay.Added: "green", overlay.Modified: "yellow",
	overlay.Removed: "red, struck", overlay.CopiedUp: "blue", overlay.MetadataOnly: "cyan",
	overlay.Opaque: "magenta bold", overlay.Whiteout: "dim red",
}

// withCursor derives the kind styles under a cursor.
func (t Theme) withCursor() Theme {
	t.SelectedKind = map[overlay.DiffKind]lipgloss.Style{}
	t.BlurKind = map[overlay.DiffKind]lipgloss.Style{}
	for k, st := range t.Kind {
		t.SelectedKind[k] = t.Selected.Inherit(st)
		t.BlurKind[k] = t.SelectedBlur.Inherit(st)
	}
	return t
}

func plain() Theme {
	n := lipgloss.NewStyle
	t := Theme{
		NoColor:      true,
		heavy:        true,
		Title:        n().Bold(true),
		TitleFocus:   n().Bold(true).Reverse(true),
		Subtle:       n().Faint(true),
		Bold:         n().Bold(true),
		Error:        n().Bold(true),
		Warn:         n(),
		OK:           n(),
		Border:       n().Border(lipgloss.NormalBorder()),
		Frame:        n().Faint(true),
		FrameFocus:   n().Bold(true),
		BorderFocus:  n().Border(lipgloss.ThickBorder()),
		Selected:     n().Reverse(true),
		SelectedBlur: n().Underline(true),
		TabActive:    n().Bold(true).Underline(true),
		TabInactive:  n(),
		Key:          n().Bold(true),
		KeyDesc:      n(),
		Footer:       n(),
		Flash:        n().Reverse(true),
		Dialog:       n().Border(lipgloss.DoubleBorder()).Padding(0, 1),
		Plot:         n(),
		Match:        n().Underline(true),
		MatchCurrent: n().Reverse(true),
		HelpColumn:   n().PaddingRight(3),
		Kind: map[overlay.DiffKind]lipgloss.Style{
			overlay.Unmodified:   n(),
			overlay.Added:        n().Bold(true),
			overlay.Modified:     n().Italic(true),
			overlay.Removed:      n().Strikethrough(true),
			overlay.CopiedUp:     n().Underline(true),
			overlay.MetadataOnly: n().Italic(true),
			overlay.Opaque:       n().Bold(true),
			overlay.Whiteout:     n().Faint(true),
		},
		Look: map[overlay.DiffKind]string{
			overlay.Unmodified: "plain", overlay.Added: "bold", overlay.Modified: "italic",
			overlay.Removed: "struck", overlay.CopiedUp: "underlined", overlay.MetadataOnly: "italic",
			overlay.Opaque: "bold", overlay.Whiteout: "dim",
		},
	}
	return t.withCursor()
}

// Input returns the styles of a one-line text input: plain text, a faint
// placeholder and a steady block cursor in the key colour.
func (t Theme) Input() textinput.Styles {
	st := textinput.StyleState{Text: lipgloss.NewStyle(), Placeholder: t.Subtle, Suggestion: t.Subtle, Prompt: t.Bold}
	return textinput.Styles{Focused: st, Blurred: st,
		Cursor: textinput.CursorStyle{Color: t.Key.GetForeground(), Shape: tea.CursorBlock}}
}
