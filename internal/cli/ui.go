package cli

import (
	"os"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"minidocker/internal/app"
	"minidocker/ui"
)

// uiCmd is "minidocker ui": the terminal UI over this store.
func uiCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use:   "ui",
		Short: "Open the terminal UI: images, containers and their layers, live",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUI(a)
		},
	}
}

// runUI opens the sources and runs the program until it quits. Without
// root the UI still opens: images and host mounts can be browsed, and one
// line says why containers cannot run.
func runUI(a *app.App) error {
	src := a.UISources()
	dark := lipgloss.HasDarkBackground(os.Stdin, os.Stdout)
	p := tea.NewProgram(ui.New(src, ui.Options{Dark: dark, NoColor: os.Getenv("NO_COLOR") != ""}))
	_, err := p.Run()
	return err
}
