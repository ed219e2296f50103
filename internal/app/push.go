package app

import (
	"context"

	"minidocker/images"
)

// PushOptions says how to push an image, as the CLI's flags give it.
type PushOptions struct {
	// Insecure skips the check of the registry's TLS certificate and
	// allows plain HTTP (--tls-verify=false).
	Insecure bool
	// Progress, when set, is told how many of the bytes to upload have gone.
	Progress func(done, total int64)
}

// Push sends the stored image ref to the registry reference dest, or to
// ref itself when dest is "" (images.Store.Push).
func (a *App) Push(ctx context.Context, ref, dest string, opts PushOptions) (images.Pushed, error) {
	s, err := a.Images()
	if err != nil {
		return images.Pushed{}, err
	}
	return s.Push(ctx, ref, dest, images.PushOptions{RegistryOptions: images.RegistryOptions{Insecure: opts.Insecure}, Progress: opts.Progress})
}
