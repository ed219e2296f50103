package overlay

import (
	"bytes"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"
)

// DiffKind says how a path of a layer relates to the layers below it.
type DiffKind uint8

// The kinds of change. Unmodified, Added, Modified and Removed are dive's;
// the others refine them.
const (
	// Unmodified is a path the layer does not touch.
	Unmodified DiffKind = iota
	// Added is a path the layers below do not show.
	Added
	// Modified is a path whose content, type, symlink target or device
	// number differs from what the layers below show.
	Modified
	// Removed is a path the layers below show and this layer hides, by a
	// whiteout, an opaque directory or a non-directory over a directory.
	Removed
	// CopiedUp is a path the layer holds again with the same content and
	// metadata: a file opened for writing but not changed, a parent
	// directory copied up for a change beneath it.
	CopiedUp
	// MetadataOnly is a path whose content is the same but whose mode,
	// owner or modification time changed (chmod, chown, touch).
	MetadataOnly
	// Opaque is a directory the layer made opaque over one below.
	Opaque
	// Whiteout is a whiteout that hides nothing the layers below show.
	Whiteout
)

var diffKindNames = [...]string{"unmodified", "added", "modified", "removed", "copied-up", "metadata-only", "opaque", "whiteout"}

// String returns the kind's name, such as "copied-up".
func (k DiffKind) String() string {
	if int(k) < len(diffKindNames) {
		return diffKindNames[k]
	}
	return "unknown"
}

// Change is one path a layer changes.
type Change struct {
	Path string // "/"-rooted
	Kind DiffKind
	// Via says, for Removed, what hid the path: Whiteout, Opaque, or
	// Modified (a non-directory put over the directory holding it).
	Via DiffKind
	// Size is, for Removed, the bytes of regular-file content the layers
	// below showed under the path; otherwise the bytes the layer stores for
	// the path: a regular file's size (0 for a second name of a hardlinked
	// file), a symlink's target length, 0 for the rest.
	Size int64
	// Lower is the layer that showed the path below, -1 for none.
	Lower int
}

// Diff returns the changes layer makes over the view below it (the layers
// beneath, merged), sorted by path, parents before children. For a
// container, layer is its upper directory and below its image; for an image
// layer N, below is Merge of layers 0..N-1.
//
// Each path the layer holds is compared with what below shows there (see
// Compare); an added directory's whole subtree is listed as Added; a path
// hidden by a whiteout, or by an opaque directory that does not hold it
// again, or by a non-directory over its directory, is listed once, at the
// top of what was hidden, as Removed with the size of what it showed.
func Diff(below *Merged, layer *Tree) []Change {
	d := &differ{below: below, layer: layer, out: make([]Change, 0, layer.Len())}
	if below == nil || len(below.layers) == 0 {
		below = Merge(nil)
	}
	d.dir(0, 0, "/", false)
	sortChanges(d.out)
	return d.out
}

type differ struct {
	below *Merged
	layer *Tree
	out   []Change
}

// dir lists the changes beneath layer directory ti, whose path below is
// entry li (-1 when below shows nothing there). Inside an opaque directory
// every path below that the layer does not hold again is removed.
func (d *differ) dir(ti, li int32, p string, opaque bool) {
	r := d.layer.recs[ti]
	var seen map[string]bool
	if opaque && li >= 0 {
		seen = map[string]bool{}
	}
	for c := r.first; c < r.first+r.count; c++ {
		cr := &d.layer.recs[c]
		cp := childPath(p, cr.name)
		lc := int32(-1)
		if li >= 0 {
			lc = d.below.child(li, cr.name)
		}
		if seen != nil {
			seen[cr.name] = true
		}
		d.entry(c, lc, cp, opaque)
	}
	if seen == nil {
		return
	}
	e := d.below.ents[li]
	for k := e.first; k < e.first+e.count; k++ {
		if !seen[d.below.ents[k].name] {
			d.removed(k, childPath(p, d.below.ents[k].name), Opaque)
		}
	}
}

// entry lists the change of layer node c at cp against below's entry lc.
func (d *differ) entry(c, lc int32, cp string, opaque bool) {
	cr := &d.layer.recs[c]
	switch {
	case cr.flags&flagWhiteout != 0:
		if lc >= 0 {
			d.removed(lc, cp, Whiteout)
		} else {
			d.add(cp, Whiteout, 0, -1)
		}
		return
	case lc < 0:
		d.add(cp, Added, d.size(c), -1)
		if cr.mode.IsDir() {
			d.dir(c, -1, cp, false)
		}
		return
	}
	le := &d.below.ents[lc]
	top := d.below.refs[le.ref]
	lowerDir := le.nmerged > 0
	kind := compareRecs(d.layer, c, cp, d.below.layers[top.layer], top.idx, d.below.layers[top.layer].pathOf(top.idx))
	if cr.mode.IsDir() && cr.flags&flagOpaque != 0 && lowerDir {
		kind = Opaque
	}
	d.add(cp, kind, d.size(c), int(top.layer))
	switch {
	case cr.mode.IsDir() && lowerDir:
		d.dir(c, lc, cp, opaque || cr.flags&flagOpaque != 0)
	case cr.mode.IsDir():
		d.dir(c, -1, cp, false)
	case lowerDir:
		for k := le.first; k < le.first+le.count; k++ {
			d.removed(k, childPath(cp, d.below.ents[k].name), Modified)
		}
	}
}

func (d *differ) add(p string, k DiffKind, size int64, lower int) {
	d.out = append(d.out, Change{Path: p, Kind: k, Size: size, Lower: lower})
}

// removed lists below's entry li at p as removed by via.
func (d *differ) removed(li int32, p string, via DiffKind) {
	top := d.below.refs[d.below.ents[li].ref]
	d.out = append(d.out, Change{Path: p, Kind: Removed, Via: via, Size: d.below.subtreeSize(li), Lower: int(top.layer)})
}

// size is the bytes the layer stores for node i.
func (d *differ) size(i int32) int64 {
	return storedSize(d.layer, i)
}

// storedSize is the bytes layer t stores for record i: content for a
// regular file that is not a second name of a hardlinked file nor a
// metacopy, the target for a symlink.
func storedSize(t *Tree, i int32) int64 {
	r := &t.recs[i]
	switch {
	case r.flags&(flagWhiteout|flagMetacopy) != 0:
		return 0
	case r.mode.IsRegular():
		if r.extra > 0 && t.extras[r.extra-1].hardlink != "" {
			return 0
		}
		return r.size
	case r.mode&fs.ModeSymlink != 0:
		return r.size
	}
	return 0
}

// subtreeSize is the bytes of regular-file content the view shows at and
// beneath entry i.
func (m *Merged) subtreeSize(i int32) int64 {
	e := &m.ents[i]
	top := m.refs[e.ref]
	var n int64
	if r := m.rec(top); r.mode.IsRegular() {
		n = r.size
	}
	for k := e.first; k < e.first+e.count; k++ {
		n += m.subtreeSize(k)
	}
	return n
}

// Compare says how the node at p in upper differs from the node at p in
// lower: Modified when the type, symlink target, device number, size or
// content differ; else MetadataOnly when the permission bits, owner or
// modification time differ; else CopiedUp. Content is compared only for
// regular files of the same size: by their hashes when both trees come from
// tars; by the bytes (or a hash, against a tar) when one comes from a
// directory and the modification times differ; equal size and modification
// time count as equal content, as rsync's quick check does, but only for a
// time with a fraction of a second: layer tars keep whole seconds and builds
// clamp them to one date, so two different files unpacked from layers often
// share size and time, while a file the kernel copied up keeps its lower
// file's time and a write stamps a fresh one to the nanosecond. A metacopy file
// has its lower file's content. It returns Added when lower has no node at
// p and Removed when upper has none.
func Compare(upper *Tree, lower *Tree, p string) DiffKind {
	a, b := upper.find(p), lower.find(p)
	switch {
	case a < 0:
		return Removed
	case b < 0:
		return Added
	}
	p = "/" + normPath(p)
	return compareRecs(upper, a, p, lower, b, p)
}

func compareRecs(ta *Tree, ia int32, pa string, tb *Tree, ib int32, pb string) DiffKind {
	a, b := &ta.recs[ia], &tb.recs[ib]
	if a.mode.Type() != b.mode.Type() {
		return Modified
	}
	xa, xb := ta.extraOf(ia), tb.extraOf(ib)
	if xa.link != xb.link || xa.rdev != xb.rdev {
		return Modified
	}
	if a.mode.IsRegular() && a.flags&flagMetacopy == 0 {
		if a.size != b.size || !sameContent(ta, ia, pa, tb, ib, pb) {
			return Modified
		}
	}
	if a.mode != b.mode || a.uid != b.uid || a.gid != b.gid || a.mtime != b.mtime {
		return MetadataOnly
	}
	return CopiedUp
}

// sameContent compares two regular files of the same size, as Compare says.
func sameContent(ta *Tree, ia int32, pa string, tb *Tree, ib int32, pb string) bool {
	a, b := &ta.recs[ia], &tb.recs[ib]
	switch {
	case a.size == 0:
		return true
	case ta.dir == "" && tb.dir == "":
		return a.hash == b.hash
	case a.mtime == b.mtime && a.mtime%int64(time.Second) != 0:
		return true
	case ta.dir != "" && tb.dir != "":
		return sameFiles(ta.dir+pa, tb.dir+pb)
	case ta.dir != "":
		h, ok := fileHash(ta.dir + pa)
		return ok && h == b.hash
	default:
		h, ok := fileHash(tb.dir + pb)
		return ok && h == a.hash
	}
}

// sameFiles reports whether two files have the same bytes; false when
// either cannot be read.
func sameFiles(pa, pb string) bool {
	fa, err := os.Open(pa)
	if err != nil {
		return false
	}
	defer fa.Close()
	fb, err := os.Open(pb)
	if err != nil {
		return false
	}
	defer fb.Close()
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		if ea != nil || eb != nil {
			return (ea == io.EOF || ea == io.ErrUnexpectedEOF) && (eb == io.EOF || eb == io.ErrUnexpectedEOF)
		}
	}
}

// fileHash hashes a file's content as ReadTar does.
func fileHash(p string) (uint64, bool) {
	f, err := os.Open(p)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var h maphash.Hash
	h.SetSeed(hashSeed)
	if _, err := io.Copy(&h, f); err != nil {
		return 0, false
	}
	return h.Sum64(), true
}

// sortChanges orders changes by path, a parent before its children.
func sortChanges(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int { return comparePaths(a.Path, b.Path) })
}

// comparePaths orders paths as a depth-first walk visits them: "/" sorts
// before any other byte, so "/a/b" comes before "/a-b".
func comparePaths(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		return int(ca) - int(cb)
	}
	return len(a) - len(b)
}
