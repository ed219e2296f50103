package cli

import (
	"errors"
	"os"
	"strings"

	"minidocker/internal/app"
	"minidocker/ui"
)

// runUIOn opens the UI on the view of one image, as dive opens on the
// image it is given: an archive file or OCI layout read in place and
// read-only, which needs neither store nor root, or an image of the store.
func runUIOn(a *app.App, f uiFlags, ref string) error {
	o := ui.Options{Presenter: f.presenter, OpenImage: true}
	if isArchive(a, ref) {
		src, closeArchive, err := a.ArchiveUISources(ref)
		if err != nil {
			return err
		}
		_, err = runSources(a, src, o)
		return errors.Join(err, closeArchive())
	}
	src, err := a.UISourcesOn(ref)
	if err != nil {
		return err
	}
	_, err = runSources(a, src, o)
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
