package theme

import (
	"image/color"

	"charm.land/lipgloss/v2"

	"minidocker/overlay"
)

// HighContrast returns the presenter's theme: the terminal's own bright
// colours (a projector shows them as the audience's terminals do), no
// faint or grey text, frames and titles in bold, the cursor in reverse
// video in the focused pane and on a grey ground in the others. With
// noColor it is New's plain theme, which already uses only bold, reverse
// and underline.
func HighContrast(dark, noColor bool) Theme {
	if noColor {
		return plain()
	}
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkc)) }
	fg := c("0", "15")
	accent := c("4", "11")
	subtle := c("0", "7")
	green := c("22", "10")
	yellow := c("94", "11")
	red := c("124", "9")
	blue := c("19", "12")
	cyan := c("23", "14")
	magenta := c("90", "13")
	n := lipgloss.NewStyle
	t := Theme{
		heavy:        true,
		Title:        n().Bold(true).Foreground(fg),
		TitleFocus:   n().Bold(true).Reverse(true).Foreground(accent),
		Subtle:       n().Foreground(subtle),
		Bold:         n().Bold(true).Foreground(fg),
		Error:        n().Bold(true).Foreground(red),
		Warn:         n().Bold(true).Foreground(yellow),
		OK:           n().Bold(true).Foreground(green),
		Border:       n().Border(lipgloss.ThickBorder()).BorderForeground(subtle),
		BorderFocus:  n().Border(lipgloss.ThickBorder()).BorderForeground(accent),
		Frame:        n().Foreground(subtle),
		FrameFocus:   n().Bold(true).Foreground(accent),
		Selected:     n().Bold(true).Reverse(true),
		SelectedBlur: n().Bold(true).Background(c("250", "240")),
		TabActive:    n().Bold(true).Reverse(true),
		TabInactive:  n().Foreground(fg),
		Key:          n().Bold(true).Foreground(accent),
		KeyDesc:      n().Foreground(fg),
		Footer:       n(),
		Flash:        n().Bold(true).Reverse(true).Foreground(yellow),
		Dialog:       n().Border(lipgloss.ThickBorder()).BorderForeground(accent).Padding(0, 1),
		Plot:         n().Foreground(cyan),
		Match:        n().Bold(true).Underline(true).Foreground(yellow),
		MatchCurrent: n().Bold(true).Reverse(true).Foreground(yellow),
		HelpColumn:   n().PaddingRight(3),
		Kind: map[overlay.DiffKind]lipgloss.Style{
			overlay.Unmodified:   n().Foreground(fg),
			overlay.Added:        n().Bold(true).Foreground(green),
			overlay.Modified:     n().Bold(true).Foreground(yellow),
			overlay.Removed:      n().Bold(true).Foreground(red).Strikethrough(true),
			overlay.CopiedUp:     n().Bold(true).Foreground(blue),
			overlay.MetadataOnly: n().Bold(true).Foreground(cyan),
			overlay.Opaque:       n().Bold(true).Foreground(magenta),
			overlay.Whiteout:     n().Bold(true).Foreground(red),
		},
		Look: map[overlay.DiffKind]string{
			overlay.Unmodified: "plain", overlay.Added: "green", overlay.Modified: "yellow",
			overlay.Removed: "red, struck", overlay.CopiedUp: "blue", overlay.MetadataOnly: "cyan",
			overlay.Opaque: "magenta", overlay.Whiteout: "red",
		},
	}
	return t.withCursor()
}
