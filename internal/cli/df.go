package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"minidocker/images"
	"minidocker/internal/app"
	"minidocker/internal/human"
)

func dfCmd(a *app.App) *cobra.Command {
	var verbose bool
	c := &cobra.Command{
		Use: "df", Short: "Show how images share layers, and containers their images, and the space it saves", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.Images()
			if err != nil {
				return err
			}
			u, err := s.DiskUsage()
			if err != nil {
				return err
			}
			// Containers need the engine, which may be out of reach (a
			// store this user cannot write): the images' part is still
			// printed, and why the rest is not.
			var meters []app.Meter
			e, err := a.Engine()
			if err == nil {
				meters, err = a.NewMetering(e).Meters()
			}
			w := cmd.OutOrStdout()
			printUsage(w, u, meters, err == nil)
			if err == nil {
				printMeters(w, meters)
			}
			if verbose {
				printLayers(w, u)
				printContainerSizes(w, meters)
			}
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "df: containers not measured: %v\n", err)
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every layer with its users, and every container with its upper directory")
	return c
}

// printUsage prints the store's totals: images and layers (see
// images.DiskUsage), then containers, when measured.
func printUsage(w io.Writer, u images.DiskUsage, meters []app.Meter, ctrs bool) {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tCOUNT\tSIZE")
	fmt.Fprintf(tw, "Images\t%d\t%s (the sum of their sizes, as images shows them)\n", len(u.Images), human.Size(u.Logical))
	fmt.Fprintf(tw, "Layers\t%d\t%s (their content, each layer once)\n", len(u.Layers), human.Size(u.Unique+u.Held))
	fmt.Fprintf(tw, "Shared\t\t%s (layers more than one image uses)\n", human.Size(u.Shared))
	fmt.Fprintf(tw, "Held\t\t%s (layers only containers keep)\n", human.Size(u.Held))
	fmt.Fprintf(tw, "Blobs\t\t%s (compressed)\n", human.Size(u.Blobs))
	if ctrs {
		var n, running int
		var uppers int64
		for _, m := range meters {
			n += m.N()
			uppers += m.Uppers()
			for _, c := range m.Containers {
				if c.Running {
					running++
				}
			}
		}
		fmt.Fprintf(tw, "Containers\t%d\t%s (their upper directories, %d running)\n", n, human.Size(uppers), running)
	}
	tw.Flush()
	fmt.Fprintf(w, "Sharing layers between images saves %s of %s (%.0f%%)\n", human.Size(u.Saved()), human.Size(u.Logical), 100*u.Savings())
}

// printMeters prints the disk meter of each image that has containers,
// the figures the TUI draws over the image's layers (app.Meter).
func printMeters(w io.Writer, meters []app.Meter) {
	if len(meters) == 0 {
		return
	}
	fmt.Fprintln(w, "\nContainers share their image's layers: on disk, the layers once and each upper directory;\nas full copies, the whole image for each container and its upper directory.")
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tCONTAINERS\tLAYERS\tUPPERS\tON DISK\tFULL COPIES\tSAVED")
	for _, m := range meters {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s (%.0f%%)\n", meterName(m), m.N(), human.Size(m.Layers), human.Size(m.Uppers()),
			human.Size(m.Disk()), human.Size(m.Copies()), human.Size(m.Saved()), 100*m.Savings())
	}
	tw.Flush()
}

func meterName(m app.Meter) string {
	if m.Removed {
		return human.Visible(m.Name) + " (removed)"
	}
	return human.Visible(m.Name)
}

func printLayers(w io.Writer, u images.DiskUsage) {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "\nLAYER\tSIZE\tIMAGES\tCONTAINERS")
	for _, l := range u.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", l.DiffID.Encoded()[:12], human.Size(l.Size), l.Images, l.Holders)
	}
	tw.Flush()
}

// printContainerSizes lists every container with its upper directory, as
// docker system df -v lists their writable size.
func printContainerSizes(w io.Writer, meters []app.Meter) {
	if len(meters) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "\nCONTAINER ID\tNAME\tIMAGE\tSTATUS\tUPPER")
	for _, m := range meters {
		for _, c := range m.Containers {
			status := "stopped"
			if c.Running {
				status = "running"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID[:12], human.Visible(c.Name), meterName(m), status, human.Size(c.Upper))
		}
	}
	tw.Flush()
}
