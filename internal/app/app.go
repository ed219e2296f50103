// Package app is minidocker's application layer: the one place that knows
// both images and containers. It resolves images (making the default one on
// first use), creates, holds and removes containers, turns an image's config
// plus run options into an engine spec, opens layer stacks from an image, a
// container, a host mount or an archive, and gives the terminal UI its
// sources. It is the only importer of both engine and images; the CLI
// (internal/cli) parses and prints around it.
package app

import (
	"errors"

	"minidocker/engine"
	"minidocker/images"
)

// DefaultRoot is where minidocker keeps images and containers.
const DefaultRoot = "/var/lib/minidocker"

// ErrInvalid marks an error in what the caller asked for: a flag's value,
// an image without a command. The CLI reports it as a usage error.
var ErrInvalid = errors.New("invalid argument")

// invalidError is an error that is also ErrInvalid.
type invalidError struct{ error }

func (e invalidError) Unwrap() []error { return []error{e.error, ErrInvalid} }

// Invalid marks err as the caller's mistake (errors.Is(err, ErrInvalid)).
func Invalid(err error) error { return invalidError{err} }

// App is a store root opened on demand: the image store and the engine.
type App struct {
	// Root is the store directory; Limits bound the layers unpacked.
	Root   string
	Limits images.UnpackLimits
	store  *images.Store
}

// New returns the application over the store at root.
func New(root string) *App { return &App{Root: root} }

// Images opens the image store once.
func (a *App) Images() (*images.Store, error) {
	if a.store == nil {
		if a.Limits.MaxBytes < 0 || a.Limits.MaxEntries < 0 {
			return nil, Invalid(errors.New("layer limits must not be negative"))
		}
		if err := a.checkStore(); err != nil {
			return nil, err
		}
		s, err := images.Open(a.Root)
		if err != nil {
			return nil, a.rootError(err)
		}
		s.SetUnpackLimits(a.Limits)
		a.store = s
	}
	return a.store, nil
}

// Engine opens the engine on the store root and tidies up first.
func (a *App) Engine() (*engine.Engine, error) {
	if err := a.checkStore(); err != nil {
		return nil, err
	}
	e, err := engine.Open(engine.Options{Root: a.Root})
	if err != nil {
		return nil, a.rootError(err)
	}
	return e, a.Tidy(e)
}

// Tidy removes the containers run with --rm that ended while nobody
// waited, and releases the images of containers that are gone (a container
// run with --rm is removed by its monitor, which cannot release the image:
// the engine knows no images). Every failure is reported, joined: a hold
// that is not released silently keeps its layers from GC.
func (a *App) Tidy(e *engine.Engine) error {
	// Holders before containers: a container is made before its hold, so
	// a hold seen here whose container is not listed below has lost it.
	s, err := a.Images()
	if err != nil {
		return err
	}
	holders, err := s.Holders()
	if err != nil {
		return err
	}
	all, err := e.List()
	if err != nil {
		return err
	}
	var errs []error
	ids := map[string]bool{}
	for _, st := range all {
		ids[st.ID] = true
		if st.Spec.AutoRemove && st.Status == engine.Exited {
			if _, err := a.RemoveWithVolumes(e, st.ID, false); err != nil && !errors.Is(err, engine.ErrNotFound) {
				errs = append(errs, err)
			}
		}
	}
	for _, h := range holders {
		if engine.IsID(h) && !ids[h] {
			errs = append(errs, s.Release(h))
		}
	}
	return errors.Join(errs...)
}

// Remove removes a container and lets go of its image.
func (a *App) Remove(e *engine.Engine, ref string, force bool) (engine.State, error) {
	return a.remove(e, ref, force, false)
}

// RemoveWithVolumes is Remove that also removes the container's anonymous
// volumes, as docker's rm -v and --rm do.
func (a *App) RemoveWithVolumes(e *engine.Engine, ref string, force bool) (engine.State, error) {
	return a.remove(e, ref, force, true)
}

func (a *App) remove(e *engine.Engine, ref string, force, volumes bool) (engine.State, error) {
	st, err := e.Remove(ref, force)
	if err != nil {
		return st, err
	}
	if volumes {
		if err := e.RemoveAnonymousVolumes(st); err != nil {
			return st, err
		}
	}
	s, err := a.Images()
	if err != nil {
		return st, err
	}
	return st, s.Release(st.ID)
}
