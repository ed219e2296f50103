package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"minidocker/internal/app"
	"minidocker/ui"
)

// runUIOn opens the UI on the view of one image, as dive opens on the
// image it is given: an archive file or OCI layout read in place and
// read-only, which needs neither store nor root; an image of the store;
// or one pulled first, its progress in the UI, when ref names a registry
// host or a registry flag is given (app.UIOpen). An image found nowhere
// is an error before the UI opens.
func runUIOn(c *cobra.Command, a *app.App, f uiFlags, ref string) error {
	if isArchive(a, ref) {
		src, closeArchive, err := a.ArchiveUISources(ref)
		if err != nil {
			return err
		}
		_, err = runSources(a, src, ui.Options{Presenter: f.presenter, OpenImage: true})
		return errors.Join(err, closeArchive())
	}
	fl := c.Flags()
	pf := app.PullFallback{PullOptions: f.reg.pullOptions(), Any: f.reg.pull || fl.Changed("platform") || fl.Changed("tls-verify")}
	id, pull, err := a.UIOpen(ref, pf)
	if err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	_, err = runProgram(a, ui.Options{Presenter: f.presenter, Image: id, Pull: pull})
	return err
}

// isArchive reports whether ref names an archive rather than an image of
// the store: a path that exists, unless it is a bare name the store also
// has an image by.
func isArchive(a *app.App, ref string) bool {
	if _, err := os.Stat(ref); err != nil {
		return false
	}
	if strings.ContainsRune(ref, '/') {
		return true
	}
	s, err := a.Images()
	if err != nil {
		return true
	}
	_, err = s.Get(ref)
	return err != nil
}
