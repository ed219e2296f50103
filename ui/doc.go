// Package ui is minidocker's terminal user interface, a Bubble Tea program
// that makes copy-on-write visible.
//
// The root Model routes; each component lives in a package of its own:
// panel (the home screen's side lists), layers (an image's layers, or a
// container's lower, upper and merged panes, updated live), terminal (a
// container's pty in an x/vt emulator), text (logs, inspect, history,
// config, previews), stats (small plots of a container's counters),
// dialog (confirmations and forms), meter (the disk meter over an image's
// or a container's layers), commit (the layer a commit would make, both
// forms of each whiteout, and its name) and palette (the ":" command
// palette over the actions and every container and image, fuzzy
// matched). The build view, a
// build's steps beside the live layers of its RUN step's container, is
// the root's own (build.go), as the opened item's screen is (detail.go)
// and the pull and push dialogs and their progress are (transfer.go).
// Styles are in theme, key bindings in keys, and tree is the file tree
// the layer views draw.
//
// The UI reads the engine, the image store and the host's mounts through
// the small interfaces of source.go and source_build.go, one a role
// (ImageSource, ImageManager, MountSource, ContainerLister, StackWatcher,
// Lifecycle, Terminals, LogReader, StatsReader, Committer, Builder,
// Registry, meter.Source),
// gathered in Sources, so every view can be tested over in-memory stand-ins; the
// application layer implements them.
package ui
