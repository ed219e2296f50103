// Package overlay holds the filesystem meaning of layers: the whiteout and
// opaque rules of OverlayFS and of OCI layer tars, applying a layer tar to a
// directory (Unpack) or counting it without writing (Scan), an upper
// directory back into a layer tar (Pack, PackList), layer trees (ReadDir,
// ReadLayers, ReadTar), the merged view (Merge), diffs and the one A/C/D
// rule that folds them into docker's letters and counts (DockerDiff,
// Count), efficiency and dive's CI rules (EvaluateCI), watching, and the
// overlay mount itself, planned as data and performed in one place (Spec).
// It knows nothing of containers, images or the UI.
package overlay
