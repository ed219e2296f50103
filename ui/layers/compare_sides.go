package layers

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui/compare"
	"minidocker/ui/tree"
)

// Which versions the compare view shows, and what it says of them, comes
// from the trees alone; only the content is read, by the command.
//
// For a container the lower version is what the lower layers show at the
// path (the top layer holding it: Stack.Lower) and the upper version what
// the upper directory holds (Stack.Upper). For an image layer it is the
// version of the layer that showed the path below (the layer's change
// records it) against the layer's own.

// compareReq is one comparison to make.
type compareReq struct {
	path         string
	lower, upper version
	message      string
	dir          bool
	entries      []compare.Entry
	open         func(tree.Node) (io.ReadCloser, error)
}

// version is one side: how it is shown, and the node whose content is
// read when read is set.
type version struct {
	side  compare.Side
	node  tree.Node
	there bool // the side holds an entry, no whiteout
	read  bool
}

// input reads the content of both sides.
func (r compareReq) input() compare.Input {
	return compare.Input{Path: r.path, Lower: r.lower.load(r.open), Upper: r.upper.load(r.open),
		Message: r.message, Dir: r.dir, Entries: r.entries}
}

// load reads the side's content, at most compare.MaxRead bytes, and puts
// its size in What.
func (v version) load(open func(tree.Node) (io.ReadCloser, error)) (s compare.Side) {
	s = v.side
	if !v.there || !v.node.Mode.IsRegular() {
		return s
	}
	size := v.node.Size
	defer func() { s.What += " " + human.Size(size) }()
	if !v.read {
		return s
	}
	if open == nil {
		s.Err = errors.New("this view has no way to read its files")
		return s
	}
	rc, err := open(v.node)
	if err != nil {
		s.Err = err
		return s
	}
	defer rc.Close()
	if f, ok := rc.(interface{ Stat() (fs.FileInfo, error) }); ok {
		// The tree's size may be a second name's 0 B, or old.
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
	}
	// One buffer of the size stat(2) gave: growing one as ReadAll does
	// cost most of the time of a comparison of large files. A file that
	// grew since is read to that size; one that shrank, to its end.
	data := make([]byte, min(max(size, 0), compare.MaxRead))
	n, err := io.ReadFull(rc, data)
	data = data[:n]
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil
	}
	if err != nil {
		s.Err = fmt.Errorf("read %s: %w", human.Visible(v.node.Path), err)
		return s
	}
	s.Read, s.Data, s.Size = true, data, max(size, int64(len(data)))
	return s
}

// containerReq compares the lower layers' version of p with the upper
// directory's.
func (m Model) containerReq(p string) compareReq {
	low, lok := m.stack.Lower.Lookup(p)
	up, uok := m.stack.Upper.Lookup(p)
	held := uok && (up.Whiteout || up.Kind != overlay.Removed) // cf. heldFacts
	r := compareReq{path: p, open: m.stack.Open,
		lower: version{side: compare.Side{Name: "lower", Label: "lower layers", What: describe(low, lok)}, node: low, there: lok},
		upper: version{side: compare.Side{Name: "upper", Label: "upper directory", What: describe(up, held)}, node: up, there: held && !up.Whiteout}}
	if lok {
		r.lower.side.Label = m.layerName(low.Layer)
	}
	what := typeName(low.Mode)
	hider, via := hiderIn(m.stack.Upper, p)
	switch {
	case held && up.Whiteout && lok:
		r.message = "the upper's whiteout (c 0:0) hides the lower " + what
	case held && up.Whiteout:
		r.message = "the upper's whiteout (c 0:0) hides nothing below"
	case !held && hider != "":
		r.message = hiddenBy("the upper", hider, via, "the lower "+what)
	case !held && lok:
		r.message = "not in the upper directory: the container reads the lower " + what + " unchanged"
		return r
	case !held:
		r.message = "neither the lower layers nor the upper directory hold it"
		return r
	case !lok:
		r.message = "new " + typeName(up.Mode) + ": no lower layer holds it"
	default:
		r.message = replaced("the upper", low, up)
	}
	var below *tree.Tree
	if held && up.Whiteout || !held {
		below = m.stack.Lower // what the whiteout or the hider hides
	}
	r.fill(low, lok, up, held, m.stack.Upper, below)
	return r
}

// layerReq compares image layer i's version of p with the one the layers
// below it show.
func (m Model) layerReq(i int, p string) compareReq {
	if i < 0 || i >= len(m.stack.Layers) {
		return compareReq{path: p, message: "no layer of this view holds it"}
	}
	lt := m.stack.Layers[i]
	n, ok := lt.Lookup(p)
	held := ok && (n.Whiteout || n.Kind != overlay.Removed)
	var low tree.Node
	lok := false
	if ok && len(n.Shadows) > 0 && n.Shadows[0] < i {
		low, lok = m.stack.Layers[n.Shadows[0]].Lookup(p)
	}
	name := fmt.Sprintf("layer %d", i)
	r := compareReq{path: p, open: m.stack.Open,
		lower: version{side: compare.Side{Name: "below", Label: "the layers below", What: describe(low, lok)}, node: low, there: lok},
		upper: version{side: compare.Side{Name: name, Label: m.layerLabel(i), What: describe(n, held)}, node: n, there: held && !n.Whiteout}}
	if lok {
		r.lower.side.Label = m.layerName(low.Layer)
	}
	what, wh := typeName(low.Mode), human.Visible(".wh."+n.Name())
	hider, via := hiderIn(lt, p)
	switch {
	case held && n.Whiteout && lok:
		r.message = fmt.Sprintf("%s deletes it: a whiteout (%s in its tar) hides layer %d's %s", name, wh, low.Layer, what)
	case held && n.Whiteout:
		r.message = fmt.Sprintf("%s holds a whiteout (%s in its tar) that hides nothing below", name, wh)
	case !held && hider != "":
		r.message = hiddenBy(name, hider, via, fmt.Sprintf("layer %d's %s", low.Layer, what))
	case !held:
		r.message = name + " holds nothing here"
		return r
	case !lok:
		r.message = fmt.Sprintf("added by %s: no layer below holds it", name)
	default:
		r.message = replaced(name, low, n)
	}
	r.fill(low, lok, n, held, lt, nil)
	return r
}

// fill says what to compare: a directory's entries, as the layer's tree of
// changes lists them beneath it (or, when the directory is deleted or
// hidden, below's entries as removed), else the content of the regular
// files among the two sides.
func (r *compareReq) fill(low tree.Node, lok bool, up tree.Node, held bool, changes, below *tree.Tree) {
	upThere := held && !up.Whiteout
	switch {
	case upThere && up.IsDir():
		r.dir = true
		for _, c := range changes.Children(r.path) {
			r.entries = append(r.entries, compare.Entry{Kind: c.Mark(), Name: c.Name(), Note: entryNote(c)})
		}
	case !upThere && lok && low.IsDir():
		r.dir = true
		if below != nil {
			for _, c := range below.Children(r.path) {
				r.entries = append(r.entries, compare.Entry{Kind: overlay.Removed, Name: c.Name(), Note: "hidden with the directory"})
			}
		}
	default:
		r.lower.read = lok && low.Mode.IsRegular()
		r.upper.read = upThere && up.Mode.IsRegular()
	}
	switch {
	case r.dir || r.message == "":
	case r.upper.read && !r.lower.read:
		r.message += "; shown whole as added"
	case r.lower.read && !r.upper.read:
		r.message += "; shown whole as removed"
	}
}

// entryNote says in a few words what a change beneath a directory is.
func entryNote(c tree.Node) string {
	switch c.Mark() {
	case overlay.Added:
		return "added"
	case overlay.Whiteout:
		if c.Kind == overlay.Removed {
			return "deleted: a whiteout"
		}
		return "a whiteout hiding nothing"
	case overlay.Removed:
		return "hidden: an opaque directory or a file above"
	case overlay.Modified:
		return "content, type or link changed"
	case overlay.CopiedUp:
		return "held again, same content"
	case overlay.MetadataOnly:
		return "same content; mode, owner or time changed"
	case overlay.Opaque:
		return "opaque: hides all below it"
	}
	return c.Kind.String()
}

// hiddenBy says that holder holds nothing at a path because hider, above
// it, hides what: an opaque directory, or a non-directory put in the
// place of the directory holding it.
func hiddenBy(holder, hider string, via overlay.DiffKind, what string) string {
	if via == overlay.Opaque {
		return fmt.Sprintf("hidden: %s's opaque directory %s hides %s", holder, human.Visible(hider), what)
	}
	return fmt.Sprintf("hidden: %s's %s, no directory, hides %s", holder, human.Visible(hider), what)
}

// replaced says what a version of another type than the one below is; ""
// when both are of one type. For two symlinks it names both targets.
func replaced(holder string, low, up tree.Node) string {
	lt, ut := typeName(low.Mode), typeName(up.Mode)
	switch {
	case lt != ut:
		return fmt.Sprintf("%s puts a %s in the place of the lower %s", holder, ut, lt)
	case low.Mode&fs.ModeSymlink != 0 && low.Link == up.Link:
		return "both point to " + human.Visible(up.Link)
	case low.Mode&fs.ModeSymlink != 0:
		return fmt.Sprintf("the target changed: %s → %s", human.Visible(low.Link), human.Visible(up.Link))
	case !low.Mode.IsRegular() && !low.IsDir():
		return fmt.Sprintf("a %s has no content to compare: its mode and owner are all there is", lt)
	}
	return ""
}

// layerLabel is lower layer i's name, made visible.
func (m Model) layerLabel(i int) string {
	if i >= 0 && i < len(m.stack.Names) {
		return human.Visible(m.stack.Names[i])
	}
	return fmt.Sprintf("layer %d", i)
}

// describe says what a version is, in one line: type, ls -l mode, owner,
// a symlink's target; "nothing" when the side holds nothing.
func describe(n tree.Node, ok bool) string {
	switch {
	case !ok:
		return "nothing"
	case n.Whiteout:
		return "whiteout c--------- 0:0"
	}
	s := fmt.Sprintf("%s %s %d:%d", typeName(n.Mode), human.Mode(n.Mode), n.UID, n.GID)
	if n.Link != "" {
		s += " → " + human.Visible(n.Link)
	}
	if n.Opaque && n.IsDir() {
		s += " opaque"
	}
	return s
}
