package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"minidocker/engine"
	"minidocker/internal/app"
	"minidocker/internal/human"
)

// volumeCommands are docker's volume verbs: create, ls, inspect, rm, prune.
func volumeCommands(a *app.App) []*cobra.Command {
	group := &cobra.Command{Use: "volume", Short: "Manage volumes"}
	group.AddCommand(volumeCreateCmd(a), volumeLsCmd(a), volumeInspectCmd(a), volumeRmCmd(a), volumePruneCmd(a))
	return []*cobra.Command{group}
}

func volumeCreateCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "create [VOLUME]", Short: "Create a volume (a random name when none is given)", Args: maxArgs(1, "at most one name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			v, err := e.CreateVolume(name)
			if err != nil {
				return invalidAsUsage(err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), v.Name)
			return nil
		},
	}
}

func volumeLsCmd(a *app.App) *cobra.Command {
	var quiet bool
	c := &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List volumes", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			vols, err := e.Volumes()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if quiet {
				for _, v := range vols {
					fmt.Fprintln(w, v.Name)
				}
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 8, 4, ' ', 0)
			fmt.Fprintln(tw, "DRIVER\tVOLUME NAME")
			for _, v := range vols {
				fmt.Fprintf(tw, "%s\t%s\n", v.Driver, v.Name)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only display volume names")
	return c
}

func volumeInspectCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "inspect VOLUME...", Short: "Show volumes as JSON", Args: minArgs(1, "a volume"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			out := []engine.VolumeInfo{}
			for _, name := range args {
				v, err := e.Volume(name)
				if err != nil {
					return err
				}
				out = append(out, v)
			}
			return printJSON(cmd.OutOrStdout(), out, "    ")
		},
	}
}

func volumeRmCmd(a *app.App) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use: "rm [-f] VOLUME...", Aliases: []string{"remove"}, Short: "Remove volumes no container uses", Args: minArgs(1, "a volume"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				if err := e.RemoveVolume(name, force); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), human.Visible(name))
			}
			return errors.Join(errs...)
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "no error for a volume that does not exist")
	return c
}

func volumePruneCmd(a *app.App) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use: "prune [-a]", Short: "Remove the anonymous volumes no container uses (-a: every unused volume)", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			names, size, err := e.PruneVolumes(all)
			w := cmd.OutOrStdout()
			if len(names) > 0 {
				fmt.Fprintln(w, "Deleted Volumes:")
				for _, n := range names {
					fmt.Fprintln(w, n)
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "Total reclaimed space: %s\n", human.Size(size))
			return err
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "remove named volumes too")
	c.Flags().BoolP("force", "f", false, "do not prompt for confirmation (minidocker never prompts)")
	return c
}

// invalidAsUsage makes the engine's ErrInvalid a usage error.
func invalidAsUsage(err error) error {
	if errors.Is(err, engine.ErrInvalid) {
		return usageError{err}
	}
	return err
}

// maxArgs is cobra.MaximumNArgs with a usage error naming the command.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageError{fmt.Errorf("%s: want %s", cmd.CommandPath(), what)}
		}
		return nil
	}
}
