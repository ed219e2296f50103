package engine

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
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

// Diff lists what a container changed, from its upper directory: a 0:0
// character device is a whiteout (D), a path some layer has is changed
// (C), any other is added (A). Opaque directories and redirects are left
// to package overlay's full analysis.
func (e *Engine) Diff(ref string) ([]Change, error) {
	st, err := e.Get(ref)
	if err != nil {
		return nil, err
	}
	return upperChanges(st.Rootfs.Upper, st.Rootfs.Lower)
}

func upperChanges(upper string, lower []string) ([]Change, error) {
	var out []Change
	err := filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == upper {
			return nil
		}
		rel, _ := filepath.Rel(upper, p)
		path := "/" + rel
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return fmt.Errorf("diff: lstat %s: %w", p, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
			out = append(out, Change{Deleted, path})
			return nil
		}
		kind := Added
		for _, l := range lower {
			if _, err := os.Lstat(filepath.Join(l, rel)); err == nil {
				kind = Changed
				break
			}
		}
		out = append(out, Change{kind, path})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", upper, err)
	}
	return out, nil
}
