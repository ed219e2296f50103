package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"minidocker/internal/app"
	"minidocker/internal/human"
)

func pushCmd(a *app.App) *cobra.Command {
	var f registryFlags
	var quiet bool
	c := &cobra.Command{
		Use:   "push [--tls-verify=false] IMAGE [DEST]",
		Short: "Upload an image to a registry (to DEST, a registry reference, or to IMAGE's own name)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError{fmt.Errorf("%s: want an image and an optional destination reference", cmdName(cmd))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			dest := ""
			if len(args) == 2 {
				dest = args[1]
			}
			w := cmd.OutOrStdout()
			opts := app.PushOptions{Insecure: !f.tlsVerify}
			var bar *pushProgress
			if !quiet {
				bar = newPushProgress(w)
				opts.Progress = bar.update
			}
			p, err := a.Push(ctx, args[0], dest, opts)
			bar.finish()
			if err != nil {
				return err
			}
			if quiet {
				fmt.Fprintln(w, human.Visible(p.Ref))
				return nil
			}
			fmt.Fprintf(w, "%s: digest: %s size: %d\n", human.Visible(p.Ref), p.Digest, p.Size)
			return nil
		},
	}
	f.add(c, false)
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the reference pushed to")
	return c
}

// pushProgress shows a push as one bar redrawn in place on a terminal, and
// nothing elsewhere: docker's per-layer lines say little when the registry
// has most blobs already.
type pushProgress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	drawn bool
	last  time.Time
}

func newPushProgress(w io.Writer) *pushProgress {
	f, ok := w.(*os.File)
	return &pushProgress{w: w, tty: ok && isTerminal(f)}
}

func (p *pushProgress) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty || (time.Since(p.last) < 100*time.Millisecond && done < total) {
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[2KPushing %s", bar(done, total))
	p.drawn, p.last = true, time.Now()
}

// finish ends the bar's line; p may be nil.
func (p *pushProgress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// bar is docker's progress bar: "[=====>     ]  1.2MB/3.4MB".
func bar(done, total int64) string {
	const width = 40
	n := 0
	if total > 0 {
		n = int(min(done, total) * width / total)
	}
	arrow := ""
	if n < width {
		arrow = ">"
	}
	return fmt.Sprintf("[%s%s%s] %8s/%s", strings.Repeat("=", n), arrow, strings.Repeat(" ", max(0, width-n-len(arrow))), human.Size(done), human.Size(total))
}
