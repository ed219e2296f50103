package overlay

import "io/fs"

// A path's cause is how it came to be in a layer: for a container's upper
// directory, what the kernel did on the student's command (a copy-up, a
// whiteout, an opaque directory); for an image layer, what the layer's tar
// holds. It is kept apart from DiffKind, which says only how the path
// differs from what the layers below show: `echo x >> /etc/hosts` is a
// copy-up on its first write (the cause) and a modified file (the
// difference); the parent directory of a new file is a copy-up for a
// change beneath it, whose mtime differs only because of that change.

// CauseKind is what made a path of a layer.
type CauseKind uint8

// The causes. The first group is a container's upper directory, the second
// an image layer, which has no upper and no copy-up.
const (
	// CauseUnknown is a path the layer does not change.
	CauseUnknown CauseKind = iota
	// CauseCreated is a new name: no lower layer shows the path.
	CauseCreated
	// CauseWritten is a file copied up on its first write, then changed.
	CauseWritten
	// CauseOpened is a file copied up and left as it was: opened for
	// writing and never written, or a hard link made and removed since.
	CauseOpened
	// CauseParent is a directory copied up as the parent of a change
	// beneath it, with the lower directory's metadata.
	CauseParent
	// CauseMetadata is an entry copied up by chmod, chown or touch; with
	// metacopy=off the whole file comes up.
	CauseMetadata
	// CauseLinked is a file copied up by link(2) on its lower name.
	CauseLinked
	// CauseReplaced is a lower entry deleted (whited out) and then made
	// again: of another type, or a file written anew rather than copied up.
	CauseReplaced
	// CauseWhiteout is a whiteout: a character device 0:0 that deletes the
	// lower entry of its name.
	CauseWhiteout
	// CauseOpaque is a directory marked trusted.overlay.opaque=y: made
	// again over a deleted lower directory, whose entries it hides.
	CauseOpaque
	// CauseHidden is a lower entry the layer does not hold, hidden by an
	// opaque directory above it or by a non-directory over its directory.
	CauseHidden
	// CauseMovedAway is the whiteout of a lower directory that mv copied
	// elsewhere: rename(2) failed with EXDEV.
	CauseMovedAway
	// CauseMovedHere is a directory tree mv copied from a lower directory
	// after rename(2) failed with EXDEV, and an entry beneath it.
	CauseMovedHere
	// CauseEngine is a mount point the engine made before the container's
	// process ran, or a directory it made or copied up on the way to one.
	CauseEngine

	// CauseLayerAdded is a path an image layer adds.
	CauseLayerAdded
	// CauseLayerReplaced is a non-directory an image layer holds again,
	// which replaces the one below whole.
	CauseLayerReplaced
	// CauseLayerDir is a directory an image layer lists again: it takes
	// the entry's attributes and merges with the one below.
	CauseLayerDir
	// CauseLayerDeleted is a path an image layer deletes: .wh.NAME.
	CauseLayerDeleted
	// CauseLayerOpaque is a directory an image layer makes opaque:
	// .wh..wh..opq.
	CauseLayerOpaque
	// CauseLayerHidden is an entry of the layers below hidden by an opaque
	// directory of the image layer, or by a non-directory over its
	// directory.
	CauseLayerHidden
)

var causeNames = [...]string{"unknown", "created", "copied-up-write", "copied-up-open", "copied-up-parent",
	"copied-up-metadata", "copied-up-link", "replaced", "whiteout", "opaque", "hidden", "moved-away",
	"moved-here", "engine", "layer-added", "layer-replaced", "layer-dir", "layer-deleted", "layer-opaque",
	"layer-hidden"}

// String returns the cause's name, such as "copied-up-write".
func (k CauseKind) String() string {
	if int(k) < len(causeNames) {
		return causeNames[k]
	}
	return "unknown"
}

// Origin says whether a non-directory of an upper directory is a copy-up.
// On every copy-up the kernel records the lower file's handle in the
// xattr trusted.overlay.origin (overlayfs.rst, "Changes to underlying
// filesystems"); a file made anew after a deletion has none.
type Origin uint8

// The origins.
const (
	OriginUnknown Origin = iota // not read: a tar, or xattrs not readable
	OriginCopied                // trusted.overlay.origin is set: copied up
	OriginNew                   // no origin where the kernel would set one
)

// Facts are what a path's cause is decided from. Causes gathers them from
// the trees of the layers; a live view may fill in what it knows and leave
// the rest zero (Origin unknown, no other names, no move found).
type Facts struct {
	Path  string // "/"-rooted
	Image bool   // an image layer (its tar did the work), not an upper directory
	// Diff is how the path differs from what the layers below show, as
	// Diff lists it.
	Diff DiffKind
	// Held says the layer holds an entry at Path; when not, Path is a
	// lower entry hidden by the entry Hider of the layer.
	Held bool
	// Via is, when not Held, what hides the path: Opaque for an opaque
	// directory above it, Modified for a non-directory over its directory.
	Via DiffKind
	// The layer's entry at Path; when not Held, the lower entry's.
	Mode     fs.FileMode
	UID, GID uint32
	Size     int64 // a regular file's size or a symlink target's length
	Whiteout bool
	Opaque   bool
	Metacopy bool
	// Below says the lower layers show an entry at Path that no entry of
	// the layer above Path hides; the Lower fields describe it.
	Below              bool
	LowerMode          fs.FileMode
	LowerUID, LowerGID uint32
	// LowerSize is the lower file's size, or for a directory the bytes of
	// the regular files at and beneath it.
	LowerSize int64
	// LowerLayer is the lower layer that provides the entry, -1 for none.
	LowerLayer int
	// LowerEntries counts the lower entries directly beneath the path:
	// those a whiteout deletes with it, or an opaque directory hides.
	LowerEntries int
	// Hidden names the first few lower entries an opaque directory hides.
	Hidden []string
	// Hider is the path of the layer's entry above Path that hides the
	// lower layers there: an opaque directory, or a non-directory put over
	// a lower directory.
	Hider string
	// Changes says a directory holds entries of the layer beneath it.
	Changes bool
	Clues
}

// Clues are the facts of a path that its entries and those below do not
// show: FindClues reads them once for a layer, and they are few.
type Clues struct {
	// Origin says whether a non-directory was copied up.
	Origin Origin
	// Names lists, for a file with several names in the layer, all of
	// them, sorted.
	Names []string
	// Moved is, for the whiteout of a lower directory, where mv copied it;
	// for an entry of the tree mv made, the lower path it copied.
	Moved string
	// Engine is, for an entry the engine made, the mount point it is or
	// leads to.
	Engine string
}

// Cause is a path's cause with the facts it was decided from.
type Cause struct {
	Kind CauseKind
	Facts
}

// Decide returns the cause the facts show. The order of the tests is the
// order in which the kernel's rules override each other: a path not held
// is hidden; a whiteout deletes; the engine's entries are its own; a name
// the lower layers do not show is new; a different type, or a file the
// kernel never copied up, was deleted and made again; then the copy-ups,
// told apart by what differs.
func Decide(f Facts) Cause {
	if f.Image {
		return Cause{Kind: decideLayer(f), Facts: f}
	}
	return Cause{Kind: decideUpper(f), Facts: f}
}

func decideUpper(f Facts) CauseKind {
	switch {
	case !f.Held:
		return CauseHidden
	case f.Whiteout && f.Moved != "":
		return CauseMovedAway
	case f.Whiteout:
		return CauseWhiteout
	case f.Engine != "":
		return CauseEngine
	case f.Moved != "":
		return CauseMovedHere
	case !f.Below:
		return CauseCreated
	case f.Mode.Type() != f.LowerMode.Type():
		return CauseReplaced
	case f.Mode.IsDir() && f.Opaque:
		return CauseOpaque
	case f.Mode.IsDir():
		return decideDir(f)
	case f.Origin == OriginNew:
		return CauseReplaced
	case f.Diff == Modified && !f.Mode.IsRegular():
		// A symlink or a device cannot be written: only made again.
		return CauseReplaced
	case f.Diff == Modified:
		return CauseWritten
	case f.Diff == MetadataOnly:
		return CauseMetadata
	case len(f.Names) > 1:
		return CauseLinked
	}
	return CauseOpened
}

// decideDir tells a directory copied up for a change beneath it, whose
// mtime that change moved, from one copied up by chmod, chown or touch.
func decideDir(f Facts) CauseKind {
	switch {
	case f.ownerOrModeDiffer():
		return CauseMetadata
	case f.Changes:
		return CauseParent
	case f.Diff == MetadataOnly:
		return CauseMetadata
	}
	return CauseParent
}

func decideLayer(f Facts) CauseKind {
	switch {
	case !f.Held:
		return CauseLayerHidden
	case f.Whiteout:
		return CauseLayerDeleted
	case !f.Below:
		return CauseLayerAdded
	case f.Mode.IsDir() && f.Opaque && f.LowerMode.IsDir():
		return CauseLayerOpaque
	case f.Mode.IsDir() && f.LowerMode.IsDir():
		return CauseLayerDir
	}
	return CauseLayerReplaced
}

func (f Facts) ownerOrModeDiffer() bool {
	const bits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
	return f.Mode&bits != f.LowerMode&bits || f.UID != f.LowerUID || f.GID != f.LowerGID
}
