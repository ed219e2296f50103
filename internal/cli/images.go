package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"minidocker/internal/app"
	"minidocker/internal/human"
)

// imageCommands are the verbs over the image store, each also under "image".
func imageCommands(a *app.App) []*cobra.Command {
	list := &cobra.Command{
		Use:   "images",
		Short: "List images",
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(cmd *cobra.Command, args []string) error { return listImages(a, cmd.OutOrStdout()) },
	}
	group := &cobra.Command{Use: "image", Short: "Manage images"}
	group.AddCommand(
		&cobra.Command{
			Use: "ls", Short: "List images", Args: exactArgs(0, "no arguments"),
			RunE: func(cmd *cobra.Command, args []string) error { return listImages(a, cmd.OutOrStdout()) },
		},
		createBaseCmd(a),
		inspectCmd(a, false), historyCmd(a), tagCmd(a), rmiCmd(a, "rm"), loadCmd(a), saveCmd(a), importCmd(a), pruneCmd(a),
	)
	system := &cobra.Command{Use: "system", Short: "Store-wide information and clean-up"}
	system.AddCommand(pruneCmd(a), dfCmd(a))
	gc := pruneCmd(a)
	gc.Use, gc.Short = "gc", "Delete blobs and layers that nothing references"
	return []*cobra.Command{list, group, inspectCmd(a, true), historyCmd(a), tagCmd(a), rmiCmd(a, "rmi"),
		loadCmd(a), saveCmd(a), importCmd(a), system, gc}
}

func createBaseCmd(a *app.App) *cobra.Command {
	var ifMissing bool
	c := &cobra.Command{
		Use: "create-base", Short: "Make the default image \"base\" from the host's programs", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.Images()
			if err != nil {
				return err
			}
			create := s.CreateBase
			if ifMissing {
				create = s.EnsureBase
			}
			img, err := create()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", app.BaseName, img.ID)
			return nil
		},
	}
	c.Flags().BoolVar(&ifMissing, "if-missing", false, "only when there is no base image yet")
	return c
}

func listImages(a *app.App, w io.Writer) error {
	rows, err := a.ImageRows()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", human.Visible(r.Repo), human.Visible(r.Tag), r.ShortID, ago(r.Created), human.Size(r.Size))
	}
	return tw.Flush()
}

// ago is how long ago t was, "" when it is not known.
func ago(t *time.Time) string {
	if t == nil {
		return ""
	}
	return human.Ago(time.Since(*t))
}

// inspectCmd prints images as JSON; with containersToo, a name that is no
// image may be a container, as in docker inspect.
func inspectCmd(a *app.App, containersToo bool) *cobra.Command {
	short := "Show images' manifest and config as JSON"
	if containersToo {
		short = "Show images or containers as JSON"
	}
	return &cobra.Command{
		Use: "inspect NAME...", Short: short, Args: minArgs(1, "an image or container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out []any
			for _, ref := range args {
				v, err := a.Inspect(ref, containersToo)
				if err != nil {
					return err
				}
				out = append(out, v)
			}
			return printJSON(cmd.OutOrStdout(), out, "    ")
		},
	}
}

func historyCmd(a *app.App) *cobra.Command {
	var noTrunc bool
	c := &cobra.Command{
		Use: "history IMAGE", Short: "Show how an image's layers were made", Args: exactArgs(1, "one image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rows, err := a.History(args[0])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "LAYER\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
			// Newest first, as docker prints it.
			for _, r := range slices.Backward(rows) {
				layer, by, comment := r.Layer, human.Visible(r.CreatedBy), human.Visible(r.Comment)
				if layer == "" {
					layer = "<missing>"
				}
				if !noTrunc {
					by, comment = human.Truncate(by, 60), human.Truncate(comment, 40)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", layer, ago(r.Created), by, human.Size(r.Size), comment)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&noTrunc, "no-trunc", false, "do not shorten the CREATED BY and COMMENT columns")
	return c
}

func tagCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "tag SOURCE TARGET", Short: "Give an image another name", Args: exactArgs(2, "SOURCE and TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.Images()
			if err != nil {
				return err
			}
			_, err = s.Tag(args[0], args[1])
			return err
		},
	}
}

func rmiCmd(a *app.App, use string) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use: use + " IMAGE...", Short: "Remove image names; the image goes with its last name", Args: minArgs(1, "an image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.Images()
			if err != nil {
				return err
			}
			var errs []error
			for _, ref := range args {
				untagged, deleted, err := s.Remove(ref, force)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				for _, n := range untagged {
					fmt.Fprintf(cmd.OutOrStdout(), "Untagged: %s\n", n)
				}
				if deleted != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "Deleted: %s\n", deleted)
				}
			}
			return errors.Join(errs...)
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "remove every name, even while a container uses the image")
	return c
}

func loadCmd(a *app.App) *cobra.Command {
	var input, from string
	var quiet bool
	c := &cobra.Command{
		Use: "load [-i FILE | --from docker|podman IMAGE]", Short: "Load images from a docker-archive or OCI archive (file, directory or standard input), or from docker or podman", Args: loadArgs(&from),
		RunE: func(cmd *cobra.Command, args []string) error {
			imgs, err := load(a, input, from, args, cmd.InOrStdin())
			if err != nil {
				return err
			}
			if quiet {
				return nil
			}
			for _, img := range imgs {
				if len(img.Names) == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "Loaded image ID: %s\n", img.ID)
				}
				for _, n := range img.Names {
					fmt.Fprintf(cmd.OutOrStdout(), "Loaded image: %s\n", n)
				}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&input, "input", "i", "", "read from this archive file or OCI layout directory instead of standard input")
	c.Flags().StringVar(&from, "from", "", "take IMAGE from docker or podman (through their save command), as dive's --source")
	limitFlags(c, a)
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing")
	return c
}

func saveCmd(a *app.App) *cobra.Command {
	var output, format string
	c := &cobra.Command{
		Use: "save -o FILE IMAGE...", Short: "Save images to an OCI archive (or --format docker-archive)", Args: minArgs(1, "an image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (output == "" || output == "-") && isTerminal(os.Stdout) {
				return usageError{errors.New("save: refusing to write an archive to a terminal; use -o FILE")}
			}
			return a.Save(cmd.OutOrStdout(), output, args, format)
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	c.Flags().StringVar(&format, "format", app.DefaultFormat, "oci-archive or docker-archive")
	return c
}

// limitFlags adds the per-layer unpack limits to a command that unpacks layers.
func limitFlags(c *cobra.Command, a *app.App) {
	c.Flags().Int64Var(&a.Limits.MaxBytes, "max-layer-bytes", 0, "refuse a layer holding more bytes of file content (default 64 GiB)")
	c.Flags().Int64Var(&a.Limits.MaxEntries, "max-layer-entries", 0, "refuse a layer with more tar entries (default 10,000,000)")
}

func importCmd(a *app.App) *cobra.Command {
	var strict bool
	c := &cobra.Command{
		Use: "import ROOTFS.tar NAME", Short: "Make a one-layer image from a root filesystem tar", Args: exactArgs(2, "ROOTFS.tar and NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			im, err := a.Import(args[0], args[1], strict)
			if err != nil {
				return err
			}
			if n := im.SkippedDevices; n > 0 {
				nodes := "nodes"
				if n == 1 {
					nodes = "node"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "import: skipped %d device %s (the container gets its /dev from the engine); --strict refuses them\n", n, nodes)
			}
			fmt.Fprintln(cmd.OutOrStdout(), im.ID)
			return nil
		},
	}
	limitFlags(c, a)
	c.Flags().BoolVar(&strict, "strict", false, "refuse a tar holding device nodes instead of skipping them")
	return c
}

func pruneCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "prune", Short: "Delete blobs and layers that no image or container references", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.Images()
			if err != nil {
				return err
			}
			rep, err := s.GC()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %d blobs and %d layers\nTotal reclaimed space: %s\n", len(rep.Blobs), len(rep.Layers), human.Size(rep.Bytes))
			return nil
		},
	}
}
