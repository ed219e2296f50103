package overlay

// The documents the rules come from: the kernel's overlayfs documentation
// for an upper directory, the OCI image spec for an image layer.
const (
	docOverlayfs = "overlayfs.rst"
	docLayer     = "image-spec layer.md"
)

// Rule is the rule behind a cause: one line, and where it is written down.
type Rule struct {
	Doc     string // "overlayfs.rst" (Documentation/filesystems/) or "image-spec layer.md"
	Section string // the section's title, as the document spells it
	Text    string
}

// String returns the rule with its source, such as
// `an open for write … (overlayfs.rst, "Non-directories")`.
func (r Rule) String() string {
	return r.Text + ` (` + r.Doc + `, "` + r.Section + `")`
}

// Rule returns the rule behind the cause.
func (c Cause) Rule() Rule {
	switch c.Kind {
	case CauseCreated:
		return Rule{docOverlayfs, "Upper and Lower", "a name no lower layer holds lives in upper alone; lower layers are never written"}
	case CauseWritten:
		return Rule{docOverlayfs, "Non-directories", "opening a lower file for write first copies it whole to upper (copy_up); the write changes the copy"}
	case CauseOpened:
		return Rule{docOverlayfs, "Non-directories", "opening for write copies up even if nothing is then written: the copy_up may turn out unnecessary"}
	case CauseParent:
		return Rule{docOverlayfs, "Non-directories", "copy_up first makes the containing directory in upper, with the lower one's owner, mode and mtime"}
	case CauseMetadata:
		if c.Mode.IsDir() {
			return Rule{docOverlayfs, "Non-directories", "changing metadata copies up; a directory comes up alone, its entries stay below"}
		}
		return Rule{docOverlayfs, "Metadata only copy up", "chmod, chown and touch copy up; with metacopy=off the whole file, data too"}
	case CauseLinked:
		return Rule{docOverlayfs, "Non-directories", "creating a hard link also requires copy_up: the new name links to the upper copy"}
	case CauseReplaced:
		return Rule{docOverlayfs, "whiteouts and opaque directories", "deleting a lower name leaves a whiteout; a new entry of that name takes its place"}
	case CauseWhiteout:
		if c.LowerMode.IsDir() && c.Below {
			return Rule{docOverlayfs, "renaming directories", "a deleted lower dir becomes a whiteout; so does a renamed one: rename(2) gives EXDEV and mv copies"}
		}
		return Rule{docOverlayfs, "whiteouts and opaque directories", "a character device 0/0 in upper hides the name in every lower layer"}
	case CauseOpaque:
		return Rule{docOverlayfs, "whiteouts and opaque directories", "trusted.overlay.opaque=y: any lower directory of the same name is ignored"}
	case CauseHidden:
		if c.Via == Modified {
			return Rule{docOverlayfs, "Directories", "a non-directory in upper hides the lower object of its name, and all beneath it"}
		}
		return Rule{docOverlayfs, "whiteouts and opaque directories", "beneath an opaque directory no lower entry shows"}
	case CauseMovedAway, CauseMovedHere:
		return Rule{docOverlayfs, "renaming directories", "rename(2) of a lower directory fails with EXDEV (redirect_dir=nofollow); mv copies, then deletes"}
	case CauseEngine:
		return Rule{docOverlayfs, "Upper and Lower", "the engine wrote it through the merged view, as any write: new in upper, its parent copied up"}
	case CauseLayerAdded:
		return Rule{docLayer, "Change Types", "additions are stored whole in the layer's tar"}
	case CauseLayerReplaced:
		return Rule{docLayer, "Changeset over existing files", "a non-directory is unlinked and made again from the tar entry: never patched"}
	case CauseLayerDir:
		return Rule{docLayer, "Changeset over existing files", "an existing directory only takes the entry's attributes; its contents merge"}
	case CauseLayerDeleted:
		return Rule{docLayer, "Whiteouts", ".wh.NAME deletes NAME from the layers below; the whiteout itself is hidden"}
	case CauseLayerOpaque:
		return Rule{docLayer, "Opaque Whiteout", ".wh..wh..opq hides everything the layers below hold in this directory"}
	case CauseLayerHidden:
		if c.Via == Modified {
			return Rule{docLayer, "Changeset over existing files", "a non-directory over a directory removes the directory and all beneath it"}
		}
		return Rule{docLayer, "Opaque Whiteout", ".wh..wh..opq hides everything the layers below hold in its directory"}
	}
	return Rule{docOverlayfs, "Upper and Lower", "read straight from the layer that holds it; nothing above changed it"}
}
