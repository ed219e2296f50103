package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"minidocker/internal/app"
	"minidocker/internal/human"
)

// registryCommands are docker's verbs for registries.
func registryCommands(a *app.App) []*cobra.Command {
	return []*cobra.Command{pullCmd(a), pushCmd(a)}
}

// registryFlags are the flags of the commands that reach a registry.
type registryFlags struct {
	platform  string
	tlsVerify bool
	pull      bool
}

// add adds --tls-verify and, with platform, --platform to c.
func (f *registryFlags) add(c *cobra.Command, platform bool) {
	c.Flags().BoolVar(&f.tlsVerify, "tls-verify", true, "check the registry's TLS certificate; false also allows plain HTTP")
	if platform {
		c.Flags().StringVar(&f.platform, "platform", "", "OS/ARCH[/VARIANT] of the image to take from a multi-platform index (default: this machine's)")
	}
}

// addFallback adds the flags of a command that opens an image and may pull
// it first (layers, tree, analyze).
func (f *registryFlags) addFallback(c *cobra.Command) {
	f.add(c, true)
	c.Flags().BoolVar(&f.pull, "pull", false, "pull IMAGE from its registry when it is not here (a reference naming a registry host is pulled without it)")
}

// pullOptions are the flags as the application layer takes them.
func (f *registryFlags) pullOptions() app.PullOptions {
	return app.PullOptions{Platform: f.platform, Insecure: !f.tlsVerify}
}

// openStack opens what a layer command looks at (app.OpenStackOrPull),
// pulling it first when it is found nowhere here and is a registry's: a
// reference naming a registry host, or any with one of the registry flags
// given. The pull's progress goes to standard error, so that the
// command's output stays what it is.
func (f *registryFlags) openStack(c *cobra.Command, a *app.App, ref string, archives bool) (*app.Stack, error) {
	ctx, stop := interruptible(c.Context())
	defer stop()
	fl := c.Flags()
	pf := app.PullFallback{PullOptions: f.pullOptions(), Any: f.pull || fl.Changed("platform") || fl.Changed("tls-verify")}
	pp := newPullProgress(c.ErrOrStderr())
	pf.Progress = pp.update
	s, err := a.OpenStackOrPull(ctx, ref, archives, pf)
	pp.finish()
	return s, err
}

// interruptible is ctx cancelled by SIGINT or SIGTERM, so that a pull or
// push stopped from the terminal clears its temp files and says so.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, unix.SIGTERM)
}

func pullCmd(a *app.App) *cobra.Command {
	var f registryFlags
	var quiet bool
	c := &cobra.Command{
		Use:   "pull [--platform OS/ARCH] [--tls-verify=false] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry, its layers in parallel and unpacked as they arrive",
		Args:  exactArgs(1, "an image reference"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			w := cmd.OutOrStdout()
			opts := f.pullOptions()
			var pp *pullProgress
			if !quiet {
				pp = newPullProgress(w)
				opts.Progress = pp.update
			}
			p, err := a.Pull(ctx, args[0], opts)
			pp.finish()
			if err != nil {
				return err
			}
			name := p.Name
			if name == "" {
				name = p.Image.ShortID()
			}
			if quiet {
				fmt.Fprintln(w, human.Visible(name))
				return nil
			}
			fmt.Fprintf(w, "Digest: %s\n", p.Digest)
			if p.UpToDate {
				fmt.Fprintf(w, "Status: Image is up to date for %s\n", human.Visible(name))
			} else {
				fmt.Fprintf(w, "Status: Downloaded newer image for %s (%d layers fetched)\n", human.Visible(name), p.Fetched)
			}
			fmt.Fprintln(w, p.Image.ID)
			return nil
		},
	}
	f.add(c, true)
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the image's name")
	return c
}
