// Package tree is the file tree the layer views show: nodes with their
// provenance, changed in place one path at a time, and flattened into the
// rows that a filter, the kind toggles, the sort order and folded
// directories leave visible.
//
// A tree holds one small fixed-size record per path (about 64 bytes): the
// base name, interned, and indices of the parent and of the children, never
// the path itself, which is built again only for the rows on screen. A
// 100,000-entry tree is about 7 MB.
package tree

import (
	"io/fs"
	"math/bits"
	"path"
	"slices"
	"strings"
	"unique"

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

// Flags of a record.
const (
	flagWhiteout uint8 = 1 << iota
	flagOpaque
	flagCollapsed
	flagDead        // removed; the slot is free
	flagMoreShadows // the shadows do not fit the mask: see Tree.more
)

// ent is a node in place. Its children are kids[dir-1], sorted by name.
type ent struct {
	name    string // interned base name; "/" for the root
	size    int64
	shadows uint64 // bit l: layer l holds the path too (layers below 64)
	mode    fs.FileMode
	uid     uint32
	gid     uint32
	parent  int32 // the root is its own parent
	dir     int32 // index+1 into Tree.kids, 0 for no children
	link    int32 // index+1 into Tree.links, 0 for none
	layer   int32
	kind    overlay.DiffKind
	flags   uint8
}

// Tree is a mutable file tree indexed by path.
type Tree struct {
	ents  []ent
	kids  [][]int32 // the children of the directories that have some
	links []string
	more  map[int32][]int // shadows of records with flagMoreShadows
	free  []int32         // removed records, for reuse
	n     int             // live records

	// The directory the last insert went into: a tree built in walk
	// order finds each parent without a lookup.
	lastDir string
	lastIdx int32
}

// New builds a tree from nodes in any order; parents they leave out are
// made as directories. The root is always present.
func New(nodes []Node) *Tree {
	t := &Tree{}
	t.ents = append(t.ents, ent{name: "/", mode: fs.ModeDir | 0o755})
	t.n = 1
	if !slices.IsSortedFunc(nodes, byPath) {
		nodes = slices.Clone(nodes)
		slices.SortFunc(nodes, byPath)
	}
	for _, n := range nodes {
		t.insert(n)
	}
	return t
}

// Grow makes room for n more paths, so that a tree built from a known
// number of nodes is allocated once.
func (t *Tree) Grow(n int) { t.ents = slices.Grow(t.ents, n) }

func byPath(a, b Node) int { return strings.Compare(a.Path, b.Path) }

// Clean makes p a "/"-rooted clean path.
func Clean(p string) string { return path.Clean("/" + p) }

func intern(s string) string { return unique.Make(s).Value() }

// set writes n's fields into record i, keeping its place and children.
func (t *Tree) set(i int32, n Node) {
	e := &t.ents[i]
	e.size, e.mode, e.uid, e.gid, e.layer, e.kind = n.Size, n.Mode, n.UID, n.GID, int32(n.Layer), n.Kind
	e.flags &= flagCollapsed
	if n.Whiteout {
		e.flags |= flagWhiteout
	}
	if n.Opaque {
		e.flags |= flagOpaque
	}
	switch {
	case n.Link == "":
		e.link = 0
	case e.link > 0:
		t.links[e.link-1] = n.Link
	default:
		t.links = append(t.links, n.Link)
		e.link = int32(len(t.links))
	}
	e.shadows = 0
	delete(t.more, i)
	if mask, ok := shadowMask(n.Shadows); ok {
		e.shadows = mask
		return
	}
	if t.more == nil {
		t.more = map[int32][]int{}
	}
	t.more[i] = slices.Clone(n.Shadows)
	e.flags |= flagMoreShadows
}

// shadowMask packs a list of layers, top first, into a bit mask when every
// layer is below 64 and the list is in that order.
func shadowMask(s []int) (uint64, bool) {
	var m uint64
	for k, l := range s {
		if l < 0 || l >= 64 || k > 0 && l >= s[k-1] {
			return 0, false
		}
		m |= 1 << l
	}
	return m, true
}

// insert sets n at its path, making missing parents, and keeps each
// directory's children sorted. It returns the record.
func (t *Tree) insert(n Node) int32 {
	n.Path = Clean(n.Path)
	if n.Path == "/" {
		t.set(0, n)
		return 0
	}
	dir, name := path.Split(n.Path)
	dir = path.Clean(dir)
	var parent int32
	if t.lastDir != "" && dir == t.lastDir {
		parent = t.lastIdx
	} else {
		parent = t.find(dir)
		if parent < 0 {
			// A parent nobody described is new with a new child, else as
			// it was.
			k := overlay.Unmodified
			if n.Kind == overlay.Added {
				k = overlay.Added
			}
			parent = t.insert(Node{Path: dir, Mode: fs.ModeDir | 0o755, Kind: k, Layer: n.Layer})
		}
		t.lastDir, t.lastIdx = dir, parent
	}
	kids := t.kidsOf(parent)
	at, found := slices.BinarySearchFunc(kids, name, t.cmpName)
	if found {
		i := kids[at]
		t.set(i, n)
		return i
	}
	i := t.alloc(intern(name), parent)
	t.set(i, n)
	p := &t.ents[parent]
	if p.dir == 0 {
		t.kids = append(t.kids, nil)
		p.dir = int32(len(t.kids))
	}
	t.kids[p.dir-1] = slices.Insert(t.kids[p.dir-1], at, i)
	return i
}

func (t *Tree) cmpName(k int32, name string) int { return strings.Compare(t.ents[k].name, name) }

// alloc returns a fresh record called name beneath parent.
func (t *Tree) alloc(name string, parent int32) int32 {
	t.n++
	e := ent{name: name, parent: parent}
	if k := len(t.free); k > 0 {
		i := t.free[k-1]
		t.free = t.free[:k-1]
		t.ents[i] = e
		return i
	}
	t.ents = append(t.ents, e)
	return int32(len(t.ents) - 1)
}

func (t *Tree) kidsOf(i int32) []int32 {
	if d := t.ents[i].dir; d > 0 {
		return t.kids[d-1]
	}
	return nil
}

// find returns the record at the clean path p, or -1.
func (t *Tree) find(p string) int32 {
	i := int32(0)
	for c := range strings.SplitSeq(p, "/") {
		if c == "" {
			continue
		}
		kids := t.kidsOf(i)
		at, ok := slices.BinarySearchFunc(kids, c, t.cmpName)
		if !ok {
			return -1
		}
		i = kids[at]
	}
	return i
}

// Set puts n at its path, replacing what was there (but keeping a
// directory's children) and making missing parents. It reports whether
// the path is new, which changes the rows; a replaced node changes only
// what its rows show, since rows name their records.
func (t *Tree) Set(n Node) bool {
	had := t.find(Clean(n.Path)) >= 0
	t.insert(n)
	return !had
}

// Remove deletes the path and everything beneath it. It reports whether
// the path was there.
func (t *Tree) Remove(p string) bool {
	i := t.find(Clean(p))
	if i <= 0 {
		return false
	}
	parent := t.ents[i].parent
	if d := t.ents[parent].dir; d > 0 {
		// The children are sorted by name: a search, not a scan of a
		// 10,000-entry directory on every removal.
		kids := t.kids[d-1]
		if at, ok := slices.BinarySearchFunc(kids, t.ents[i].name, t.cmpName); ok && kids[at] == i {
			t.kids[d-1] = slices.Delete(kids, at, at+1)
		} else {
			t.kids[d-1] = slices.DeleteFunc(kids, func(k int32) bool { return k == i })
		}
	}
	t.drop(i)
	t.lastDir = ""
	return true
}

// RemoveChildren deletes everything beneath the directory at p. It reports
// whether anything was there.
func (t *Tree) RemoveChildren(p string) bool {
	i := t.find(Clean(p))
	if i < 0 {
		return false
	}
	kids := t.kidsOf(i)
	for _, k := range kids {
		t.drop(k)
	}
	if d := t.ents[i].dir; d > 0 {
		t.kids[d-1] = nil
	}
	t.lastDir = ""
	return len(kids) > 0
}

func (t *Tree) drop(i int32) {
	for _, k := range t.kidsOf(i) {
		t.drop(k)
	}
	e := &t.ents[i]
	if e.dir > 0 {
		t.kids[e.dir-1] = nil
	}
	if e.link > 0 {
		t.links[e.link-1] = ""
	}
	delete(t.more, i)
	*e = ent{flags: flagDead}
	t.free = append(t.free, i)
	t.n--
}

// node builds the exported form of record i at path p.
func (t *Tree) node(i int32, p string) Node {
	e := &t.ents[i]
	n := Node{Path: p, Mode: e.mode, UID: e.uid, GID: e.gid, Size: e.size, Kind: e.kind, Layer: int(e.layer),
		Whiteout: e.flags&flagWhiteout != 0, Opaque: e.flags&flagOpaque != 0}
	if e.link > 0 {
		n.Link = t.links[e.link-1]
	}
	if e.flags&flagMoreShadows != 0 {
		n.Shadows = slices.Clone(t.more[i])
	} else {
		for m := e.shadows; m != 0; {
			l := 63 - bits.LeadingZeros64(m)
			n.Shadows = append(n.Shadows, l)
			m &^= 1 << l
		}
	}
	return n
}

// pathOf builds the "/"-rooted path of record i.
func (t *Tree) pathOf(i int32) string {
	if i == 0 {
		return "/"
	}
	var parts [16]string
	names := parts[:0]
	size := 0
	for ; i != 0; i = t.ents[i].parent {
		names = append(names, t.ents[i].name)
		size += 1 + len(t.ents[i].name)
	}
	var b strings.Builder
	b.Grow(size)
	for k := len(names) - 1; k >= 0; k-- {
		b.WriteByte('/')
		b.WriteString(names[k])
	}
	return b.String()
}

// Lookup returns the node at p.
func (t *Tree) Lookup(p string) (Node, bool) {
	p = Clean(p)
	i := t.find(p)
	if i < 0 {
		return Node{}, false
	}
	return t.node(i, p), true
}

// Children returns the nodes directly beneath p, sorted by name.
func (t *Tree) Children(p string) []Node {
	p = Clean(p)
	i := t.find(p)
	if i < 0 {
		return nil
	}
	kids := t.kidsOf(i)
	out := make([]Node, len(kids))
	for k, c := range kids {
		out[k] = t.node(c, childPath(p, t.ents[c].name))
	}
	return out
}

func childPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// Len returns the number of paths, the root included.
func (t *Tree) Len() int { return t.n }

// Walk calls fn for every node, parents first, children by name.
func (t *Tree) Walk(fn func(Node)) { t.walk(0, "/", fn) }

// WalkAt calls fn for the node at p and every node beneath it, as Walk
// does; not at all when p is not in the tree.
func (t *Tree) WalkAt(p string, fn func(Node)) {
	p = Clean(p)
	if i := t.find(p); i >= 0 {
		t.walk(i, p, fn)
	}
}

func (t *Tree) walk(i int32, p string, fn func(Node)) {
	fn(t.node(i, p))
	for _, k := range t.kidsOf(i) {
		t.walk(k, childPath(p, t.ents[k].name), fn)
	}
}

// SetCollapsed folds or unfolds the directory at p.
func (t *Tree) SetCollapsed(p string, c bool) {
	i := t.find(Clean(p))
	if i < 0 || len(t.kidsOf(i)) == 0 {
		return
	}
	if c {
		t.ents[i].flags |= flagCollapsed
	} else {
		t.ents[i].flags &^= flagCollapsed
	}
}

// Collapsed reports whether the directory at p is folded.
func (t *Tree) Collapsed(p string) bool {
	i := t.find(Clean(p))
	return i >= 0 && t.ents[i].flags&flagCollapsed != 0
}
