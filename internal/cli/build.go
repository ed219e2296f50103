package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"minidocker/internal/app"
	"minidocker/internal/human"
	"minidocker/overlay"
)

// buildCommands are the verbs that make layers: commit and build.
func buildCommands(a *app.App) []*cobra.Command {
	return []*cobra.Command{commitCmd(a), dockerBuildCmd(a), builderCmd(a)}
}

// epochFlag reads --timestamp, or SOURCE_DATE_EPOCH when the flag is not
// given: seconds since 1970, the time an image and its files are dated.
func epochFlag(c *cobra.Command, secs int64) (*time.Time, error) {
	if !c.Flags().Changed("timestamp") {
		env := os.Getenv("SOURCE_DATE_EPOCH")
		if env == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(env, 10, 64)
		if err != nil || n < 0 {
			return nil, usageError{fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", human.Visible(env))}
		}
		secs = n
	}
	if secs < 0 {
		return nil, usageError{fmt.Errorf("%s: --timestamp must not be negative", cmdName(c))}
	}
	t := time.Unix(secs, 0).UTC()
	return &t, nil
}

// compressionFlag reads --compression: gzip (docker's) or zstd.
func compressionFlag(c *cobra.Command, v string) (bool, error) {
	switch v {
	case "gzip":
		return false, nil
	case "zstd":
		return true, nil
	}
	return false, usageError{fmt.Errorf("%s: --compression %q: want gzip or zstd", cmdName(c), human.Visible(v))}
}

func commitCmd(a *app.App) *cobra.Command {
	var o app.CommitOptions
	var dryRun bool
	var comp string
	var secs int64
	c := &cobra.Command{
		Use:   "commit [-m MSG] [-c CHANGE]... [--pause=true] CONTAINER [NAME[:TAG]]",
		Short: "Make an image of a container's changes: its upper directory as a new layer",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError{fmt.Errorf("%s: want CONTAINER and an optional NAME[:TAG], got %d arguments", cmdName(cmd), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.Zstd, err = compressionFlag(cmd, comp); err != nil {
				return err
			}
			if o.Epoch, err = epochFlag(cmd, secs); err != nil {
				return err
			}
			if dryRun {
				entries, err := a.CommitPreview(args[0])
				if err != nil {
					return err
				}
				return printPack(cmd.OutOrStdout(), entries)
			}
			name := ""
			if len(args) == 2 {
				name = args[1]
			}
			img, err := a.Commit(args[0], name, o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), img.ID)
			return nil
		},
	}
	f := c.Flags()
	f.StringVarP(&o.Message, "message", "m", "", "commit message, kept in the image's history")
	f.StringVarP(&o.Author, "author", "a", "", `author ("Name <email>")`)
	f.StringArrayVarP(&o.Changes, "change", "c", nil, "apply a Dockerfile instruction to the image's config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)")
	f.BoolVarP(&o.Pause, "pause", "p", true, "freeze the container while its upper directory is read")
	f.BoolVar(&dryRun, "dry-run", false, "list what the layer would hold, each whiteout in both forms, and make nothing")
	f.StringVar(&comp, "compression", "gzip", "layer compression: gzip or zstd")
	f.Int64Var(&secs, "timestamp", 0, "date the image and clamp file times to these seconds since 1970 (default $SOURCE_DATE_EPOCH): the same changes then give the same image ID")
	return c
}

// printPack prints a layer's entries as commit --dry-run shows them: what
// the upper directory holds and what the layer tar will hold, which differ
// for whiteouts and opaque directories.
func printPack(w io.Writer, entries []overlay.PackEntry) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "KIND\tPATH\tIN THE LAYER\tIN THE UPPER DIRECTORY\tMODE\tOWNER\tSIZE")
	for _, e := range entries {
		upper := e.Overlay
		if upper == "" {
			upper = "the same"
		}
		size := ""
		if e.Kind == overlay.PackFile {
			size = human.Size(e.Size)
		}
		layer := e.TarName
		if e.Linkname != "" {
			layer += " -> " + e.Linkname
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d:%d\t%s\n", e.Kind, human.Visible(e.Path), human.Visible(layer), upper, human.Mode(e.Mode), e.UID, e.GID, size)
	}
	return tw.Flush()
}

func dockerBuildCmd(a *app.App) *cobra.Command {
	var o app.BuildOptions
	var args []string
	var progress, comp string
	var withUI bool
	c := &cobra.Command{
		Use:   "build [-t NAME[:TAG]] [-f FILE] [--no-cache] [--build-arg K=V] [--target STAGE] [--ui] CONTEXT",
		Short: "Build an image from a Dockerfile: one layer per step, each cached",
		Args:  exactArgs(1, "the context directory"),
		RunE: func(cmd *cobra.Command, pos []string) error {
			var err error
			if o.Zstd, err = compressionFlag(cmd, comp); err != nil {
				return err
			}
			if o.BuildArgs, err = buildArgs(args); err != nil {
				return usageError{fmt.Errorf("%s: %w", cmdName(cmd), err)}
			}
			o.Context = pos[0]
			if withUI {
				return runBuildUI(a, o)
			}
			tty, err := progressMode(cmd, progress)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, unix.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			o.Out = out
			var view *buildView
			if tty {
				view = newBuildView(out)
				o.Out, o.Events = io.Discard, view.event
			}
			img, err := a.Build(ctx, o)
			if view != nil {
				view.finish(err)
			}
			if err != nil {
				return err
			}
			if view != nil {
				fmt.Fprintf(out, "Successfully built %s\n", img.ShortID())
				for _, n := range img.Names {
					fmt.Fprintf(out, "Successfully tagged %s\n", n)
				}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVarP(&o.Tags, "tag", "t", nil, "name the image NAME[:TAG] (repeatable)")
	f.StringVarP(&o.Dockerfile, "file", "f", "", "the Dockerfile (default CONTEXT/Dockerfile)")
	f.BoolVar(&o.NoCache, "no-cache", false, "run every step, using no cached step")
	f.StringArrayVar(&args, "build-arg", nil, "set a build argument K=V (K alone takes $K)")
	f.StringVar(&o.Target, "target", "", "build up to this stage")
	f.StringVar(&progress, "progress", "auto", "output: plain (docker's classic builder), tty (a live view), auto (tty on a terminal)")
	f.StringVar(&comp, "compression", "gzip", "layer compression: gzip or zstd")
	f.BoolVar(&withUI, "ui", false, "follow the build in the terminal UI: the steps, each RUN step's layer forming live, each step's image")
	return c
}

// buildArgs reads --build-arg K=V flags; a K without =V takes the value of
// the environment variable K, and is left out when that is unset, as
// docker does.
func buildArgs(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if k == "" {
			return nil, fmt.Errorf("--build-arg %q: want KEY=VALUE", human.Visible(f))
		}
		if !ok {
			if v, ok = os.LookupEnv(k); !ok {
				continue
			}
		}
		out[k] = v
	}
	return out, nil
}

// progressMode reads --progress: whether to show the live view.
func progressMode(c *cobra.Command, p string) (bool, error) {
	switch p {
	case "plain":
		return false, nil
	case "tty":
		return true, nil
	case "auto":
		f, ok := c.OutOrStdout().(*os.File)
		return ok && isTerminal(f), nil
	}
	return false, usageError{fmt.Errorf("%s: --progress %q: want auto, plain or tty", cmdName(c), human.Visible(p))}
}

// builderCmd is docker's "builder prune": forget the build cache.
func builderCmd(a *app.App) *cobra.Command {
	group := &cobra.Command{Use: "builder", Short: "Manage the build cache"}
	group.AddCommand(&cobra.Command{
		Use: "prune", Short: "Forget every cached build step; image prune then frees what only the cache kept", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.Images()
			if err != nil {
				return err
			}
			n, err := s.PruneBuildCache()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Forgot %d cached build steps\n", n)
			return nil
		},
	})
	return group
}
