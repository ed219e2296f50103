package engine

import (
	"fmt"
	"path/filepath"
	"strings"

	"minidocker/internal/human"
)

// ParseVolume reads docker's -v HOST:CTR[:ro|rw]. Both paths must be
// absolute; the host path is checked when the container is created.
func ParseVolume(s string) (Volume, error) {
	parts := strings.Split(s, ":")
	var v Volume
	switch len(parts) {
	case 2:
	case 3:
		switch parts[2] {
		case "ro":
			v.ReadOnly = true
		case "rw":
		default:
			return Volume{}, fmt.Errorf(`volume "%s": %w: mode "%s" is not ro or rw`, human.Visible(s), ErrInvalid, human.Visible(parts[2]))
		}
	default:
		return Volume{}, fmt.Errorf(`volume "%s": %w: want HOST:CONTAINER[:ro]`, human.Visible(s), ErrInvalid)
	}
	v.Source, v.Target = parts[0], parts[1]
	if !filepath.IsAbs(v.Source) {
		return Volume{}, fmt.Errorf(`volume "%s": %w: host path "%s" is not absolute`, human.Visible(s), ErrInvalid, human.Visible(v.Source))
	}
	if !filepath.IsAbs(v.Target) {
		return Volume{}, fmt.Errorf(`volume "%s": %w: container path "%s" is not absolute`, human.Visible(s), ErrInvalid, human.Visible(v.Target))
	}
	v.Source, v.Target = filepath.Clean(v.Source), filepath.Clean(v.Target)
	return v, nil
}
