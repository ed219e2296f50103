package layers

import (
	"context"
	"maps"
	"path"
	"slices"

	"minidocker/overlay"
	"minidocker/ui/tree"
)

// WatchUpper follows the upper directory upper over the lower layer
// directories lower (bottom first) until ctx ends, and sends each batch of
// changes as the nodes EventsMsg takes: each entry read again from the
// upper directory and compared with the lower layers as ReadStack would.
// The channel is closed when ctx ends.
func WatchUpper(ctx context.Context, upper string, lower []string) (<-chan []tree.Node, error) {
	evs, err := overlay.Watch(ctx, upper)
	if err != nil {
		return nil, err
	}
	lower = slices.Clone(lower)
	out := make(chan []tree.Node, 1)
	go func() {
		defer close(out)
		for batch := range evs {
			select {
			case out <- changedNodes(upper, lower, batch):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// changedNodes reads the paths of a batch of events, parents first. A
// change inside a directory changes the directory's own modification
// time, which the watcher does not report: the parent of each path is
// read again too.
func changedNodes(upper string, lower []string, batch []overlay.Event) []tree.Node {
	kinds := map[string]overlay.DiffKind{}
	for _, ev := range batch {
		if ev.Err != nil {
			continue
		}
		p := tree.Clean(ev.Path)
		kinds[p] = ev.Kind
		if d := path.Dir(p); d != "/" {
			if _, ok := kinds[d]; !ok {
				kinds[d] = overlay.Unmodified // read again, not changed itself
			}
		}
	}
	paths := slices.Sorted(maps.Keys(kinds))
	nodes := make([]tree.Node, 0, len(paths))
	for _, p := range paths {
		c, ok, err := overlay.ChangeAt(upper, lower, p)
		switch {
		case err != nil:
			continue
		case !ok:
			if kinds[p] != overlay.Unmodified {
				nodes = append(nodes, tree.Node{Path: p, Kind: overlay.Removed})
			}
			continue
		}
		n := c.Node
		tn := tree.Node{Path: p, Mode: n.Mode, UID: n.UID, GID: n.GID, Size: n.Size, Link: n.Link,
			Kind: c.Kind, Whiteout: n.Whiteout, Opaque: n.Opaque}
		if n.Whiteout {
			tn.Kind = overlay.Whiteout
		}
		nodes = append(nodes, tn)
	}
	return nodes
}
