package cli

// The verbs that look at containers: ps, stats, diff and inspect.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"minidocker/engine"
	"minidocker/internal/app"
	"minidocker/internal/human"
)

func psCmd(a *app.App) *cobra.Command {
	var all, quiet bool
	c := &cobra.Command{
		Use: "ps", Short: "List containers", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			list, err := e.List()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if quiet {
				for i := len(list) - 1; i >= 0; i-- {
					if all || list[i].Status == engine.Running {
						fmt.Fprintln(w, list[i].ShortID())
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tNAMES")
			for i := len(list) - 1; i >= 0; i-- {
				st := list[i]
				if !all && st.Status != engine.Running {
					continue
				}
				fmt.Fprintln(tw, strings.Join(psRow(st, time.Now()), "\t"))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "show all containers, not only running ones")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only show IDs")
	return c
}

// psRow is a container's line of ps: the command cut to 20 characters as
// docker cuts it, escaped once and never cut inside a character.
func psRow(st engine.State, now time.Time) []string {
	command := human.Truncate(human.Visible(strings.Join(st.Spec.Process.Args, " ")), 20)
	return []string{st.ShortID(), human.Visible(st.Spec.Image), `"` + command + `"`,
		human.Ago(now.Sub(st.Created)), status(st), human.Visible(st.Name())}
}

// status is a container's STATUS column, as docker writes it.
func status(st engine.State) string {
	switch st.Status {
	case engine.Running:
		up := "Up " + strings.TrimSuffix(human.Ago(time.Since(st.Started)), " ago")
		if st.Paused {
			up += " (Paused)"
		}
		return up
	case engine.Exited:
		return fmt.Sprintf("Exited (%d) %s", st.ExitCode, human.Ago(time.Since(st.Finished)))
	}
	return "Created"
}

func diffCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "diff CONTAINER", Short: "Show what a container changed in its filesystem", Args: exactArgs(1, "one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			changes, err := e.Diff(args[0])
			if err != nil {
				return err
			}
			for _, c := range changes {
				fmt.Fprintf(cmd.OutOrStdout(), "%c %s\n", c.Kind, human.Visible(c.Path))
			}
			return nil
		},
	}
}

func statsCmd(a *app.App) *cobra.Command {
	var noStream bool
	c := &cobra.Command{
		Use: "stats [--no-stream] [CONTAINER...]", Short: "Show running containers' CPU, memory and pids, refreshed every second",
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), unix.SIGINT, unix.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			f, ok := out.(*os.File)
			clear := ok && isTerminal(f)
			return streamStats(ctx, e, args, out, !noStream, time.Second, clear)
		},
	}
	c.Flags().BoolVar(&noStream, "no-stream", false, "print once instead of refreshing every second")
	return c
}

// streamStats prints docker's stats table for refs (every running
// container when there are none) every interval until ctx ends, or once
// when stream is false, the CPU column over the half interval before it.
// With clear, each table replaces the last on the terminal.
func streamStats(ctx context.Context, e *engine.Engine, refs []string, w io.Writer, stream bool, every time.Duration, clear bool) error {
	s := app.NewSampler(e)
	if !stream {
		if _, err := s.Sample(refs); err != nil {
			return err
		}
		every /= 2
	}
	for first := true; ; first = false {
		if !first || !stream {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(every):
			}
		}
		rows, err := s.Sample(refs)
		if err != nil && (!stream || first) {
			return err
		}
		printStats(w, rows, clear)
		if !stream {
			return nil
		}
	}
}

// printStats writes the table, first clearing the terminal when clear is set.
func printStats(w io.Writer, rows []app.Usage, clear bool) {
	if clear {
		fmt.Fprint(w, "\x1b[2J\x1b[H")
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS")
	for _, r := range rows {
		memPct := 0.0
		if r.Limit > 0 {
			memPct = float64(r.Mem) / float64(r.Limit) * 100
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%d\n", r.ID, human.Visible(r.Name), r.CPU,
			human.BinarySize(r.Mem), human.BinarySize(r.Limit), memPct, r.Pids)
	}
	tw.Flush()
}

func containerInspectCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "inspect CONTAINER...", Short: "Show containers' state, mounts, cgroup and limits as JSON", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			var out []engine.State
			for _, ref := range args {
				st, err := e.Get(ref)
				if err != nil {
					return err
				}
				out = append(out, st)
			}
			return printJSON(cmd.OutOrStdout(), out, "    ")
		},
	}
}
