// Package cli is minidocker's command line: docker's verbs and flags, parsed
// with cobra, each group of verbs in a file of its own (images.go, pull.go,
// push.go, df.go, containers.go, session.go, ps.go, layers.go, volumes.go,
// ui.go; term.go is the client's terminal). It parses, calls the
// application layer (internal/app) and prints: tables, JSON and docker's
// exit codes. It decides nothing about containers or layers.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"minidocker/engine"
	"minidocker/internal/app"
	"minidocker/internal/human"
)

// usageError marks an error in how the command was called: exit code 125,
// as docker gives.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError carries a container's exit code out of a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the command line args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := app.New("")
	cmd := newRootCmd(a)
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	ran, err := cmd.ExecuteC()
	if err == nil {
		return 0
	}
	// A container's own exit code is passed through silently, as docker does.
	if ee, ok := err.(exitError); ok {
		return ee.code
	}
	if line, ok := rootLine(ran, err); ok {
		fmt.Fprintln(stderr, line)
	} else {
		fmt.Fprintf(stderr, "minidocker: %s\n", human.Line(err.Error()))
	}
	return exitCode(err, ran != nil && ran.Annotations[startsContainer] != "")
}

// Exit codes, as docker gives them.
const (
	exitFailure = 1   // a command that failed
	exitEngine  = 125 // a usage error, or the engine failed to run a container
)

// startsContainer annotates the commands that run a process in a container
// (run, create, start, exec): an error of theirs that is not the
// process's own exit is the engine's, 125, as docker reports it.
const startsContainer = "starts-container"

// exitCode is the code an error ends the command with: 125 for a usage
// error or, for a command that starts a container, an engine error; 126
// or 127 when the command cannot be run or is not found; 1 otherwise.
func exitCode(err error, starts bool) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, app.ErrInvalid) || errors.Is(err, engine.ErrInvalid) || isCobraUsage(err) {
		return exitEngine
	}
	var sf *app.StartFailure
	if errors.As(err, &sf) {
		return sf.Code
	}
	// A build stops with the exit code of the RUN step that failed.
	var be *app.BuildError
	if errors.As(err, &be) && be.Code > 0 {
		return be.Code
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if starts {
		return exitEngine
	}
	return exitFailure
}

// cmdName is a command's path without the program's name ("ps",
// "image ls"), for messages that "minidocker: " already starts.
func cmdName(c *cobra.Command) string {
	return strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), c.Root().Name()), " ")
}

// isCobraUsage recognises cobra's own errors for unknown commands.
func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag")
}

func newRootCmd(a *app.App) *cobra.Command {
	root := &cobra.Command{
		Use:           "minidocker",
		Short:         "A small container engine that shows copy-on-write at work",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("root") && a.Root == "" {
				return usageError{errors.New(`--root "": want a store directory`)}
			}
			if a.Root == "" {
				a.Root = os.Getenv("MINIDOCKER_ROOT")
			}
			if a.Root == "" {
				a.Root = app.DefaultRoot
			}
			return checkRoot(cmd)
		},
	}
	root.PersistentFlags().StringVar(&a.Root, "root", "", "store directory (env MINIDOCKER_ROOT, default "+app.DefaultRoot+")")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%s: %w", cmdName(c), err)}
	})
	root.AddCommand(imageCommands(a)...)
	root.AddCommand(registryCommands(a)...)
	root.AddCommand(layerCommands(a)...)
	root.AddCommand(uiCmd(a))
	root.AddCommand(learnCmd(a))
	root.AddCommand(containerCommands(a)...)
	root.AddCommand(volumeCommands(a)...)
	root.AddCommand(buildCommands(a)...)
	// With no command on a terminal, minidocker opens its terminal UI.
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q for minidocker", args[0])}
		}
		return nil
	}
	var uf uiFlags
	uf.add(root)
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if isTerminal(os.Stdin) && isTerminal(os.Stdout) {
			return runUI(a, uf)
		}
		return cmd.Help()
	}
	return root
}

// printJSON writes v as indented JSON, as docker's inspect prints it.
func printJSON(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", indent)
	return enc.Encode(v)
}

// exactArgs is cobra.ExactArgs with a usage error naming the command.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s: want %s, got %d arguments", cmdName(cmd), what, len(args))}
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs with a usage error naming the command.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError{fmt.Errorf("%s: want %s", cmdName(cmd), what)}
		}
		return nil
	}
}
