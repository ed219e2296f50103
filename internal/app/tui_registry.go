package app

import (
	"context"
	"errors"
	"fmt"

	"minidocker/images"
	"minidocker/internal/human"
	"minidocker/ui"
)

// uiRegistry pulls and pushes images for the UI's Images panel.
type uiRegistry struct{ a *App }

// Pull fetches spec.Ref into the store, as pull does, telling progress of
// each layer, and returns the image as the UI lists it.
func (u uiRegistry) Pull(ctx context.Context, spec ui.PullSpec, progress func(ui.PullLayer)) (ui.Pulled, error) {
	o := PullOptions{Platform: spec.Platform, Insecure: spec.Insecure}
	if progress != nil {
		o.Progress = func(lp images.LayerProgress) { progress(uiPullLayer(lp)) }
	}
	p, err := u.a.Pull(ctx, spec.Ref, o)
	if err != nil {
		return ui.Pulled{}, err
	}
	s, err := u.a.Images()
	if err != nil {
		return ui.Pulled{}, err
	}
	return ui.Pulled{Image: uiImages{s}.image(p.Image), Name: p.Name, Digest: string(p.Digest),
		Fetched: p.Fetched, UpToDate: p.UpToDate}, nil
}

// Push sends the stored image spec.Image to spec.Dest, as push does.
func (u uiRegistry) Push(ctx context.Context, spec ui.PushSpec, progress func(done, total int64)) (ui.Pushed, error) {
	p, err := u.a.Push(ctx, spec.Image, spec.Dest, PushOptions{Insecure: spec.Insecure, Progress: progress})
	if err != nil {
		return ui.Pushed{}, err
	}
	return ui.Pushed{Ref: p.Ref, Digest: string(p.Digest), Size: p.Size}, nil
}

// uiPullLayer is a layer's progress as the UI shows it.
func uiPullLayer(lp images.LayerProgress) ui.PullLayer {
	st := ui.PullWaiting
	switch lp.State {
	case images.LayerExists:
		st = ui.PullExists
	case images.LayerFetching:
		st = ui.PullFetching
	case images.LayerResuming:
		st = ui.PullResuming
	case images.LayerDone:
		st = ui.PullDone
	}
	return ui.PullLayer{Index: lp.Index, Digest: string(lp.Digest), Size: lp.Size, Done: lp.Done, State: st}
}

// UIOpen says how ui REF opens: on the view of the stored image ref (its
// ID), or, when ref is no image here and f allows a pull (a reference
// naming a registry host, or f.Any), on a pull of it first, as
// "dive alpine" does. Anything else is an error naming ref.
func (a *App) UIOpen(ref string, f PullFallback) (id string, pull *ui.PullSpec, err error) {
	s, err := a.Images()
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", human.Visible(ref), err)
	}
	img, err := s.Get(ref)
	switch {
	case err == nil:
		return string(img.ID), nil, nil
	case !errors.Is(err, images.ErrNotFound):
		return "", nil, fmt.Errorf("%s: %w", human.Visible(ref), err)
	case f.Any || images.NamesRegistry(ref):
		return "", &ui.PullSpec{Ref: ref, Insecure: f.Insecure, Platform: f.Platform}, nil
	}
	return "", nil, fmt.Errorf("no image %s here: a reference naming its registry's host (host:port/name) is pulled, or any with --pull", human.Visible(ref))
}
