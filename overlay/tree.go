package overlay

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
	"unique"
)

// Node is one entry of a layer: what the layer itself holds at a path,
// before any merging.
//
// A whiteout is a Node with Whiteout set, whatever form the layer used (a
// character device 0:0, a zero-size file with the trusted.overlay.whiteout
// xattr in a directory marked trusted.overlay.opaque=x, or a .wh.NAME tar
// entry); its Mode is then that of a character device. An opaque directory
// (trusted.overlay.opaque=y or a .wh..wh..opq tar entry) has Opaque set.
type Node struct {
	Name     string      // base name; "/" for the root
	Mode     fs.FileMode // type and permission bits, with setuid, setgid and sticky
	UID, GID uint32
	Size     int64 // bytes of content for a regular file, else as stat(2) reports
	ModTime  time.Time
	Link     string // target of a symlink
	Hardlink string // for a name of a file with several names in this layer: the first name, as a path
	Rdev     uint64 // device number of a device node

	Whiteout   bool   // the path is deleted from the layers below
	Opaque     bool   // a directory that hides the lower layers' entries beneath it
	XWhiteouts bool   // a directory marked trusted.overlay.opaque=x: it may hold xattr whiteouts; not opaque
	Redirect   string // trusted.overlay.redirect of a directory: where its lower part lives
	Metacopy   bool   // trusted.overlay.metacopy: metadata only, the data is in a lower layer

	// Hash is a 64-bit hash of a regular file's content for a tree read from
	// a tar, zero otherwise. It is stable within one process only.
	Hash uint64
}

// IsDir reports whether n is a directory.
func (n Node) IsDir() bool { return n.Mode.IsDir() }

// Node flags kept in a record.
const (
	flagWhiteout uint16 = 1 << iota
	flagOpaque
	flagXWhiteouts
	flagMetacopy
	flagDead // a builder node replaced along with its parent
)

// rec is a Node as a Tree stores it: a few fixed-size fields, an interned
// name, and the rare strings in a side table. The children of a directory
// are the records first..first+count, sorted by name.
type rec struct {
	name   string
	size   int64
	mtime  int64 // Unix nanoseconds
	hash   uint64
	mode   fs.FileMode
	uid    uint32
	gid    uint32
	first  int32
	count  int32
	extra  int32 // index+1 into Tree.extras, 0 for none
	parent int32 // the root is its own parent
	flags  uint16
}

// extra holds the strings few records need.
type extra struct {
	link, hardlink, redirect string
	rdev                     uint64
}

// Tree is the content of one layer, read from a directory or from a tar
// stream: every path it holds, with its metadata and overlay markers. A Tree
// is read once and never changes; it is safe for concurrent use.
type Tree struct {
	recs   []rec
	extras []extra
	dir    string // the directory read, "" for a tar
}

// Dir returns the directory the tree was read from, or "" for a tree read
// from a tar.
func (t *Tree) Dir() string { return t.dir }

// Len returns the number of paths in the tree, the root included.
func (t *Tree) Len() int { return len(t.recs) }

// Lookup returns the node at p, a slash-separated path relative to the
// layer root (a leading "/" or "./" is allowed).
func (t *Tree) Lookup(p string) (Node, bool) {
	i := t.find(p)
	if i < 0 {
		return Node{}, false
	}
	return t.node(i), true
}

// Children returns the nodes directly beneath the directory at p, sorted by
// name, or nil when p is not a directory of the tree.
func (t *Tree) Children(p string) []Node {
	i := t.find(p)
	if i < 0 {
		return nil
	}
	r := &t.recs[i]
	out := make([]Node, r.count)
	for k := range out {
		out[k] = t.node(r.first + int32(k))
	}
	return out
}

// Walk calls fn for every path of the tree, the root ("/") first, parents
// before children, children sorted by name. A path is "/"-rooted. When fn
// returns fs.SkipDir for a directory, its children are skipped; any other
// error stops the walk and is returned.
func (t *Tree) Walk(fn func(p string, n Node) error) error {
	err := t.walk(0, "/", fn)
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func (t *Tree) walk(i int32, p string, fn func(string, Node) error) error {
	if err := fn(p, t.node(i)); err != nil {
		if errors.Is(err, fs.SkipDir) {
			return nil
		}
		return err
	}
	r := &t.recs[i]
	for k := r.first; k < r.first+r.count; k++ {
		if err := t.walk(k, childPath(p, t.recs[k].name), fn); err != nil {
			return err
		}
	}
	return nil
}

// node builds the exported form of record i.
func (t *Tree) node(i int32) Node {
	r := &t.recs[i]
	n := Node{
		Name:       r.name,
		Mode:       r.mode,
		UID:        r.uid,
		GID:        r.gid,
		Size:       r.size,
		ModTime:    time.Unix(0, r.mtime),
		Hash:       r.hash,
		Whiteout:   r.flags&flagWhiteout != 0,
		Opaque:     r.flags&flagOpaque != 0,
		XWhiteouts: r.flags&flagXWhiteouts != 0,
		Metacopy:   r.flags&flagMetacopy != 0,
	}
	if r.extra > 0 {
		x := &t.extras[r.extra-1]
		n.Link, n.Hardlink, n.Redirect, n.Rdev = x.link, x.hardlink, x.redirect, x.rdev
	}
	return n
}

// extraOf returns the side strings of record i.
func (t *Tree) extraOf(i int32) extra {
	if e := t.recs[i].extra; e > 0 {
		return t.extras[e-1]
	}
	return extra{}
}

// pathOf returns the "/"-rooted path of record i.
func (t *Tree) pathOf(i int32) string {
	if i == 0 {
		return "/"
	}
	var parts []string
	for ; i != 0; i = t.recs[i].parent {
		parts = append(parts, t.recs[i].name)
	}
	slices.Reverse(parts)
	return "/" + strings.Join(parts, "/")
}

// find returns the record index of p, or -1.
func (t *Tree) find(p string) int32 {
	i := int32(0)
	for c := range strings.SplitSeq(normPath(p), "/") {
		if c == "" {
			continue
		}
		if i = t.child(i, c); i < 0 {
			return -1
		}
	}
	return i
}

// child returns the index of the child called name of directory i, or -1.
func (t *Tree) child(i int32, name string) int32 {
	r := &t.recs[i]
	if r.count == 0 {
		return -1
	}
	kids := t.recs[r.first : r.first+r.count]
	k, ok := slices.BinarySearchFunc(kids, name, func(a rec, n string) int { return strings.Compare(a.name, n) })
	if !ok {
		return -1
	}
	return r.first + int32(k)
}

// normPath cleans a path given by a caller into the form "a/b" ("" for the
// root). It never leaves the root: ".." at the top is dropped.
func normPath(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

// childPath joins a "/"-rooted directory path and a name.
func childPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// intern returns the canonical copy of a name, so that names repeated across
// a tree and across layers share their bytes.
func intern(s string) string { return unique.Make(s).Value() }

// treeBuilder assembles a Tree from entries that arrive in any order (a tar),
// then lays the records out with each directory's children contiguous and
// sorted.
type treeBuilder struct {
	nodes []bnode
	index map[string]int32 // "a/b" -> node; the root is ""
}

type bnode struct {
	r    rec
	x    extra
	kids []int32
}

func newTreeBuilder() *treeBuilder {
	b := &treeBuilder{index: map[string]int32{"": 0}}
	b.nodes = append(b.nodes, bnode{r: rec{name: "/", mode: fs.ModeDir | 0o755}})
	return b
}

// dir returns the node of directory p, making it (and its parents) when
// missing, and replacing a non-directory in the way.
func (b *treeBuilder) dir(p string) int32 {
	if i, ok := b.index[p]; ok {
		if b.nodes[i].r.mode.IsDir() {
			return i
		}
		b.nodes[i].r = rec{name: b.nodes[i].r.name, mode: fs.ModeDir | 0o755}
		b.nodes[i].x = extra{}
		return i
	}
	parent, name := splitPath(p)
	pi := b.dir(parent)
	i := int32(len(b.nodes))
	b.nodes = append(b.nodes, bnode{r: rec{name: intern(name), mode: fs.ModeDir | 0o755}})
	b.nodes[pi].kids = append(b.nodes[pi].kids, i)
	b.index[p] = i
	return i
}

// put sets the entry at p, replacing an earlier one; a directory over a
// directory keeps its children. It returns the node's index.
func (b *treeBuilder) put(p string, r rec, x extra) int32 {
	if p == "" { // the root: metadata only
		r.name = "/"
		r.mode = fs.ModeDir | r.mode.Perm() | r.mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
		b.nodes[0].r.mode, b.nodes[0].r.uid, b.nodes[0].r.gid, b.nodes[0].r.mtime = r.mode, r.uid, r.gid, r.mtime
		return 0
	}
	i := b.dir(p) // makes the parents; the name is interned
	n := &b.nodes[i]
	r.name = n.r.name
	if r.mode.IsDir() {
		// A .wh..wh..opq or a whiteout of the same name seen before the
		// directory's own entry makes it opaque all the same.
		r.flags |= n.r.flags & flagOpaque
	} else {
		b.drop(n.kids)
		n.kids = nil
	}
	n.r, n.x = r, x
	return i
}

// drop forgets the paths beneath replaced nodes.
func (b *treeBuilder) drop(kids []int32) {
	for _, k := range kids {
		b.nodes[k].r.flags |= flagDead // dead
		b.drop(b.nodes[k].kids)
	}
	if len(kids) > 0 {
		for p, i := range b.index {
			if b.nodes[i].r.flags&flagDead != 0 {
				delete(b.index, p)
			}
		}
	}
}

// tree lays the nodes out in a Tree.
func (b *treeBuilder) tree() *Tree {
	t := &Tree{recs: make([]rec, 1, len(b.index))}
	t.recs[0] = b.nodes[0].r
	b.layout(t, 0, 0)
	return t
}

func (b *treeBuilder) layout(t *Tree, bi, ti int32) {
	n := &b.nodes[bi]
	kids := slices.DeleteFunc(n.kids, func(k int32) bool { return b.nodes[k].r.flags&flagDead != 0 })
	slices.SortFunc(kids, func(x, y int32) int { return strings.Compare(b.nodes[x].r.name, b.nodes[y].r.name) })
	first := int32(len(t.recs))
	t.recs[ti].first, t.recs[ti].count = first, int32(len(kids))
	if x := n.x; x != (extra{}) {
		t.extras = append(t.extras, x)
		t.recs[ti].extra = int32(len(t.extras))
	}
	for _, k := range kids {
		r := b.nodes[k].r
		r.parent = ti
		t.recs = append(t.recs, r)
	}
	for j, k := range kids {
		b.layout(t, k, first+int32(j))
	}
}

// splitPath splits "a/b/c" into "a/b" and "c", and "c" into "" and "c".
func splitPath(p string) (string, string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}
