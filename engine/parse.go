package engine

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
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
			return Volume{}, fmt.Errorf("volume %q: %w: mode %q is not ro or rw", printable(s), ErrInvalid, printable(parts[2]))
		}
	default:
		return Volume{}, fmt.Errorf("volume %q: %w: want HOST:CONTAINER[:ro]", printable(s), ErrInvalid)
	}
	v.Source, v.Target = parts[0], parts[1]
	if !filepath.IsAbs(v.Source) {
		return Volume{}, fmt.Errorf("volume %q: %w: host path %q is not absolute", printable(s), ErrInvalid, printable(v.Source))
	}
	if !filepath.IsAbs(v.Target) {
		return Volume{}, fmt.Errorf("volume %q: %w: container path %q is not absolute", printable(s), ErrInvalid, printable(v.Target))
	}
	v.Source, v.Target = filepath.Clean(v.Source), filepath.Clean(v.Target)
	return v, nil
}

// ParseBytes reads a size as docker's --memory does: a number with an
// optional unit b, k, m or g (powers of 1024).
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: %w: want a number with b, k, m or g", printable(s), ErrInvalid)
	}
	return int64(n * float64(mult)), nil
}
