// Package ui is minidocker's terminal user interface, a Bubble Tea program
// that makes copy-on-write visible.
//
// The root Model routes; each component lives in a package of its own:
// panel (the home screen's side lists), layers (an image's layers, or a
// container's lower, upper and merged panes, updated live), terminal (a
// container's pty in an x/vt emulator), text (logs, inspect, history,
// config, previews), stats (small plots of a container's counters) and
// dialog (confirmations and forms). Styles are in theme, key bindings in
// keys, and tree is the file tree the layer views draw.
//
// The UI reads the engine, the image store and the host's mounts through
// the small interfaces of source.go, one a role (ImageSource, MountSource,
// ContainerLister, StackWatcher, Lifecycle, Terminals, LogReader,
// StatsReader), gathered in Sources, so every view can be tested over
// in-memory stand-ins; the application layer implements them.
package ui
