package overlay

import (
	"errors"
	"io/fs"
	"strings"
	"sync/atomic"
)

// Merged is the view a stack of layers presents, computed in user space the
// way overlayfs computes it (Documentation/filesystems/overlayfs.rst):
//
//   - the topmost layer holding a name decides what the name is;
//   - a whiteout in layer N hides the name in the layers below N only, and is
//     itself not shown;
//   - a non-directory hides everything below it at its path, a directory
//     over a directory merges with it, a directory over a non-directory
//     replaces it;
//   - an opaque directory in layer N merges with nothing below N (its own
//     children are shown); the opaque mark of a layer's root is ignored, as
//     the kernel ignores it;
//   - a directory's redirect (trusted.overlay.redirect) is followed: the
//     layers below it are read at the redirect's path, as with the kernel's
//     redirect_dir=follow;
//   - symlinks are never followed; a metacopy file takes its data from the
//     next regular file at its path below.
//
// Merge builds the whole view once, with each directory's children stored
// contiguously and sorted, so that looking a path up or listing a directory
// costs no more than a walk down the path. A Merged is safe for concurrent
// use.
type Merged struct {
	layers []*Tree
	ents   []ment
	refs   []lref
	kinds  []atomic.Uint32 // Kind of each entry, plus one; 0 until computed
}

// lref is a node of one layer: layer index (0 = bottom) and record.
type lref struct {
	layer int32
	idx   int32
}

// ment is one path of the merged view. Its refs are refs[ref:ref+nref]: the
// providing node first, then every lower node at the same path, top first;
// the first nmerged of them are the directories merged into it.
type ment struct {
	name    string
	first   int32
	count   int32
	ref     int32
	nref    int32
	nmerged int32
	opaque  bool
	moved   bool // at or beneath a followed redirect: layer paths differ
}

// Entry is one path of a merged view with its provenance.
type Entry struct {
	Path string // "/"-rooted
	Node Node   // the node as the providing layer holds it
	// Layer is the index of the layer that provides the path (0 = bottom).
	Layer int
	// Merged lists, for a directory, the layers whose directories make it,
	// top first, Layer included.
	Merged []int
	// Shadows lists the layers below Layer that hold the same path, top
	// first, whether merged into it (directories) or hidden by it.
	Shadows []int
	// Opaque is set for a directory whose merge stops at an opaque directory.
	Opaque bool
	// DataLayer is the layer that holds the content: Layer, or for a
	// metacopy file the layer below whose file supplies the data.
	DataLayer int
	// LayerPath and DataPath are the paths of the node in Layer and of the
	// content in DataLayer; they differ from Path beneath a redirected
	// directory.
	LayerPath, DataPath string
	// Kind says how Node differs from the node it shadows directly below
	// (Shadows[0]): Added when it shadows nothing, else CopiedUp,
	// MetadataOnly or Modified; see Compare.
	Kind DiffKind
}

// CopiedUp reports whether the path also exists in a lower layer, so that
// the providing layer holds a copy (or a replacement) of it.
func (e Entry) CopiedUp() bool { return len(e.Shadows) > 0 }

// Merge computes the merged view of layers, given bottom first, as a
// read-only overlay mount of them would show it (the last layer is the
// upper or top lower).
func Merge(layers []*Tree) *Merged {
	m := &Merged{layers: layers}
	m.ents = append(m.ents, ment{name: "/"})
	var root []lref
	for i := len(layers) - 1; i >= 0; i-- {
		root = append(root, lref{int32(i), 0})
	}
	if len(root) > 0 {
		m.ents[0].ref, m.ents[0].nref, m.ents[0].nmerged = 0, int32(len(root)), int32(len(root))
		m.refs = append(m.refs, root...)
		m.fill(0, "/", root, false)
	}
	m.kinds = make([]atomic.Uint32, len(m.ents))
	return m
}

// Layers returns the layers of the view, bottom first.
func (m *Merged) Layers() []*Tree { return m.layers }

// Len returns the number of paths the view shows, the root included.
func (m *Merged) Len() int { return len(m.ents) }

// rec returns the record a reference names.
func (m *Merged) rec(r lref) *rec { return &m.layers[r.layer].recs[r.idx] }

// fill sets the children of entry ei at dir, made by merging the
// directories dirs (top first).
func (m *Merged) fill(ei int32, dir string, dirs []lref, moved bool) {
	cur := make([]int32, len(dirs)) // next child of each directory
	end := make([]int32, len(dirs))
	for k, d := range dirs {
		r := m.rec(d)
		cur[k], end[k] = r.first, r.first+r.count
	}
	first := int32(len(m.ents))
	var at []lref
	for {
		name, ok := "", false
		for k, d := range dirs {
			if cur[k] < end[k] {
				n := m.layers[d.layer].recs[cur[k]].name
				if !ok || n < name {
					name, ok = n, true
				}
			}
		}
		if !ok {
			break
		}
		at = at[:0]
		for k, d := range dirs {
			if cur[k] < end[k] && m.layers[d.layer].recs[cur[k]].name == name {
				at = append(at, lref{d.layer, cur[k]})
				cur[k]++
			}
		}
		// The children go straight after the entries made so far, so
		// they are contiguous; grandchildren come after all of them.
		if e, ok := m.resolve(dir, name, at); ok {
			e.moved = e.moved || moved
			m.ents = append(m.ents, e)
		}
	}
	count := int32(len(m.ents)) - first
	m.ents[ei].first, m.ents[ei].count = first, count
	for k := first; k < first+count; k++ {
		e := m.ents[k]
		if e.nmerged > 0 {
			m.fill(k, childPath(dir, e.name), m.refs[e.ref:e.ref+e.nmerged], e.moved)
		}
	}
}

// resolve applies the lookup rules to the nodes called name in the merged
// directories (at, top first) and returns the entry, if the name is shown.
func (m *Merged) resolve(dir, name string, at []lref) (ment, bool) {
	start := len(m.refs)
	var nmerged int32
	found, stop, opaque, moved := false, false, false, false
	for k := 0; k < len(at); k++ {
		a := at[k]
		r := m.rec(a)
		if stop {
			if r.flags&flagWhiteout == 0 {
				m.refs = append(m.refs, a)
			}
			continue
		}
		if r.flags&flagWhiteout != 0 {
			stop = true
			continue
		}
		isDir := r.mode.IsDir()
		switch {
		case !found:
			found = true
			m.refs = append(m.refs, a)
			if !isDir {
				stop = r.flags&flagMetacopy == 0
				continue
			}
			nmerged = 1
		case isDir && nmerged > 0:
			m.refs = append(m.refs, a)
			nmerged++
		default: // a lower node of another kind, or data for a metacopy file
			m.refs = append(m.refs, a)
			stop = true
			continue
		}
		if r.flags&flagOpaque != 0 {
			stop, opaque = true, true
			continue
		}
		if x := m.layers[a.layer].extraOf(a.idx); x.redirect != "" {
			// The layers below take this directory from the redirect's path.
			lower := m.redirected(dir, x.redirect, a.layer)
			at = append(at[:k+1:k+1], lower...)
			moved = true
		}
	}
	if !found {
		m.refs = m.refs[:start]
		return ment{}, false
	}
	return ment{name: name, ref: int32(start), nref: int32(len(m.refs) - start), nmerged: nmerged, opaque: opaque, moved: moved}, true
}

// redirected returns the nodes at a directory's redirect in the layers
// below layer: an absolute redirect is a path from the layer root, a
// relative one a name in the same parent directory.
func (m *Merged) redirected(dir, redirect string, layer int32) []lref {
	p := redirect
	if !strings.HasPrefix(p, "/") {
		p = childPath(dir, p)
	}
	var out []lref
	for i := layer - 1; i >= 0; i-- {
		j, hides := m.layers[i].walkRedirect(p)
		if j >= 0 {
			out = append(out, lref{i, j})
		}
		if hides {
			break
		}
	}
	return out
}

// walkRedirect looks p up in t as the kernel looks up a redirect's path in
// each lower layer, from the layer's root (ovl_lookup_layer): it returns
// the entry at p (-1 when t has none) and whether t hides p in the layers
// below. A whiteout or a non-directory on the way hides it, and so does an
// opaque directory on the way, though t's own entry still counts; a
// whiteout at p is returned for the caller's rules to stop at.
func (t *Tree) walkRedirect(p string) (int32, bool) {
	i, hides := int32(0), false
	comps := strings.Split(normPath(p), "/")
	for n, c := range comps {
		if c == "" {
			continue
		}
		if i = t.child(i, c); i < 0 {
			return -1, hides
		}
		r := &t.recs[i]
		if r.flags&flagWhiteout != 0 {
			return i, true
		}
		if n < len(comps)-1 {
			if !r.mode.IsDir() {
				return -1, true
			}
			hides = hides || r.flags&flagOpaque != 0
		}
	}
	return i, hides
}

// find returns the entry index of p, or -1.
func (m *Merged) find(p string) int32 {
	i := int32(0)
	for c := range strings.SplitSeq(normPath(p), "/") {
		if c == "" {
			continue
		}
		if i = m.child(i, c); i < 0 {
			return -1
		}
	}
	return i
}

func (m *Merged) child(i int32, name string) int32 {
	e := &m.ents[i]
	lo, hi := e.first, e.first+e.count
	for lo < hi {
		mid := int32(uint32(lo+hi) >> 1)
		if m.ents[mid].name < name {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < e.first+e.count && m.ents[lo].name == name {
		return lo
	}
	return -1
}

// Lookup returns the entry the view shows at p, a slash-separated path from
// the root ("/etc/passwd", "etc/passwd").
func (m *Merged) Lookup(p string) (Entry, bool) {
	i := m.find(p)
	if i < 0 {
		return Entry{}, false
	}
	return m.entry(i, "/"+normPath(p)), true
}

// Children returns the entries directly beneath the directory at p, sorted
// by name; nil when p is not a directory of the view.
func (m *Merged) Children(p string) []Entry {
	i := m.find(p)
	if i < 0 {
		return nil
	}
	dir := "/" + normPath(p)
	e := m.ents[i]
	out := make([]Entry, e.count)
	for k := range out {
		j := e.first + int32(k)
		out[k] = m.entry(j, childPath(dir, m.ents[j].name))
	}
	return out
}

// Walk calls fn for every path of the view, the root first, parents before
// children, children sorted by name. When fn returns fs.SkipDir for a
// directory its children are skipped; fs.SkipAll ends the walk; any other
// error stops the walk and is returned.
func (m *Merged) Walk(fn func(e Entry) error) error {
	err := m.walk(0, "/", fn)
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	return err
}

func (m *Merged) walk(i int32, p string, fn func(Entry) error) error {
	if err := fn(m.entry(i, p)); err != nil {
		if errors.Is(err, fs.SkipDir) {
			return nil
		}
		return err
	}
	e := &m.ents[i]
	for k := e.first; k < e.first+e.count; k++ {
		if err := m.walk(k, childPath(p, m.ents[k].name), fn); err != nil {
			return err
		}
	}
	return nil
}

// entry builds the exported form of entry i at path p.
func (m *Merged) entry(i int32, p string) Entry {
	e := &m.ents[i]
	refs := m.refs[e.ref : e.ref+e.nref]
	top := refs[0]
	out := Entry{
		Path:      p,
		Node:      m.layers[top.layer].node(top.idx),
		Layer:     int(top.layer),
		Opaque:    e.opaque,
		DataLayer: int(top.layer),
		LayerPath: p,
		DataPath:  p,
	}
	if e.moved {
		out.LayerPath = m.layers[top.layer].pathOf(top.idx)
		out.DataPath = out.LayerPath
	}
	if i == 0 {
		out.Node.Name = "/"
	}
	for k, r := range refs {
		if int32(k) < e.nmerged {
			out.Merged = append(out.Merged, int(r.layer))
		}
		if k > 0 {
			out.Shadows = append(out.Shadows, int(r.layer))
		}
	}
	if out.Node.Metacopy {
		for _, r := range refs[1:] {
			if m.rec(r).mode.IsRegular() {
				out.DataLayer = int(r.layer)
				if e.moved {
					out.DataPath = m.layers[r.layer].pathOf(r.idx)
				}
				break
			}
		}
	}
	out.Kind = m.kind(i, p)
	return out
}

// kind returns (and caches) how entry i, at p, differs from what it
// shadows.
func (m *Merged) kind(i int32, p string) DiffKind {
	if k := m.kinds[i].Load(); k != 0 {
		return DiffKind(k - 1)
	}
	e := &m.ents[i]
	var k DiffKind
	if e.nref < 2 {
		k = Added
	} else {
		refs := m.refs[e.ref : e.ref+e.nref]
		a, b := refs[0], refs[1]
		pa, pb := p, p
		if e.moved {
			pa, pb = m.layers[a.layer].pathOf(a.idx), m.layers[b.layer].pathOf(b.idx)
		}
		k = compareRecs(m.layers[a.layer], a.idx, pa, m.layers[b.layer], b.idx, pb)
	}
	m.kinds[i].Store(uint32(k) + 1)
	return k
}
