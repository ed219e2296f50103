package overlay

import (
	"fmt"
	"path"

	"minidocker/internal/human"
)

// Explain returns the longer account of the cause, in paragraphs: what
// happened and which commands do it, the rule and where it is written, the
// two forms of a whiteout or an opaque directory (the overlayfs one in an
// upper directory or unpacked layer, the OCI one in a layer tar), and what
// docker diff lists for the path.
func (c Cause) Explain() []string {
	out := []string{c.Summary() + ".", c.story()}
	r := c.Rule()
	who := "Kernel rule"
	if c.Image {
		who = "Layer rule"
	}
	out = append(out, fmt.Sprintf("%s (%s, section %q): %s.", who, r.Doc, r.Section, r.Text))
	if f := c.forms(); f != "" {
		out = append(out, f)
	}
	return append(out, c.dockerDiff())
}

// story says what the kernel or the layer did, and what does it.
func (c Cause) story() string {
	v := human.Visible
	switch c.Kind {
	case CauseCreated:
		return "A new name: made in the upper directory by the container (touch, >, mkdir, a package manager). The lower layers are read-only and never change; every container of the image shares them."
	case CauseWritten:
		return fmt.Sprintf("The first open for writing (echo x >> file, an editor saving in place) made the kernel copy the whole lower file, %s, into the upper directory before the write; the write then changed the copy, now %s. The lower file is untouched: both copies are on disk.", human.Size(c.LowerSize), human.Size(c.Size))
	case CauseOpened:
		return "Something opened the file for writing (O_WRONLY or O_RDWR, as dpkg and some editors do) and wrote nothing, or made a hard link that is gone again. The kernel copied it up on the open, before knowing; the copy takes space though it equals the lower file."
	case CauseParent:
		return "A change beneath this directory (a new, changed or deleted entry) needed it in the upper directory: copy-up makes the parents first, with the lower directory's owner, mode and times. Only the directory comes up, never its other entries; its mtime then moves with the change made in it."
	case CauseMetadata:
		if c.Mode.IsDir() {
			return "chmod, chown or touch on a lower directory copies the directory itself up with its new metadata; its entries stay in the lower layers and merge with it."
		}
		return fmt.Sprintf("chmod, chown or touch changed only metadata (%s), yet the kernel copied the whole file, %s, into the upper directory: the engine mounts with metacopy=off, so no metadata-only copy is made.", c.metaChange(), human.Size(c.Size))
	case CauseLinked:
		return "ln on a lower file: link(2) needs the file in the upper directory, so the kernel copied it up and made the new name there, a second name of the upper copy. The lower file keeps its own inode (index=off)."
	case CauseReplaced:
		return "The lower entry was deleted (a whiteout took its name) and a new entry was made there: rm then create, ln -sf, or a tool that writes a new file and renames it over the old one (sed -i, many editors). It is no copy-up: the kernel recorded no origin for it."
	case CauseWhiteout, CauseMovedAway:
		s := "rm on a lower entry: the layers below cannot change, so the kernel records the deletion in the upper directory as a whiteout, which hides the name in every lower layer."
		if c.Below && c.LowerMode.IsDir() {
			s += " A lower directory ends this way under rm -r, and also under mv: with redirect_dir=nofollow rename(2) of a lower directory fails with EXDEV, and mv falls back to copying the tree to its new name and deleting the old one."
		}
		if c.Kind == CauseMovedAway {
			s += " Here the same tree is found again at " + v(c.Moved) + "."
		}
		return s
	case CauseMovedHere:
		return "mv " + v(c.Moved) + " here: rename(2) of a lower directory fails with EXDEV (Invalid cross-device link), since the engine mounts with redirect_dir=nofollow, so mv copied the whole tree into the upper directory under the new name and deleted the old one, which left a whiteout."
	case CauseOpaque:
		return "rm -r of a lower directory, then mkdir of the same name: the kernel marks the new directory opaque, so that none of the lower entries come back through it. Only what the upper directory holds shows beneath it."
	case CauseHidden:
		if c.Via == Modified {
			return "The lower layers hold this entry, but " + v(c.Hider) + " in the upper directory is no directory, so nothing beneath it can show. The upper directory holds nothing at this path."
		}
		return "The lower layers hold this entry, but " + v(c.Hider) + " in the upper directory is opaque: it hides every lower entry beneath it. The upper directory holds nothing at this path."
	case CauseEngine:
		return "Before the container's process ran, the engine made " + v(c.Engine) + " through the merged view, to mount over it (hostname, resolv.conf, hosts, /proc, /sys, /dev, a volume). The container sees what is mounted there, not this entry."
	case CauseLayerAdded:
		return "The layer's tar holds this entry whole; nothing below has the path."
	case CauseLayerReplaced:
		return "The layer's tar holds this entry again, whole: an image layer never patches a file, it replaces it, even to change one byte or its mode. The old copy stays in the layer below and still takes space in the image."
	case CauseLayerDir:
		return "Directories merge across layers: the tar lists this directory again (usually as the parent of a change), which sets its owner, mode and time; its entries from the layers below still show."
	case CauseLayerDeleted:
		return "An image layer cannot remove a file from the layer below: it holds a whiteout entry instead, which hides the name from then on. The bytes below still take space in the image."
	case CauseLayerOpaque:
		return "The layer deleted this directory and made it again: an opaque whiteout entry hides everything the layers below hold in it, and only this layer's entries show."
	case CauseLayerHidden:
		return "The layers below hold this entry; this layer hides it with " + v(path.Join(c.Hider, whiteoutOpaque)) + " (or a non-directory over its directory), and holds nothing at the path."
	}
	return "Nothing above the layer that holds this entry changed it."
}

// forms gives both spellings of a whiteout or an opaque directory.
func (c Cause) forms() string {
	v := human.Visible
	switch c.Kind {
	case CauseLayerDeleted:
		return fmt.Sprintf("Two forms: in the layer tar, the empty file %s; unpacked for the kernel to mount, a character device 0,0 at %s (c--------- 0,0).", v(c.ociWhiteout()), v(c.Path))
	case CauseLayerOpaque:
		return fmt.Sprintf("Two forms: in the layer tar, the empty file %s; unpacked for the kernel to mount, the xattr trusted.overlay.opaque=y on %s.", v(path.Join(c.Path, whiteoutOpaque)), v(c.Path))
	case CauseWhiteout, CauseMovedAway:
		return fmt.Sprintf("Two forms: in an upper directory or an unpacked layer, %s is a character device 0,0 (c--------- 0,0); in a layer tar it is the empty file %s.", v(c.Path), v(c.ociWhiteout()))
	case CauseOpaque:
		return fmt.Sprintf("Two forms: on disk, the xattr trusted.overlay.opaque=y on %s; in a layer tar, the empty file %s.", v(c.Path), v(path.Join(c.Path, whiteoutOpaque)))
	case CauseWritten, CauseMetadata, CauseOpened, CauseLinked, CauseParent:
		switch {
		case c.LowerLayer < 0:
		case c.Mode.IsDir():
			return fmt.Sprintf("The lower directory is still in layer %d, unchanged; the two merge, so its other entries still show.", c.LowerLayer)
		default:
			return fmt.Sprintf("The lower copy is still in layer %d, unchanged; the upper copy hides it.", c.LowerLayer)
		}
	}
	return ""
}

// dockerDiff says what docker diff lists for the path.
func (c Cause) dockerDiff() string {
	if c.Kind == CauseEngine {
		return "The engine's own entry: minidocker diff leaves out the /etc files the engine provides, and commit every mount point it made."
	}
	l := c.Diff.Letter()
	if l == " " {
		return "docker diff does not list it: it hides nothing."
	}
	return fmt.Sprintf("docker diff: %s %s (%s).", l, human.Visible(c.Path), c.Diff)
}
