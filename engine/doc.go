// Package engine runs containers: it re-executes the minidocker binary as the
// container's init in new namespaces, mounts an overlay root filesystem from
// the layer directories it is handed, applies cgroup limits, and keeps the
// state that lets a container outlive the process that started it.
//
// Three processes make a container, all the same binary (main calls IsInit
// and Init first):
//
//   - the monitor, like conmon: started in a session of its own, it owns the
//     container's pty or output pipes, writes the log, serves attach on the
//     unix socket in the container's directory, records the exit code and
//     removes a container run with --rm. A "minidocker run" forks it from a
//     C constructor before its own Go runtime starts (spawn_cgo.go,
//     prefork.go), so that the two start up side by side; otherwise
//     NewMonitor executes it;
//   - the init: cloned by the monitor into new PID, mount, UTS, IPC and
//     network namespaces from a C constructor, before the monitor's Go
//     runtime starts (spawn_cgo.go; see initProc), it
//     receives its stdio and then its configuration as JSON over an
//     inherited socket, mounts the overlay and the /proc, /sys, /dev plan,
//     pivots into the root (or chroots: Spec.Root), opens its pty in the container's own devpts
//     when it has one, and executes the command, which is then PID 1 (no
//     reaping init, as docker without --init);
//   - for exec, a helper that joins the namespaces from a cgo constructor
//     before the Go runtime starts threads, and the init's root when the
//     container was not entered by pivot_root (see nsenter.go).
//
// A container's directory, <root>/containers/<id>, holds state.json,
// upper/, work/, the log (once there is output) and the attach socket; its
// flock is the container's lock. Inside the container's mount namespace
// only, a scratch tmpfs covers it with the root's mount point and the
// /etc files (scratch.go), so nothing is left mounted on the host. The
// monitors share <root>/containers/monitor.log. Cgroups live under
// minidocker/<id> in each hierarchy. Volumes of the store live beside the
// containers, as docker's: <root>/volumes/<name>/_data (volumes.go).
package engine
