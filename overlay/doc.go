// Package overlay holds the filesystem meaning of layers: the whiteout and
// opaque rules of OverlayFS and of OCI layer tars, applying a layer tar to a
// directory, layer trees, the merged view, diffs, watching, and the overlay
// mount itself. It knows nothing of containers, images or the UI.
package overlay
