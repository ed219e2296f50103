// Package tree is the file tree the layer views show: nodes with their
// provenance, changed in place one path at a time, and flattened into the
// rows that a filter, the kind toggles, the sort order and folded
// directories leave visible.
package tree

import (
	"io/fs"
	"path"
	"slices"
	"strings"

	"minidocker/overlay"
)

// Node is one path of a tree, with where it comes from.
type Node struct {
	Path     string // "/"-rooted, as the layer holds it (unsafe to print)
	Mode     fs.FileMode
	UID, GID uint32
	Size     int64
	Link     string // a symlink's target
	Kind     overlay.DiffKind
	// Layer is the index of the layer that provides the path (0 = bottom);
	// the upper directory is the index after the last lower layer.
	Layer int
	// Shadows lists the lower layers holding the same path, top first.
	Shadows  []int
	Whiteout bool // an overlay whiteout: a 0:0 character device
	Opaque   bool // a directory with trusted.overlay.opaque=y
}

// Name is the base name of the node's path.
func (n Node) Name() string {
	if n.Path == "/" || n.Path == "" {
		return "/"
	}
	return path.Base(n.Path)
}

// IsDir reports whether the node is a directory.
func (n Node) IsDir() bool { return n.Mode.IsDir() }

// entry is a node in place, with its children sorted by name.
type entry struct {
	Node
	name      string
	lower     string // name in lower case, for the filter
	parent    *entry
	kids      []*entry
	collapsed bool
	total     int64 // size of the subtree, valid after sizes()
}

// Tree is a mutable file tree indexed by path.
type Tree struct {
	root  *entry
	index map[string]*entry
}

// New builds a tree from nodes in any order; parents they leave out are
// made as directories. The root is always present.
func New(nodes []Node) *Tree {
	t := &Tree{index: make(map[string]*entry, len(nodes)+1)}
	t.root = &entry{Node: Node{Path: "/", Mode: fs.ModeDir | 0o755}, name: "/"}
	t.index["/"] = t.root
	sorted := slices.Clone(nodes)
	slices.SortFunc(sorted, func(a, b Node) int { return strings.Compare(a.Path, b.Path) })
	for _, n := range sorted {
		t.insert(n, false)
	}
	for _, e := range t.index {
		if len(e.kids) > 1 {
			slices.SortFunc(e.kids, byName)
		}
	}
	return t
}

func byName(a, b *entry) int { return strings.Compare(a.name, b.name) }

// Clean makes p a "/"-rooted clean path.
func Clean(p string) string { return path.Clean("/" + p) }

// insert sets n at its path, making missing parents; with sorted it keeps
// the parent's children sorted, else it appends.
func (t *Tree) insert(n Node, sorted bool) *entry {
	n.Path = Clean(n.Path)
	if e, ok := t.index[n.Path]; ok {
		e.Node = n
		return e
	}
	if n.Path == "/" {
		t.root.Node = n
		return t.root
	}
	dir, name := path.Split(n.Path)
	parent, ok := t.index[Clean(dir)]
	if !ok {
		// A parent nobody described is new with a new child, else as
		// it was.
		k := overlay.Unmodified
		if n.Kind == overlay.Added {
			k = overlay.Added
		}
		parent = t.insert(Node{Path: dir, Mode: fs.ModeDir | 0o755, Kind: k, Layer: n.Layer}, sorted)
	}
	e := &entry{Node: n, name: name, lower: strings.ToLower(name), parent: parent}
	if sorted {
		i, _ := slices.BinarySearchFunc(parent.kids, name, func(k *entry, s string) int { return strings.Compare(k.name, s) })
		parent.kids = slices.Insert(parent.kids, i, e)
	} else {
		parent.kids = append(parent.kids, e)
	}
	t.index[n.Path] = e
	return e
}

// Set puts n at its path, replacing what was there (but keeping a
// directory's children) and making missing parents. It reports whether
// the path is new, which changes the rows; a replaced node changes only
// what its rows show, since rows point at their nodes.
func (t *Tree) Set(n Node) bool {
	_, had := t.index[Clean(n.Path)]
	t.insert(n, true)
	return !had
}

// Remove deletes the path and everything beneath it. It reports whether
// the path was there.
func (t *Tree) Remove(p string) bool {
	p = Clean(p)
	e, ok := t.index[p]
	if !ok || e == t.root {
		return false
	}
	t.drop(e)
	kids := e.parent.kids
	if i := slices.Index(kids, e); i >= 0 {
		e.parent.kids = slices.Delete(kids, i, i+1)
	}
	return true
}

func (t *Tree) drop(e *entry) {
	delete(t.index, e.Path)
	for _, k := range e.kids {
		t.drop(k)
	}
}

// Lookup returns the node at p.
func (t *Tree) Lookup(p string) (Node, bool) {
	e, ok := t.index[Clean(p)]
	if !ok {
		return Node{}, false
	}
	return e.Node, true
}

// Children returns the nodes directly beneath p, sorted by name.
func (t *Tree) Children(p string) []Node {
	e, ok := t.index[Clean(p)]
	if !ok {
		return nil
	}
	out := make([]Node, len(e.kids))
	for i, k := range e.kids {
		out[i] = k.Node
	}
	return out
}

// Len returns the number of paths, the root included.
func (t *Tree) Len() int { return len(t.index) }

// Walk calls fn for every node, parents first, children by name.
func (t *Tree) Walk(fn func(Node)) { walk(t.root, fn) }

func walk(e *entry, fn func(Node)) {
	fn(e.Node)
	for _, k := range e.kids {
		walk(k, fn)
	}
}

// SetCollapsed folds or unfolds the directory at p.
func (t *Tree) SetCollapsed(p string, c bool) {
	if e, ok := t.index[Clean(p)]; ok && len(e.kids) > 0 {
		e.collapsed = c
	}
}

// Collapsed reports whether the directory at p is folded.
func (t *Tree) Collapsed(p string) bool {
	e, ok := t.index[Clean(p)]
	return ok && e.collapsed
}
