package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"minidocker/internal/app"
	"minidocker/internal/human"
	"minidocker/internal/lesson"
	"minidocker/ui"
)

// learnCmd is "minidocker learn [LESSON]": the guided lessons the binary
// carries. Without an argument it lists them; with one it opens the
// terminal UI on that lesson, on a container of its own that it removes
// when the UI quits.
func learnCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use:   "learn [LESSON]",
		Short: "Guided lessons on layers, copy-up and whiteouts: list them, or open one in the terminal UI",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("%s: want at most one lesson, got %d arguments", cmdName(cmd), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ls, err := a.Lessons()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				return printLessons(cmd.OutOrStdout(), ls)
			}
			if _, ok := lesson.Find(ls, args[0]); !ok {
				return usageError{fmt.Errorf("learn: no lesson %s (minidocker learn lists them)", human.Visible(args[0]))}
			}
			if os.Geteuid() != 0 {
				return errors.New("learn: a lesson runs a container, which needs root")
			}
			_, err = runProgram(a, ui.Options{Lesson: args[0]})
			return err
		},
	}
}

// printLessons lists the lessons in their order, with how to open one.
func printLessons(w io.Writer, ls []*lesson.Lesson) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "#\tLESSON\tSTEPS\tIMAGE\tTITLE")
	for i, l := range ls {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", i+1, human.Visible(l.Name), len(l.Steps), human.Visible(l.Image), human.Visible(l.Title))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Name
	}
	_, err := fmt.Fprintf(w, "\nOpen one with: minidocker learn LESSON (as root), e.g. minidocker learn %s\n", strings.Join(names[:min(1, len(names))], ""))
	return err
}
