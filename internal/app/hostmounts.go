package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"minidocker/engine"
	"minidocker/overlay"
)

// HostRoots are the host paths the mount listing reads: the proc mount and
// the stores of podman and docker, whose metadata name the owners of their
// overlays. An empty field takes its default.
type HostRoots struct {
	Proc   string // "/proc"
	Podman string // containers/storage's graph root, "/var/lib/containers/storage"
	Docker string // docker's data root, "/var/lib/docker"
}

func (r HostRoots) withDefaults() HostRoots {
	if r.Proc == "" {
		r.Proc = "/proc"
	}
	if r.Podman == "" {
		r.Podman = "/var/lib/containers/storage"
	}
	if r.Docker == "" {
		r.Docker = "/var/lib/docker"
	}
	return r
}

// Owner is who made an overlay mount, as far as the stores tell.
type Owner struct {
	Engine    string // "minidocker", "podman", "docker"; "" when unknown
	Container string // its name; "" for an image mounted on its own
	ID        string // the container's ID
	Image     string
	// Process names a process of the mount's namespace when no store
	// knows the mount: "sleep (pid 7635)".
	Process string
}

// String is the owner in a few words: "podman container web
// (alpine:3)", "podman image alpine:3", "process sleep (pid 7)", or "".
func (o Owner) String() string {
	switch {
	case o.Engine != "" && o.Container != "":
		s := o.Engine + " container " + o.Container
		if o.Image != "" {
			s += " (" + o.Image + ")"
		}
		return s
	case o.Engine != "" && o.Image != "":
		return o.Engine + " image " + o.Image
	case o.Process != "":
		return "process " + o.Process
	}
	return ""
}

// HostMount is an overlay mount of the host with its owner. Its Lower are
// the layer directories themselves (short links resolved, relative paths
// made absolute); Upper and Work, when the mount names them by a file
// descriptor of its mounter, are the container's from its engine's state.
type HostMount struct {
	overlay.HostMount
	Owner Owner
	// Layers are the IDs of the lower layers in their store, top first as
	// Lower lists them: the directory's name above "diff", as podman,
	// docker and minidocker lay layers out; "" when the directory is not
	// a store's.
	Layers []string
	// DiffIDs are the digests of the lower layers' content where their
	// store records them (podman's layers.json, docker's layer database):
	// the names docker, podman and minidocker's image views give layers.
	DiffIDs []string
}

// HostMounts lists the overlay mounts of every mount namespace of the
// host with their owners.
func (a *App) HostMounts() ([]HostMount, error) { return a.hostMounts(HostRoots{}) }

func (a *App) hostMounts(r HostRoots) ([]HostMount, error) {
	r = r.withDefaults()
	ms, err := overlay.HostMounts(r.Proc)
	if err != nil {
		return nil, err
	}
	o := owners{proc: r.Proc, containers: a.runningByNamespace(r.Proc)}
	for _, s := range []*hostStore{readPodman(r.Podman), readDocker(r.Docker)} {
		if s != nil {
			o.stores = append(o.stores, s)
		}
	}
	out := make([]HostMount, len(ms))
	for i, m := range ms {
		out[i] = o.name(m)
	}
	return out, nil
}

// runningByNamespace maps the mount namespaces of this store's running
// containers to their states. Without an engine (no root, no store) it is
// empty: their mounts are then named by their processes.
func (a *App) runningByNamespace(proc string) map[uint64]engine.State {
	out := map[uint64]engine.State{}
	if a.Root == "" || !ownsStore(a.Root) {
		return out
	}
	e, err := engine.Open(engine.Options{Root: a.Root})
	if err != nil {
		return out
	}
	all, err := e.List()
	if err != nil {
		return out
	}
	for _, st := range all {
		if st.Status != engine.Running || st.Pid <= 0 {
			continue
		}
		if ns, err := overlay.ProcessNamespace(proc, st.Pid); err == nil {
			out[ns.Inode] = st
		}
	}
	return out
}

// owners names mounts from what the engines know.
type owners struct {
	proc       string
	containers map[uint64]engine.State
	stores     []*hostStore
}

func (o owners) name(m overlay.HostMount) HostMount {
	h := HostMount{HostMount: m}
	h.Lower = make([]string, len(m.Lower))
	h.Layers = make([]string, len(m.Lower))
	h.DiffIDs = make([]string, len(m.Lower))
	for i, l := range m.Lower {
		h.Lower[i] = overlay.LayerDir(o.absolute(m.Mount, l))
		h.Layers[i] = layerID(h.Lower[i])
		for _, s := range o.stores {
			if l, ok := s.Layers[s.layerID(h.Lower[i])]; ok {
				h.DiffIDs[i] = l.DiffID
			}
		}
	}
	h.Upper = o.absolute(m.Mount, m.Upper)
	h.Work = o.absolute(m.Mount, m.Work)
	if st, ok := o.containers[m.Namespace.Inode]; ok && !m.Own && m.Point == "/" {
		h.Owner = Owner{Engine: "minidocker", Container: st.Name(), ID: st.ID, Image: st.Spec.Image}
		if fdPath(h.Upper) {
			h.Upper, h.Work = st.Rootfs.Upper, st.Rootfs.Work
		}
		return h
	}
	for _, s := range o.stores {
		if c, ok := s.Containers[s.layerID(h.Upper)]; ok && h.Upper != "" {
			h.Owner = Owner{Engine: s.Engine, Container: c.Name, ID: c.ID, Image: c.Image}
			return h
		}
		if len(h.Lower) > 0 && h.Upper == "" {
			if img, ok := s.Images[s.layerID(h.Lower[0])]; ok {
				h.Owner = Owner{Engine: s.Engine, Image: img}
				return h
			}
		}
	}
	if !m.Own {
		h.Owner = Owner{Process: processName(o.proc, m.Namespace.Pid)}
	}
	return h
}

// absolute makes a layer path of m absolute. containers/storage and
// docker mount from inside their driver's directory with relative layer
// paths ("l/ABC") when absolute ones would not fit in mount(2)'s page:
// those are relative to the directory above the mount's own
// (HOME/ID/merged → HOME).
func (o owners) absolute(m overlay.Mount, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	for _, s := range o.stores {
		if rel, err := filepath.Rel(s.Home, m.Point); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join(s.Home, p)
		}
	}
	return p
}

// layerID is the ID of a store's layer directory, ID/diff, else "".
func layerID(dir string) string {
	if filepath.Base(dir) != "diff" {
		return ""
	}
	id := filepath.Base(filepath.Dir(dir))
	if !validStoreID(id) {
		return ""
	}
	return id
}

// fdPath reports whether p names a file descriptor of the process that
// mounted: the engine passes its upper directory to fsconfig(2) that way.
func fdPath(p string) bool {
	return strings.HasPrefix(p, "/proc/self/fd/") || strings.HasPrefix(p, "/proc/thread-self/fd/")
}

// processName is "comm (pid N)" of a process, or "pid N" once it is gone.
func processName(proc string, pid int) string {
	comm := readLine(filepath.Join(proc, strconv.Itoa(pid), "comm"))
	if comm == "" {
		return "pid " + strconv.Itoa(pid)
	}
	return comm + " (pid " + strconv.Itoa(pid) + ")"
}

// WatchHostMounts tells when the host's overlay mounts may have changed,
// until ctx ends: at once for a mount or unmount in the caller's own
// namespace (a poll of its mount table, overlay.WatchMountinfo), and
// within every for the other namespaces, whose overlays are listed again
// (without their owners: no store is read) and compared with the last
// list. A namespace's table cannot be polled for long: its process may
// end and a new namespace appear at any time.
func WatchHostMounts(ctx context.Context, every time.Duration) (<-chan struct{}, error) {
	own, err := overlay.WatchMountinfo(ctx, "/proc/thread-self/mountinfo")
	if err != nil {
		return nil, err
	}
	out := make(chan struct{}, 1)
	go func() {
		defer close(out)
		tick := time.NewTicker(every)
		defer tick.Stop()
		last := mountsSignature()
		for {
			select {
			case _, ok := <-own:
				if !ok {
					return
				}
			case <-tick.C:
				sig := mountsSignature()
				if sig == last {
					continue
				}
				last = sig
			}
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out, nil
}

// mountsSignature identifies the host's overlay mounts: their IDs and
// namespaces. Mount IDs are not reused while a mount lives, so a new
// list with the same signature is the same list.
func mountsSignature() string {
	ms, err := overlay.HostMounts("/proc")
	if err != nil {
		return "error: " + err.Error()
	}
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = strconv.FormatUint(m.Namespace.Inode, 10) + ":" + strconv.Itoa(m.ID)
	}
	slices.Sort(keys)
	return strings.Join(keys, " ")
}

// ownsStore reports whether the store directory root exists and is this
// user's: listing mounts neither makes a store nor trips on root's.
func ownsStore(root string) bool {
	fi, err := os.Stat(root)
	return err == nil && statOwner(fi) == os.Geteuid()
}
