package engine

import "minidocker/overlay"

// Overlay is a container's root file system: the image's layers bottom
// first, the container's upper and work directories and the mount point.
// Package overlay plans and performs the mount (overlay.Spec.Mount); the
// alias keeps the JSON of the state files as it was.
type Overlay = overlay.Spec
