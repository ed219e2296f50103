package overlay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Namespace is a mount namespace of the host, seen through one of its
// processes.
type Namespace struct {
	// Inode identifies the namespace: the N of "mnt:[N]" (namespaces(7)).
	Inode uint64
	// Pid is the process whose mount table is read: the lowest pid in the
	// namespace, most often its first process (a container's init).
	Pid int
}

// String is the namespace as readlink(2) of /proc/PID/ns/mnt prints it.
func (n Namespace) String() string { return fmt.Sprintf("mnt:[%d]", n.Inode) }

// Namespaces lists the mount namespaces of the processes under proc (the
// proc filesystem's mount point, "/proc"), one entry per namespace, ordered
// by pid. A process the caller may not inspect (another user's, without
// root) or that ends while the list is read is left out: it proves nothing
// about the others.
func Namespaces(proc string) ([]Namespace, error) {
	ents, err := os.ReadDir(proc)
	if err != nil {
		return nil, fmt.Errorf("list mount namespaces: %w", err)
	}
	byInode := map[uint64]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		ino, err := nsInode(filepath.Join(proc, e.Name(), "ns", "mnt"))
		if err != nil {
			continue
		}
		if p, ok := byInode[ino]; !ok || pid < p {
			byInode[ino] = pid
		}
	}
	out := make([]Namespace, 0, len(byInode))
	for ino, pid := range byInode {
		out = append(out, Namespace{Inode: ino, Pid: pid})
	}
	slices.SortFunc(out, func(a, b Namespace) int { return a.Pid - b.Pid })
	return out, nil
}

// ProcessNamespace is the mount namespace of the process pid under proc.
func ProcessNamespace(proc string, pid int) (Namespace, error) {
	ino, err := nsInode(filepath.Join(proc, strconv.Itoa(pid), "ns", "mnt"))
	if err != nil {
		return Namespace{}, fmt.Errorf("mount namespace of pid %d: %w", pid, err)
	}
	return Namespace{Inode: ino, Pid: pid}, nil
}

// nsInode is the inode of the namespace file p: stat(2) follows the
// magic link to the namespace's own inode in nsfs.
func nsInode(p string) (uint64, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("stat %s: no inode", p)
	}
	return st.Ino, nil
}

// HostMount is an overlay mount of one of the host's mount namespaces.
type HostMount struct {
	Mount
	// Namespace is the namespace whose table lists the mount.
	Namespace Namespace
	// Own reports whether that namespace is the caller's.
	Own bool
	// Proc is the proc mount the table was read from ("/proc").
	Proc string
}

// Path is where the caller reaches the mount: its point in the caller's own
// namespace, else the point under the root of the namespace's process
// (/proc/PID/root/POINT, proc(5)), which the kernel resolves in that
// namespace. A mount table of /proc/PID lists points relative to that
// process's root, so the join is exact even in a container after
// pivot_root.
func (m HostMount) Path() string {
	if m.Own {
		return m.Point
	}
	return filepath.Join(m.Proc, strconv.Itoa(m.Namespace.Pid), "root", m.Point)
}

// HostMounts lists the overlay mounts of every mount namespace of the host,
// reading one mount table per namespace: the caller's own first, then one
// process's of each other namespace (Namespaces). A mount seen in several
// namespaces (a namespace starts with a copy of its parent's mounts;
// shared mounts propagate) is listed once, from the first table that shows
// its superblock: the caller's when it is there.
func HostMounts(proc string) ([]HostMount, error) {
	own, err := nsInode(filepath.Join(proc, "thread-self", "ns", "mnt"))
	if err != nil {
		return nil, fmt.Errorf("list overlay mounts: %w", err)
	}
	nss, err := Namespaces(proc)
	if err != nil {
		return nil, err
	}
	// The caller's table is its thread's: the main thread may sit in
	// another namespace (a goroutine locked to a thread that unshared).
	tables := []Namespace{{Inode: own, Pid: os.Getpid()}}
	for _, ns := range nss {
		if ns.Inode != own {
			tables = append(tables, ns)
		}
	}
	var out []HostMount
	seen := map[string]bool{}
	for i, ns := range tables {
		file := filepath.Join(proc, strconv.Itoa(ns.Pid), "mountinfo")
		if i == 0 {
			file = filepath.Join(proc, "thread-self", "mountinfo")
		}
		ms, err := readOverlays(file)
		if i == 0 && err != nil {
			return nil, fmt.Errorf("list overlay mounts: %w", err)
		}
		if err != nil {
			continue // the namespace's process ended, or is not ours to read
		}
		for _, m := range ms {
			key := m.Dev + " " + m.Root
			if i > 0 && seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, HostMount{Mount: m, Namespace: ns, Own: i == 0, Proc: proc})
		}
	}
	return out, nil
}

// readOverlays reads the overlay mounts of one mount table.
func readOverlays(file string) ([]Mount, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, err := ParseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return slices.DeleteFunc(all, func(m Mount) bool { return !m.IsOverlay() }), nil
}

// LayerDir resolves a layer directory given as a short link, as the
// overlay drivers of podman (containers/storage), docker (overlay2) and
// minidocker's store name lower layers to keep the mount options under a
// page: DIR/l/SHORT → DIR/LAYER/diff, or DIR/layers/LAYER/diff. Any other
// path, or a link that cannot be read, is returned as it is.
func LayerDir(p string) string {
	if filepath.Base(filepath.Dir(p)) != "l" {
		return p
	}
	target, err := os.Readlink(p)
	if err != nil {
		return p
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(p), target)
	}
	return filepath.Clean(target)
}

// ErrNotReadable marks a layer directory a mount names in a form only its
// mounter can use: a file descriptor of the mounting process
// (/proc/self/fd/N, as the new mount API lets one pass a directory), or a
// path relative to the directory the mounter worked in.
var ErrNotReadable = errors.New("layer directory known only to the mounting process")

// CheckReadable refuses a layer path that would name something else when
// the caller reads it: its own file descriptor, its own working directory.
// "" (no such layer) is accepted.
func CheckReadable(p string) error {
	switch {
	case p == "":
		return nil
	case !filepath.IsAbs(p):
		return fmt.Errorf("%w: %q is relative", ErrNotReadable, p)
	case strings.HasPrefix(p, "/proc/self/") || strings.HasPrefix(p, "/proc/thread-self/"):
		return fmt.Errorf("%w: %s", ErrNotReadable, p)
	}
	return nil
}
