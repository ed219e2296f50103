package overlay

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// PathChange is what an upper directory holds at one path, and how that
// compares with what the lower layers show there.
type PathChange struct {
	Node Node // the upper directory's node, as ReadDir reads it
	// Kind is Added when the lower layers show nothing at the path, else
	// Modified, MetadataOnly or CopiedUp as Compare says. It says nothing of
	// whiteouts and opaque directories: see Node.
	Kind DiffKind
	// Lower is the layer that shows the path below, -1 for none.
	Lower int
}

// ChangeAt reads the entry at p of the upper directory upper and compares it
// with what the lower layers (lower, bottom first) show at p, reading only
// the paths on the way: the same answer as Compare against Merge of the
// lower layers' ReadDir, at the cost of a few stat(2) calls, for a watcher
// that sees one path change at a time. It reports false when the upper
// directory holds nothing at p. Redirects are not followed.
func ChangeAt(upper string, lower []string, p string) (PathChange, bool, error) {
	rel := normPath(p)
	if rel == "" {
		return PathChange{}, false, fmt.Errorf("change at /: %w", ErrUnsafePath)
	}
	ut, ok, err := readEntry(upper, rel)
	if err != nil || !ok {
		return PathChange{}, false, err
	}
	c := PathChange{Node: ut.node(0), Kind: Added, Lower: -1}
	lt, layer, err := lowerEntry(lower, rel)
	if err != nil {
		return PathChange{}, false, err
	}
	if lt != nil {
		c.Lower = layer
		c.Kind = compareRecs(ut, 0, "/"+rel, lt, 0, "/"+rel)
	}
	return c, true, nil
}

// lowerEntry finds what the lower layers (bottom first) show at rel, by
// Merge's rules: walking down the path from the top layer, a whiteout
// hides the layers below it, a non-directory ends the path, an opaque
// directory stops the merge. It returns the node as a one-record tree of
// its layer's directory, and the layer; nil when nothing shows there.
func lowerEntry(lower []string, rel string) (*Tree, int, error) {
	active := make([]int, 0, len(lower)) // the merged directories so far, top first
	for i := len(lower) - 1; i >= 0; i-- {
		active = append(active, i)
	}
	comps := strings.Split(rel, "/")
	for ci := range comps {
		q := strings.Join(comps[:ci+1], "/")
		last := ci == len(comps)-1
		var next []int
		for _, l := range active {
			t, ok, err := readEntry(lower[l], q)
			if err != nil {
				return nil, -1, err
			}
			if !ok {
				continue
			}
			r := &t.recs[0]
			if r.flags&flagWhiteout != 0 {
				break
			}
			if last {
				return t, l, nil
			}
			if !r.mode.IsDir() {
				break // a file on top ends the path; one below a directory stops the merge
			}
			next = append(next, l)
			if r.flags&flagOpaque != 0 {
				break
			}
		}
		if active = next; len(active) == 0 {
			return nil, -1, nil
		}
	}
	return nil, -1, nil
}

// readEntry reads the entry at rel of the layer directory dir as a
// one-record tree, as ReadDir reads it (without the hardlink names). It
// reports false when there is none.
func readEntry(dir, rel string) (*Tree, bool, error) {
	full := dir + "/" + rel
	var st unix.Stat_t
	if err := unix.Lstat(full, &st); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("stat %q: %w", human.Visible(full), err)
	}
	_, name := splitPath(rel)
	t := &Tree{dir: dir, recs: []rec{recFromStat(&st, name, 0, 0, 0)}}
	r := &t.recs[0]
	buf := make([]byte, xattrValueSize)
	var x extra
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if n, err := unix.Lgetxattr(full, opaqueXattr, buf); err == nil {
			r.flags |= opaqueFlags(string(buf[:n]))
		}
		if n, err := unix.Lgetxattr(full, xattrRedirect, buf); err == nil {
			x.redirect = string(buf[:n])
		}
	} else {
		x = classifyEntry(r, &st, unix.AT_FDCWD, filepath.Dir(full), filepath.Base(full), true, buf)
	}
	if x != (extra{}) {
		t.extras = append(t.extras, x)
		r.extra = 1
	}
	return t, true, nil
}
