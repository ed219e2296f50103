package engine

import (
	"fmt"
	"slices"
	"strings"

	"minidocker/overlay"
)

// ChangeKind is how a path differs from the image, as docker diff prints it.
type ChangeKind byte

// The kinds of change.
const (
	Added   ChangeKind = 'A'
	Changed ChangeKind = 'C'
	Deleted ChangeKind = 'D'
)

func (k ChangeKind) String() string { return string(k) }

// Change is one line of docker diff.
type Change struct {
	Kind ChangeKind
	Path string
}

func (c Change) String() string { return fmt.Sprintf("%c %s", c.Kind, c.Path) }

// Diff lists what a container changed, as docker diff does, from package
// overlay's analysis of its upper directory over its layers: whiteouts and
// the lower children an opaque directory hides are deleted (D), a path
// below shows is changed (C), any other added (A). The mount points of the
// /etc files the engine provides are not the container's changes, and a
// path copied up unchanged counts only as the parent of a change.
func (e *Engine) Diff(ref string) ([]Change, error) {
	st, err := e.Get(ref)
	if err != nil {
		return nil, err
	}
	return upperChanges(st.Rootfs.Upper, st.Rootfs.Lower)
}

func upperChanges(upper string, lower []string) ([]Change, error) {
	trees := make([]*overlay.Tree, len(lower))
	for i, l := range lower {
		t, err := overlay.ReadDir(l)
		if err != nil {
			return nil, fmt.Errorf("diff: %w", err)
		}
		trees[i] = t
	}
	top, err := overlay.ReadDir(upper)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	return changes(overlay.Diff(overlay.Merge(trees), top)), nil
}

// changes folds overlay's kinds into docker's letters, sorted by path with
// parents first.
func changes(all []overlay.Change) []Change {
	var out []Change
	for _, c := range all {
		if slices.Contains(etcMountPoints, c.Path) && c.Kind == overlay.Added {
			continue
		}
		var k ChangeKind
		switch c.Kind {
		case overlay.Added:
			k = Added
		case overlay.Removed:
			k = Deleted
		case overlay.Modified, overlay.MetadataOnly, overlay.Opaque:
			k = Changed
		case overlay.CopiedUp:
			k = 0 // kept below only as the parent of a change
		default:
			continue // unmodified, or a whiteout that hides nothing
		}
		out = append(out, Change{k, c.Path})
	}
	// The list is sorted with parents first: walking it backwards, a
	// copied-up path is kept when the path after it lies beneath it.
	kept := make([]Change, 0, len(out))
	next := ""
	for i := len(out) - 1; i >= 0; i-- {
		c := out[i]
		if c.Kind == 0 {
			if !strings.HasPrefix(next, strings.TrimSuffix(c.Path, "/")+"/") {
				continue
			}
			c.Kind = Changed
		}
		kept = append(kept, c)
		next = c.Path
	}
	slices.Reverse(kept)
	return kept
}
