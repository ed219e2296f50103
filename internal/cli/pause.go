package cli

// The verbs that freeze and thaw containers: pause and unpause.

import (
	"github.com/spf13/cobra"

	"minidocker/engine"
	"minidocker/internal/app"
)

func pauseCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "pause CONTAINER...", Short: "Freeze every process of containers", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(a, cmd, args, (*engine.Engine).Pause)
		},
	}
}

func unpauseCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "unpause CONTAINER...", Short: "Thaw paused containers", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(a, cmd, args, (*engine.Engine).Unpause)
		},
	}
}
