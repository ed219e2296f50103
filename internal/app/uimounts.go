package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui"
	"minidocker/ui/layers"
	"minidocker/ui/tree"
)

// uiMounts are the host's overlay mounts, of every mount namespace, as the
// UI lists them: with their owners, and told again when they change.
type uiMounts struct{ a *App }

// MountsRescan is how often the UI looks for changes in the mount
// namespaces it cannot poll: a rescan reads one mount table each.
const MountsRescan = 2 * time.Second

func (u uiMounts) Mounts() ([]ui.Mount, error) {
	ms, err := u.a.HostMounts()
	if err != nil {
		return nil, err
	}
	out := make([]ui.Mount, 0, len(ms))
	for _, m := range ms {
		mt := ui.Mount{ID: m.ID, Point: m.Path(), Lower: m.Lower, Upper: m.Upper, Work: m.Work,
			Owner: m.Owner.String(), Layers: m.Layers, DiffIDs: m.DiffIDs}
		if !m.Own {
			mt.Namespace = fmt.Sprintf("%s pid %d", m.Namespace, m.Namespace.Pid)
		}
		out = append(out, mt)
	}
	return out, nil
}

func (u uiMounts) WatchMounts(ctx context.Context) (<-chan struct{}, error) {
	return WatchHostMounts(ctx, MountsRescan)
}

// readable refuses the layer paths of m that only its mounter can use.
func readable(m ui.Mount) error {
	for _, d := range append(slices.Clone(m.Lower), m.Upper) {
		if err := overlay.CheckReadable(d); err != nil {
			return fmt.Errorf("mount %s: %w", human.Visible(m.Point), err)
		}
	}
	return nil
}

func (uiMounts) MountStack(m ui.Mount) (layers.Stack, error) {
	if err := readable(m); err != nil {
		return layers.Stack{}, err
	}
	lower := slices.Clone(m.Lower) // top first → bottom first
	slices.Reverse(lower)
	names := make([]string, len(m.Lower))
	for i, d := range m.Lower {
		id := ""
		if i < len(m.Layers) {
			id = m.Layers[i]
		}
		names[len(names)-1-i] = layerLabel(id, d)
	}
	return layers.ReadStack(lower, m.Upper, names)
}

func (uiMounts) WatchMount(ctx context.Context, m ui.Mount) (<-chan []tree.Node, error) {
	if m.Upper == "" {
		return nil, nil
	}
	if err := readable(m); err != nil {
		return nil, err
	}
	lower := slices.Clone(m.Lower) // top first → bottom first
	slices.Reverse(lower)
	return layers.WatchUpper(ctx, m.Upper, lower)
}
