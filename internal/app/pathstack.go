package app

import (
	"os"
	"path/filepath"
	"strings"
)

// openPath opens ref as a path: an overlay mount of any mount namespace of
// the host, by the path that reaches it (HostMount.Path), else, with
// archives, an image archive or OCI layout read in place, which needs no
// store and so no root. found is false when ref is not a path or names
// neither.
func (a *App) openPath(ref string, archives bool) (s *Stack, found bool, err error) {
	if !strings.ContainsRune(ref, '/') {
		return nil, false, nil
	}
	abs, err := filepath.Abs(ref)
	if err != nil {
		return nil, false, nil
	}
	ms, merr := a.HostMounts()
	for _, m := range ms {
		if m.Path() == abs {
			s, err := mountStack(m)
			return s, true, err
		}
	}
	if _, err := os.Stat(abs); err == nil && archives {
		s, err := archiveStack(abs)
		return s, true, err
	}
	if merr != nil {
		return nil, true, merr
	}
	return nil, false, nil
}

// mountStack reads the layers of a host mount: its lower layers named by
// their IDs where a store knows them, then its upper directory.
func mountStack(m HostMount) (*Stack, error) {
	merged, err := m.Open()
	if err != nil {
		return nil, err
	}
	s := &Stack{What: "mount", Name: m.Path(), Layers: merged.Layers(), Merged: merged, Upper: m.Upper != ""}
	for i := len(m.Lower) - 1; i >= 0; i-- {
		s.Labels = append(s.Labels, layerLabel(m.Layers[i], m.Lower[i]))
	}
	if m.Upper != "" {
		s.Labels = append(s.Labels, "upper "+m.Upper)
	}
	s.CreatedBy = make([]string, len(s.Layers))
	s.sizes(nil)
	return s, nil
}

// layerLabel is a lower layer's short ID, or its directory when no store
// names it.
func layerLabel(id, dir string) string {
	if id == "" {
		return dir
	}
	return shortID(id)
}
