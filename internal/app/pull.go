package app

import (
	"context"
	"errors"
	"os"

	"minidocker/images"
)

// PullOptions says how to pull an image, as the CLI's flags give it.
type PullOptions struct {
	// Platform is "OS/ARCH[/VARIANT]" of the image to take from an index;
	// "" is this machine's.
	Platform string
	// Insecure skips the check of the registry's TLS certificate and
	// allows plain HTTP (--tls-verify=false).
	Insecure bool
	// Progress, when set, is told of each layer as the pull goes, from
	// several goroutines at once.
	Progress func(images.LayerProgress)
}

// options turns o into the store's options, checking the platform.
func (o PullOptions) options() (images.PullOptions, error) {
	out := images.PullOptions{RegistryOptions: images.RegistryOptions{Insecure: o.Insecure}, Progress: o.Progress}
	if o.Platform != "" {
		p, err := images.ParsePlatform(o.Platform)
		if err != nil {
			return out, Invalid(err)
		}
		out.Platform = p
	}
	return out, nil
}

// Pull fetches the image ref ("alpine", "127.0.0.1:5000/base:v1",
// "repo@sha256:…") from its registry into the store, under the name docker
// gives it (images.Store.Pull).
func (a *App) Pull(ctx context.Context, ref string, opts PullOptions) (images.Pulled, error) {
	o, err := opts.options()
	if err != nil {
		return images.Pulled{}, err
	}
	s, err := a.Images()
	if err != nil {
		return images.Pulled{}, err
	}
	return s.Pull(ctx, ref, o)
}

// PullFallback says when OpenStackOrPull may pull what it does not find.
type PullFallback struct {
	PullOptions
	// Any lets it pull any reference; without it, only one that names a
	// registry host ("127.0.0.1:5000/base", "ghcr.io/x/y"), which cannot
	// be mistaken for a local name.
	Any bool
}

// OpenStackOrPull is OpenStack that, when ref is no image, container,
// mount or file here and f allows it, pulls ref and opens the image, as
// "dive alpine" does. A failed pull is the error, naming the reference.
func (a *App) OpenStackOrPull(ctx context.Context, ref string, archives bool, f PullFallback) (*Stack, error) {
	stack, err := a.OpenStack(ref, archives)
	if err == nil || !(f.Any || images.NamesRegistry(ref)) || !a.nothingLocal(ref) {
		return stack, err
	}
	p, err := a.Pull(ctx, ref, f.PullOptions)
	if err != nil {
		return nil, err
	}
	s, err := a.Images()
	if err != nil {
		return nil, err
	}
	return imageStack(s, p.Image)
}

// nothingLocal reports whether ref names no image of the store and no
// file: OpenStack failed for want of it, not on something it found.
func (a *App) nothingLocal(ref string) bool {
	s, err := a.Images()
	if err != nil {
		return false
	}
	if _, err := s.Get(ref); !errors.Is(err, images.ErrNotFound) {
		return false
	}
	_, err = os.Lstat(ref)
	return errors.Is(err, os.ErrNotExist)
}
