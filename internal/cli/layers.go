package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"minidocker/internal/app"
	"minidocker/internal/human"
	"minidocker/overlay"
)

// layerCommands are the verbs that look into layers: docker has none of
// them; dive and overlay mount tables are their peers.
func layerCommands(a *app.App) []*cobra.Command {
	return []*cobra.Command{layersCmd(a), treeCmd(a), analyzeCmd(a), mountsCmd(a)}
}

func layersCmd(a *app.App) *cobra.Command {
	var rf registryFlags
	c := &cobra.Command{
		Use: "layers IMAGE|CONTAINER|MOUNTPOINT|ARCHIVE", Short: "Show the stack of layers with what each adds, changes and deletes", Args: exactArgs(1, "an image, container, overlay mount point or archive file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := rf.openStack(cmd, a, args[0], true)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "#\tLAYER\tSIZE\tADDED\tCHANGED\tDELETED\tCREATED BY")
			for i := s.Top(); i >= 0; i-- {
				n := overlay.Count(s.Changes(i))
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%s\n", i, human.Visible(s.Labels[i]), human.Size(s.Sizes[i]),
					n.Added, n.Changed, n.Deleted, human.Truncate(human.Visible(s.CreatedBy[i]), 60))
			}
			return tw.Flush()
		},
	}
	rf.addFallback(c)
	return c
}

// treeLine is one path of "minidocker tree", and its JSON form.
type treeLine struct {
	Path    string `json:"path"`
	Type    string `json:"type"`
	Mode    string `json:"mode"`
	UID     uint32 `json:"uid"`
	GID     uint32 `json:"gid"`
	Size    int64  `json:"size"`
	Link    string `json:"link,omitempty"`
	Layer   int    `json:"layer"`
	Kind    string `json:"kind"`
	Shadows []int  `json:"shadows,omitempty"`
	Opaque  bool   `json:"opaque,omitempty"`
}

// nodeMode prints a node's mode as ls does; a whiteout as the character
// device 0:0 it is in an upper directory.
func nodeMode(n overlay.Node) string {
	if n.Whiteout {
		return "c---------"
	}
	return human.Mode(n.Mode)
}

func nodeType(n overlay.Node) string {
	switch {
	case n.Whiteout:
		return "whiteout"
	case n.IsDir():
		return "dir"
	case n.Mode&os.ModeSymlink != 0:
		return "symlink"
	case n.Mode.IsRegular():
		return "file"
	}
	return "other"
}

func treeCmd(a *app.App) *cobra.Command {
	var rf registryFlags
	var layer int
	var changed, asJSON bool
	c := &cobra.Command{
		Use:   "tree IMAGE|CONTAINER|MOUNTPOINT|ARCHIVE [PATH]",
		Short: "Show the merged tree with where each path comes from",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError{fmt.Errorf("%s: want an image, container, mount point or archive file, and an optional path", cmdName(cmd))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := rf.openStack(cmd, a, args[0], true)
			if err != nil {
				return err
			}
			root := "/"
			if len(args) == 2 {
				root = "/" + strings.Trim(filepath.Clean("/"+args[1]), "/")
			}
			var lines []treeLine
			if cmd.Flags().Changed("layer") {
				if layer < 0 || layer > s.Top() {
					return usageError{fmt.Errorf("--layer %d: the stack has layers 0 to %d", layer, s.Top())}
				}
				lines = layerLines(s, layer, root)
			} else {
				lines, err = mergedLines(s, root, changed)
				if err != nil {
					return err
				}
			}
			if asJSON {
				if lines == nil {
					lines = []treeLine{}
				}
				return printJSON(cmd.OutOrStdout(), lines, "  ")
			}
			w := cmd.OutOrStdout()
			for _, l := range lines {
				depth := strings.Count(strings.TrimPrefix(l.Path, root), "/")
				name := human.Visible(filepath.Base(l.Path))
				if l.Path == root {
					depth, name = 0, human.Visible(l.Path)
				}
				if l.Type == "dir" && l.Path != "/" {
					name += "/"
				}
				if l.Link != "" {
					name += " → " + human.Visible(l.Link)
				}
				marks := l.Kind
				if l.Opaque && l.Kind != overlay.Opaque.String() {
					marks += ",opaque"
				}
				fmt.Fprintf(w, "%-10s %5d:%-5d %8s  L%-2d %-13s %s%s\n", l.Mode, l.UID, l.GID, human.Size(l.Size), l.Layer, marks, strings.Repeat("  ", depth), name)
			}
			return nil
		},
	}
	c.Flags().IntVar(&layer, "layer", 0, "show only what layer N holds, with how it changes the layers below")
	c.Flags().BoolVar(&changed, "changed", false, "show only what the top layer (a container's upper directory) provides")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rf.addFallback(c)
	return c
}

func under(p, root string) bool {
	return root == "/" || p == root || strings.HasPrefix(p, root+"/")
}

func mergedLines(s *app.Stack, root string, changed bool) ([]treeLine, error) {
	if _, ok := s.Merged.Lookup(root); !ok {
		return nil, fmt.Errorf("path %s: not in %s %s", human.Visible(root), s.What, human.Visible(s.Name))
	}
	var lines []treeLine
	err := s.Merged.Walk(func(e overlay.Entry) error {
		if !under(e.Path, root) {
			return nil
		}
		if changed && e.Layer != s.Top() {
			return nil
		}
		lines = append(lines, treeLine{
			Path: e.Path, Type: nodeType(e.Node), Mode: nodeMode(e.Node), UID: e.Node.UID, GID: e.Node.GID,
			Size: e.Node.Size, Link: e.Node.Link, Layer: e.Layer, Kind: e.Kind.String(), Shadows: e.Shadows, Opaque: e.Opaque,
		})
		return nil
	})
	if err != nil || !changed {
		return lines, err
	}
	// What the top layer deletes is not in the merged view: its changes
	// say so, as they do for --layer.
	for _, c := range s.Changes(s.Top()) {
		if c.Kind == overlay.Removed && under(c.Path, root) {
			lines = append(lines, changeLine(s, s.Top(), c))
		}
	}
	slices.SortStableFunc(lines, func(a, b treeLine) int { return overlay.ComparePaths(a.Path, b.Path) })
	return lines, nil
}

func layerLines(s *app.Stack, i int, root string) []treeLine {
	var lines []treeLine
	for _, c := range s.Changes(i) {
		if under(c.Path, root) {
			lines = append(lines, changeLine(s, i, c))
		}
	}
	return lines
}

// changeLine is the line of a path layer i changes.
func changeLine(s *app.Stack, i int, c overlay.Change) treeLine {
	l := treeLine{Path: c.Path, Layer: i, Kind: c.Kind.String(), Size: c.Size}
	if n, ok := s.Layers[i].Lookup(c.Path); ok {
		l.Type, l.Mode, l.UID, l.GID, l.Link, l.Opaque = nodeType(n), nodeMode(n), n.UID, n.GID, n.Link, n.Opaque
	} else {
		l.Type, l.Mode = "removed", "----------"
	}
	if c.Kind == overlay.Removed {
		l.Kind += " (" + c.Via.String() + ")"
	}
	if c.Lower >= 0 {
		l.Shadows = []int{c.Lower}
	}
	return l
}

// ciRules reads analyze's --ci thresholds: the wasted bytes in docker's
// units or "disabled". Thresholds that are NaN, infinite or out of range
// are an error, never a rule silently skipped.
func ciRules(lowest, userWasted float64, highestWasted string) (overlay.CIRules, error) {
	r := overlay.CIRules{LowestEfficiency: lowest, HighestWastedBytes: overlay.Disabled, HighestUserWastedPercent: userWasted}
	if highestWasted != "" && highestWasted != "disabled" {
		n, err := human.ParseSize(highestWasted)
		if err != nil {
			return r, fmt.Errorf("--highest-wasted-bytes: %w", err)
		}
		r.HighestWastedBytes = n
	}
	if err := r.Check(); err != nil {
		return r, fmt.Errorf("--%w", err)
	}
	return r, nil
}

func analyzeCmd(a *app.App) *cobra.Command {
	var rf registryFlags
	var ci bool
	var lowest, userWasted float64
	var highestWasted string
	c := &cobra.Command{
		Use:   "analyze IMAGE|CONTAINER|ARCHIVE",
		Short: "Measure how efficiently an image's layers store what it shows (dive's CI gate with --ci)",
		Args:  exactArgs(1, "an image, container or archive file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rules, err := ciRules(lowest, userWasted, highestWasted)
			if err != nil {
				return usageError{err}
			}
			// Reading layers allocates far more than it keeps (tar headers,
			// names, decompression windows): collect only when the heap nears
			// 64 MiB instead of every time it doubles. The runtime's GC CPU
			// limiter keeps a larger live heap from thrashing at the limit.
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(64 << 20))
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			s, err := rf.openStack(cmd, a, args[0], true)
			if err != nil {
				return err
			}
			eff := s.Merged.Efficiency()
			results, err := overlay.EvaluateCI(eff, s.Sizes, rules)
			if err != nil {
				return usageError{err}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s %s: %d layers, %d paths\n", s.What, human.Visible(s.Name), len(s.Layers), s.Merged.Len())
			fmt.Fprintf(w, "  efficiency:          %.4f %%\n", 100*eff.Score)
			fmt.Fprintf(w, "  stored bytes:        %s (first layer %s)\n", human.Size(eff.Stored), human.Size(s.Sizes[0]))
			fmt.Fprintf(w, "  wasted bytes:        %s\n", human.Size(eff.Wasted))
			fmt.Fprintf(w, "  user wasted percent: %.4f %%\n", 100*overlay.UserWasted(eff, s.Sizes))
			if len(eff.Files) > 0 {
				tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "\n  COPIES\tWASTED\tPATH")
				for i, f := range eff.Files {
					if i == 20 {
						fmt.Fprintf(tw, "  …\t\t%d more\n", len(eff.Files)-20)
						break
					}
					fmt.Fprintf(tw, "  %d\t%s\t%s\n", f.Copies, human.Size(f.Wasted), human.Visible(f.Path))
				}
				tw.Flush()
			}
			if !ci {
				return nil
			}
			fmt.Fprintln(w, "\nCI rules:")
			fail := false
			for _, r := range results {
				fmt.Fprintf(w, "  %s: %s (%s)\n", r.Verdict, r.Name, r.Detail)
				fail = fail || r.Verdict == overlay.Fail
			}
			if fail {
				return exitError{1}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&ci, "ci", false, "check the rules below: PASS/FAIL for each, exit code 1 on a failure")
	c.Flags().Float64Var(&lowest, "lowest-efficiency", 0.9, "with --ci: the lowest efficiency score allowed (0 to 1)")
	c.Flags().StringVar(&highestWasted, "highest-wasted-bytes", "disabled", "with --ci: the most wasted bytes allowed (e.g. 20MB), or disabled")
	c.Flags().Float64Var(&userWasted, "highest-user-wasted-percent", 0.1, "with --ci: the highest fraction of bytes wasted allowed (0 to 1)")
	rf.addFallback(c)
	return c
}

func mountsCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "mounts", Short: "List the overlay mounts of every mount namespace of the host, with their owners (docker's, podman's, ours, any)", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ms, err := a.HostMounts()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "MOUNT POINT\tNAMESPACE\tOWNER\tLOWERS\tUPPER\tTOP LOWER")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", human.Visible(m.Path()), mountNamespace(m), orDash(human.Visible(m.Owner.String())),
					len(m.Lower), human.Visible(upperText(m.Upper)), human.Visible(topLower(m)))
			}
			err = tw.Flush()
			if os.Geteuid() != 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "minidocker: mounts: not root: only the mount namespaces of your own processes are read")
			}
			return err
		},
	}
}

// mountNamespace is "own" for the caller's mount namespace, else the
// namespace and the process whose table listed the mount.
func mountNamespace(m app.HostMount) string {
	if m.Own {
		return "own"
	}
	return fmt.Sprintf("%s pid %d", m.Namespace, m.Namespace.Pid)
}

// topLower is the mount's top lower layer: its ID in its store, else its
// directory.
func topLower(m app.HostMount) string {
	if len(m.Lower) == 0 {
		return ""
	}
	if id := m.Layers[0]; len(id) > 12 {
		return id[:12]
	} else if id != "" {
		return id
	}
	return m.Lower[0]
}

// upperText is a mount's upper directory as the table shows it.
func upperText(upper string) string {
	switch {
	case upper == "":
		return "(read-only)"
	case strings.HasPrefix(upper, "/proc/self/fd/"):
		return "(a file descriptor of its mounter)"
	}
	return upper
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func orDash(s string) string { return orText(s, "-") }
