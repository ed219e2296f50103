// Command minidocker is a small container engine with a terminal UI that
// shows copy-on-write at work: the image's layers, the container's upper
// directory and the merged view, live.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"minidocker/engine"
	"minidocker/images"
)

// defaultRoot is where minidocker keeps images and containers.
const defaultRoot = "/var/lib/minidocker"

// usageError marks an error in how the command was called: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// app is what every command shares: where the store is, opened on demand.
type app struct {
	root   string
	limits images.UnpackLimits
	store  *images.Store
}

// images opens the image store once.
func (a *app) images() (*images.Store, error) {
	if a.store == nil {
		s, err := images.Open(a.root)
		if err != nil {
			return nil, err
		}
		if a.limits.MaxBytes < 0 || a.limits.MaxEntries < 0 {
			return nil, usageError{errors.New("layer limits must not be negative")}
		}
		s.SetUnpackLimits(a.limits)
		a.store = s
	}
	return a.store, nil
}

func main() {
	// A re-executed minidocker is a container's init, monitor or exec
	// helper: it must do that and nothing else.
	if engine.IsInit() {
		engine.Init() // never returns
	}
	engine.Trace("cli: main")
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{}
	cmd := newRootCmd(a)
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	// A container's own exit code is passed through silently, as docker does.
	if ee, ok := err.(exitError); ok {
		return ee.code
	}
	fmt.Fprintf(stderr, "minidocker: %s\n", oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// exitError carries a container's exit code out of a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// isCobraUsage recognises cobra's own errors for unknown commands.
func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag")
}

// oneLine keeps an error message on one line, with control characters made visible.
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString("; ")
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "minidocker",
		Short:         "A small container engine that shows copy-on-write at work",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.root == "" {
				a.root = os.Getenv("MINIDOCKER_ROOT")
			}
			if a.root == "" {
				a.root = defaultRoot
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&a.root, "root", "", "store directory (env MINIDOCKER_ROOT, default "+defaultRoot+")")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%s: %w", c.CommandPath(), err)}
	})
	root.AddCommand(imageCommands(a)...)
	root.AddCommand(overlayCommands(a)...)
	root.AddCommand(uiCmd(a))
	// With no command on a terminal, minidocker opens its terminal UI.
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageError{fmt.Errorf("unknown command %q for minidocker", args[0])}
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if isTerminal(os.Stdin) && isTerminal(os.Stdout) {
			return runUI(a)
		}
		return cmd.Help()
	}
	root.AddCommand(containerCommands(a)...)
	return root
}

// exactArgs is cobra.ExactArgs with a usage error naming the command.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s: want %s, got %d arguments", cmd.CommandPath(), what, len(args))}
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs with a usage error naming the command.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError{fmt.Errorf("%s: want %s", cmd.CommandPath(), what)}
		}
		return nil
	}
}
