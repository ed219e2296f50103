package overlay

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"minidocker/internal/human"
)

// Summary says in one line what made the path, with its figures: both
// sizes of a file copied up and changed, what metadata changed, the link
// count and the other names, what a whiteout or an opaque directory hides,
// which opaque directory hides an entry. Names are made visible
// (human.Visible): they come from the layer.
func (c Cause) Summary() string {
	s := c.summary()
	if len(c.Names) > 1 {
		s += " · " + c.links()
	}
	return s
}

func (c Cause) summary() string {
	v := human.Visible
	switch c.Kind {
	case CauseCreated:
		if c.Below || c.Hider == "" || c.LowerLayer < 0 {
			return "created: no lower layer has this path"
		}
		return "created inside opaque " + v(c.Hider) + ": the lower entry of this name stays hidden"
	case CauseWritten:
		return fmt.Sprintf("copied up on its first write, then changed: %s below, %s in upper", human.Size(c.LowerSize), human.Size(c.Size))
	case CauseOpened:
		return "copied up, content and metadata unchanged: opened for writing, nothing written"
	case CauseParent:
		s := "copied up as the parent of a change beneath it"
		if c.Diff == MetadataOnly {
			s += "; its mtime moved with that change"
		}
		if !c.Changes {
			s += "; that change is undone now"
		}
		return s
	case CauseMetadata:
		s := "copied up by chmod, chown or touch: " + c.metaChange()
		if c.Mode.IsRegular() {
			s += "; the whole file (" + human.Size(c.Size) + ") came up: metacopy=off"
		}
		return s
	case CauseLinked:
		return "copied up by link(2): a new name was made for this lower file"
	case CauseReplaced:
		if c.Mode.Type() != c.LowerMode.Type() {
			return fmt.Sprintf("deleted, then made anew as a %s over the lower %s: no copy-up", human.TypeWord(c.Mode), human.TypeWord(c.LowerMode))
		}
		switch {
		case c.Mode&fs.ModeSymlink != 0:
			return "deleted, then made anew: a symlink is never changed in place; ln -sf makes a new one"
		case !c.Mode.IsRegular():
			return "deleted, then made anew: rm, then mknod or mkfifo"
		}
		return "deleted, then made anew (no copy-up origin): rm then create, or a rename over it (sed -i)"
	case CauseWhiteout:
		if !c.Below {
			return "whiteout over nothing the lower layers show now"
		}
		if c.LowerMode.IsDir() {
			return fmt.Sprintf("whiteout: deletes the lower directory (%s in it, %s): rm -r, or mv, which rename(2) refused", entries(c.LowerEntries), human.Size(c.LowerSize))
		}
		return fmt.Sprintf("whiteout: deletes the lower %s (%s, layer %d)", human.TypeWord(c.LowerMode), human.Size(c.LowerSize), c.LowerLayer)
	case CauseMovedAway:
		return "whiteout: mv moved this lower directory to " + v(c.Moved) + " by copying; rename(2) gave EXDEV"
	case CauseMovedHere:
		return "copied by mv from the lower " + v(c.Moved) + ": rename(2) gave EXDEV, so mv copied, then deleted"
	case CauseOpaque:
		return fmt.Sprintf("opaque directory: hides %s below%s; made by rm -r, then mkdir", entries(c.LowerEntries), c.hiddenList())
	case CauseHidden:
		if c.Via == Modified {
			return "hidden: " + v(c.Hider) + " in upper is no directory, so nothing below it shows"
		}
		return "hidden by opaque " + v(c.Hider) + ": upper does not hold it, and the lower entry is ignored"
	case CauseEngine:
		return c.engineSummary()
	case CauseLayerAdded:
		return "added by this layer"
	case CauseLayerReplaced:
		return "replaced whole by this layer's entry: " + c.layerChange()
	case CauseLayerDir:
		return "directory listed again: its attributes set, its contents merged with the layers below"
	case CauseLayerDeleted:
		if !c.Below {
			return "deleted by this layer (" + v(c.ociWhiteout()) + "), though no layer below has it"
		}
		return fmt.Sprintf("deleted by this layer: %s hides the %s below (%s)", v(c.ociWhiteout()), human.TypeWord(c.LowerMode), human.Size(c.LowerSize))
	case CauseLayerOpaque:
		return fmt.Sprintf("made opaque: %s hides %s of the layers below%s", v(path.Join(c.Path, whiteoutOpaque)), entries(c.LowerEntries), c.hiddenList())
	case CauseLayerHidden:
		if c.Via == Modified {
			return "hidden: " + v(c.Hider) + " is no directory in this layer"
		}
		return "hidden by " + v(path.Join(c.Hider, whiteoutOpaque))
	}
	return "unchanged: read from the layer that holds it"
}

func (c Cause) engineSummary() string {
	v := human.Visible
	switch {
	case c.Path == c.Engine:
		return "written by the engine at start: the mount point of " + v(c.Engine) + ", covered by a mount"
	case c.Below:
		return "copied up by the engine making its mount point " + v(c.Engine)
	}
	return "made by the engine on the way to its mount point " + v(c.Engine)
}

// metaChange says what metadata differs from the lower entry's.
func (c Cause) metaChange() string {
	var parts []string
	if c.Mode.Perm()|c.Mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != c.LowerMode.Perm()|c.LowerMode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) {
		parts = append(parts, "mode "+human.Mode(c.LowerMode)[1:]+" → "+human.Mode(c.Mode)[1:])
	}
	if c.UID != c.LowerUID || c.GID != c.LowerGID {
		parts = append(parts, fmt.Sprintf("owner %d:%d → %d:%d", c.LowerUID, c.LowerGID, c.UID, c.GID))
	}
	if len(parts) == 0 {
		return "mtime only"
	}
	return strings.Join(parts, ", ")
}

// layerChange says how an image layer's entry differs from the one below.
func (c Cause) layerChange() string {
	switch {
	case c.Mode.Type() != c.LowerMode.Type():
		return "a " + human.TypeWord(c.Mode) + " over the " + human.TypeWord(c.LowerMode)
	case c.Diff == Modified && c.Mode&fs.ModeSymlink != 0:
		return "another target"
	case c.Diff == Modified:
		return "other content"
	case c.Diff == MetadataOnly:
		return "same content, other metadata"
	}
	return "the same entry again"
}

// links is the link count and the other names.
func (c Cause) links() string {
	var others []string
	for _, n := range c.Names {
		if n != c.Path {
			others = append(others, human.Visible(n))
		}
	}
	return strconv.Itoa(len(c.Names)) + " links, also " + strings.Join(others, ", ")
}

// hiddenList is ": a, b, c, …" for the names an opaque directory hides.
func (c Cause) hiddenList() string {
	if len(c.Hidden) == 0 {
		return ""
	}
	names := make([]string, len(c.Hidden))
	for i, n := range c.Hidden {
		names[i] = human.Visible(n)
	}
	s := " (" + strings.Join(names, ", ")
	if c.LowerEntries > len(c.Hidden) {
		s += ", …"
	}
	return s + ")"
}

// ociWhiteout is the tar name of the whiteout of c's path: dir/.wh.NAME.
func (c Cause) ociWhiteout() string {
	dir, name := path.Split(c.Path)
	return dir + whiteoutPrefix + name
}

// entries is "1 entry" or "N entries".
func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return strconv.Itoa(n) + " entries"
}
