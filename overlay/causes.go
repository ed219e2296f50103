package overlay

import (
	"errors"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// CauseOptions says what Causes needs to know beyond the trees.
type CauseOptions struct {
	// Image says the layer is an image layer, not a container's upper
	// directory.
	Image bool
	// MountPoints are the in-container paths the engine mounts over, as
	// engine.State.MountPoints lists them.
	MountPoints []string
	// Changes are Diff(below, layer), when the caller has them already.
	Changes []Change
}

// xattrOrigin is set by the kernel on every copy-up (overlayfs.rst,
// "Changes to underlying filesystems"), to the lower file's handle.
const xattrOrigin = "trusted.overlay.origin"

// hiddenNames is how many names of the entries an opaque directory hides
// a cause keeps.
const hiddenNames = 3

// Causes returns the cause of every path Diff(below, layer) lists, in the
// same order, with the clues FindClues finds.
func Causes(below *Merged, layer *Tree, opts CauseOptions) []Cause {
	if below == nil {
		below = Merge(nil)
	}
	if opts.Changes == nil {
		opts.Changes = Diff(below, layer)
	}
	c := &causer{below: below, layer: layer, opts: opts, clues: FindClues(below, layer, opts)}
	out := make([]Cause, len(opts.Changes))
	for i, ch := range opts.Changes {
		out[i] = Decide(c.facts(ch))
	}
	return out
}

// FindClues returns the clues of the paths of layer that have any: the
// names of each file with several; and for a container's upper directory,
// the entries the engine made for its mount points, the trees mv copied
// from a lower directory and their whiteouts, and, for an upper directory
// read from disk as root, the files the kernel did not copy up (see
// Origin), the only clue read from disk.
func FindClues(below *Merged, layer *Tree, opts CauseOptions) map[string]Clues {
	if below == nil {
		below = Merge(nil)
	}
	c := &causer{below: below, layer: layer, opts: opts, clues: map[string]Clues{}}
	c.links()
	if !opts.Image {
		if opts.Changes == nil {
			opts.Changes = Diff(below, layer)
		}
		c.engineEntries()
		c.moves(opts.Changes)
		c.origins(opts.Changes)
	}
	return c.clues
}

// causer holds what Causes and FindClues gather across paths.
type causer struct {
	below *Merged
	layer *Tree
	opts  CauseOptions
	clues map[string]Clues
}

// clue changes the clues of p by set.
func (c *causer) clue(p string, set func(*Clues)) {
	k := c.clues[p]
	set(&k)
	c.clues[p] = k
}

// facts gathers the facts of one change.
func (c *causer) facts(ch Change) Facts {
	f := Facts{Path: ch.Path, Image: c.opts.Image, Diff: ch.Kind, LowerLayer: -1}
	hider, via := c.hider(ch.Path)
	li := c.below.find(ch.Path)
	if i := c.layer.find(ch.Path); i >= 0 {
		n := c.layer.node(i)
		f.Held, f.Mode, f.UID, f.GID, f.Size = true, n.Mode, n.UID, n.GID, storedSize(c.layer, i)
		if n.Mode.IsRegular() {
			f.Size = n.Size // a second name of a file has its size too
		}
		f.Whiteout, f.Opaque, f.Metacopy = n.Whiteout, n.Opaque && n.IsDir(), n.Metacopy
		f.Changes = n.IsDir() && c.layer.recs[i].count > 0
	} else {
		f.Hider, f.Via = hider, via
	}
	if li >= 0 {
		top := c.below.refs[c.below.ents[li].ref]
		lr := c.below.rec(top)
		f.Below = hider == ""
		f.LowerMode, f.LowerUID, f.LowerGID, f.LowerLayer = lr.mode, lr.uid, lr.gid, int(top.layer)
		f.LowerSize = c.below.subtreeSize(li)
		f.LowerEntries = int(c.below.ents[li].count)
		if f.Opaque {
			f.Hidden = c.below.childNames(li, hiddenNames)
		}
		if !f.Held {
			f.Mode, f.UID, f.GID, f.Size = lr.mode, lr.uid, lr.gid, f.LowerSize
		}
	}
	if f.Held && li >= 0 && hider != "" {
		f.Hider = hider // a name made anew beneath an opaque directory
	}
	f.Clues = c.clues[ch.Path]
	return f
}

// hider returns the nearest entry of the layer above p that hides the
// lower layers at p: an opaque directory (Opaque), or a non-directory
// (Modified). The root's opaque mark counts for nothing, as in Merge.
func (c *causer) hider(p string) (string, DiffKind) {
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		i := c.layer.find(d)
		if i < 0 {
			continue
		}
		r := &c.layer.recs[i]
		switch {
		case !r.mode.IsDir():
			return d, Modified
		case r.flags&flagOpaque != 0:
			return d, Opaque
		}
	}
	return "", Unmodified
}

// links groups the names of each file with several in the layer. ReadDir
// records the first name on each later one; whiteouts, which the kernel
// links to one shared inode, are no hard links of each other.
func (c *causer) links() {
	groups := map[string][]string{}
	for i := range c.layer.recs {
		r := &c.layer.recs[i]
		if r.extra == 0 || r.flags&flagWhiteout != 0 || r.mode.IsDir() {
			continue
		}
		if first := c.layer.extras[r.extra-1].hardlink; first != "" {
			groups[first] = append(groups[first], c.layer.pathOf(int32(i)))
		}
	}
	for first, rest := range groups {
		all := append([]string{first}, rest...)
		slices.Sort(all)
		for _, p := range all {
			c.clue(p, func(k *Clues) { k.Names = all })
		}
	}
}

// engineEntries finds what the engine made: each mount point the layer
// holds and the lower layers do not show, then each directory on the way
// to it that holds nothing else and that the engine made (new) or copied up
// (its owner and mode those of the lower directory).
func (c *causer) engineEntries() {
	engine := map[string]string{}
	for _, mp := range c.opts.MountPoints {
		mp = "/" + normPath(mp)
		if mp == "/" || c.layer.find(mp) < 0 || c.below.find(mp) >= 0 {
			continue
		}
		engine[mp] = mp
	}
	for _, mp := range c.opts.MountPoints {
		mp = "/" + normPath(mp)
		if engine[mp] == "" {
			continue
		}
		for d := path.Dir(mp); d != "/"; d = path.Dir(d) {
			if !c.engineDir(d, engine) {
				break
			}
			engine[d] = mp
		}
	}
	for p, mp := range engine {
		c.clue(p, func(k *Clues) { k.Engine = mp })
	}
}

// engineDir reports whether directory d of the layer holds only entries
// the engine made, and is new or a plain copy-up.
func (c *causer) engineDir(d string, engine map[string]string) bool {
	i := c.layer.find(d)
	if i < 0 || !c.layer.recs[i].mode.IsDir() || c.layer.recs[i].flags&flagOpaque != 0 {
		return false
	}
	r := &c.layer.recs[i]
	for k := r.first; k < r.first+r.count; k++ {
		if engine[childPath(d, c.layer.recs[k].name)] == "" {
			return false
		}
	}
	if li := c.below.find(d); li >= 0 {
		lr := c.below.topRec(li)
		return lr.mode == r.mode && lr.uid == r.uid && lr.gid == r.gid
	}
	return true
}

// origins reads the copy-up origin of the non-directories that the layer
// holds over one of the same type below. It trusts a missing origin only
// when some entry of the layer has one: a lower file system that cannot
// encode file handles gets none at all.
func (c *causer) origins(changes []Change) {
	dir := c.layer.Dir()
	if dir == "" || os.Geteuid() != 0 {
		return
	}
	seen := false
	var made []string
	for _, ch := range changes {
		switch ch.Kind {
		case Modified, MetadataOnly, CopiedUp:
		default:
			continue // new, removed or opaque: no copy-up to tell
		}
		i, li := c.layer.find(ch.Path), c.below.find(ch.Path)
		if i < 0 || li < 0 {
			continue
		}
		r := &c.layer.recs[i]
		if r.flags&flagWhiteout != 0 || r.mode.Type() != c.below.topRec(li).mode.Type() {
			continue
		}
		_, err := unix.Lgetxattr(dir+ch.Path, xattrOrigin, nil)
		switch {
		case err == nil:
			seen = true
		case errors.Is(err, unix.ENODATA) && !r.mode.IsDir():
			made = append(made, ch.Path)
		}
	}
	if !seen {
		return
	}
	for _, p := range made {
		c.clue(p, func(k *Clues) { k.Origin = OriginNew })
	}
}

// moves pairs the whiteout of each lower directory with a directory tree
// the layer added at the top (its parent not added too) that holds the
// same entries, as mv leaves them when rename(2) fails with EXDEV.
func (c *causer) moves(changes []Change) {
	var gone []int32 // below's entries of the whited-out lower directories
	var at []string
	for _, ch := range changes {
		if ch.Kind != Removed || ch.Via != Whiteout {
			continue
		}
		if li := c.below.find(ch.Path); li >= 0 && c.below.topRec(li).mode.IsDir() {
			gone, at = append(gone, li), append(at, ch.Path)
		}
	}
	if len(gone) == 0 {
		return
	}
	// Changes come parents first: an added directory is a top unless it
	// lies in the last top seen.
	var tops []string
	for _, ch := range changes {
		if ch.Kind != Added || len(tops) > 0 && strings.HasPrefix(ch.Path, tops[len(tops)-1]+"/") {
			continue
		}
		if i := c.layer.find(ch.Path); i >= 0 && c.layer.recs[i].mode.IsDir() {
			tops = append(tops, ch.Path)
		}
	}
	moved := map[string]string{}
	sigs := map[string][]string{}
	for k, li := range gone {
		want := c.below.signature(li, "")
		if len(want) == 0 {
			continue // an empty directory matches any: no evidence
		}
		for _, top := range tops {
			if moved[top] != "" {
				continue
			}
			got, ok := sigs[top]
			if !ok {
				got = c.layer.signature(c.layer.find(top), "")
				sigs[top] = got
			}
			if slices.Equal(want, got) {
				moved[at[k]], moved[top] = top, at[k]
				c.movedTree(top, at[k])
				break
			}
		}
	}
	for p, to := range moved {
		c.clue(p, func(k *Clues) { k.Moved = to })
	}
}

// movedTree gives each entry beneath top, a tree mv copied from the lower
// directory from, the lower path it copied.
func (c *causer) movedTree(top, from string) {
	_ = c.layer.walk(c.layer.find(top), top, func(p string, _ Node) error {
		if p != top {
			c.clue(p, func(k *Clues) { k.Moved = from + p[len(top):] })
		}
		return nil
	})
}

// signature lists the entries beneath record i, each as its path relative
// to i, type, size and link target, in walk order.
func (t *Tree) signature(i int32, rel string) []string {
	var out []string
	r := &t.recs[i]
	for k := r.first; k < r.first+r.count; k++ {
		kr := &t.recs[k]
		p := rel + "/" + kr.name
		out = append(out, entrySig(p, kr, t.extraOf(k).link))
		if kr.mode.IsDir() {
			out = append(out, t.signature(k, p)...)
		}
	}
	return out
}

// signature lists the entries the view shows beneath entry i, as
// Tree.signature does.
func (m *Merged) signature(i int32, rel string) []string {
	var out []string
	e := &m.ents[i]
	for k := e.first; k < e.first+e.count; k++ {
		top := m.refs[m.ents[k].ref]
		p := rel + "/" + m.ents[k].name
		out = append(out, entrySig(p, m.rec(top), m.layers[top.layer].extraOf(top.idx).link))
		if m.rec(top).mode.IsDir() {
			out = append(out, m.signature(k, p)...)
		}
	}
	return out
}

func entrySig(p string, r *rec, link string) string {
	size := int64(0)
	if r.mode.IsRegular() {
		size = r.size
	}
	return p + "\x00" + strconv.FormatUint(uint64(r.mode.Type()), 16) + "\x00" + strconv.FormatInt(size, 10) + "\x00" + link
}

// childNames returns the names of the first n entries beneath entry i.
func (m *Merged) childNames(i int32, n int) []string {
	e := &m.ents[i]
	var out []string
	for k := e.first; k < e.first+e.count && len(out) < n; k++ {
		out = append(out, m.ents[k].name)
	}
	return out
}

// topRec is the record that provides entry i.
func (m *Merged) topRec(i int32) *rec { return m.rec(m.refs[m.ents[i].ref]) }
