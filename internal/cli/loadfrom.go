package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"minidocker/internal/app"
)

// loadArgs are load's arguments: none, or with --from the image to take.
func loadArgs(from *string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if *from == "" {
			return exactArgs(0, "no arguments (use -i FILE, or --from docker|podman IMAGE)")(cmd, args)
		}
		if cmd.Flags().Changed("input") {
			return usageError{errors.New("load: --from and --input: give one")}
		}
		return exactArgs(1, fmt.Sprintf("the image to take from %s", *from))(cmd, args)
	}
}

// load runs load: from docker or podman with --from, else from the
// archive file or standard input.
func load(a *app.App, input, from string, args []string, stdin io.Reader) ([]app.Loaded, error) {
	if from != "" {
		return a.LoadFrom(from, args[0])
	}
	return a.Load(input, stdin)
}
