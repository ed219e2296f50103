// Package engine runs containers: it re-executes the minidocker binary as the
// container's init in new namespaces, mounts an overlay root filesystem from
// the layer directories it is handed, applies cgroup limits, and keeps the
// state that lets a container outlive the process that started it.
package engine
