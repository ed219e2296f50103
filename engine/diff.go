package engine

import (
	"fmt"
	"path"
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

// Diff lists what a container changed, as docker diff does, by package
// overlay's one A/C/D rule (overlay.DockerDiff) on its upper directory over
// its layers: every path of the upper directory that the layers show is
// changed (C), copied-up ones included, any other added (A), and a path
// hidden by a whiteout or an opaque directory deleted (D). The mount points
// of the /etc files the engine provides are not the container's changes.
func (e *Engine) Diff(ref string) ([]Change, error) {
	st, err := e.Get(ref)
	if err != nil {
		return nil, err
	}
	return upperChanges(st.Rootfs.Upper, st.Rootfs.Lower)
}

func upperChanges(upper string, lower []string) ([]Change, error) {
	trees, err := overlay.ReadLayers(lower)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	top, err := overlay.ReadDir(upper)
	if err != nil {
		return nil, fmt.Errorf("diff: upper directory: %w", err)
	}
	return changes(overlay.Diff(overlay.Merge(trees), top)), nil
}

// changes turns overlay's changes into docker's lines, leaving out the
// engine's own.
func changes(all []overlay.Change) []Change {
	var out []Change
	for _, l := range overlay.DockerDiff(withoutEtcMountPoints(all)) {
		out = append(out, Change{ChangeKind(l.Letter[0]), l.Path})
	}
	return out
}

// withoutEtcMountPoints drops what the engine made in the upper directory:
// the mount points of the /etc files it provides, made when the image
// lacks them, and their directory when it was copied up for them alone
// (the engine restores its times, so it stays CopiedUp) and holds no other
// change.
func withoutEtcMountPoints(all []overlay.Change) []overlay.Change {
	var out []overlay.Change
	dropped := map[string]bool{}
	for _, c := range all {
		if c.Kind == overlay.Added && slices.Contains(etcMountPoints, c.Path) {
			dropped[path.Dir(c.Path)] = true
			continue
		}
		out = append(out, c)
	}
	busy := map[string]bool{} // of those directories, the ones with another change beneath
	for _, c := range out {
		for d := range dropped {
			if strings.HasPrefix(c.Path, d+"/") {
				busy[d] = true
			}
		}
	}
	kept := out[:0]
	for _, c := range out {
		if c.Kind != overlay.CopiedUp || !dropped[c.Path] || busy[c.Path] {
			kept = append(kept, c)
		}
	}
	return kept
}
