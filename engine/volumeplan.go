package engine

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// Volume is one mount a container asks for besides its root: a host path
// (Type bind), a volume of the store, named or anonymous (Type volume), or
// a fresh tmpfs (Type tmpfs). An empty Type is a bind, as in the state of
// containers made before the types.
type Volume struct {
	Type string `json:"type,omitempty"`
	// Source is a bind's host path; for a volume of the store, its data
	// directory, filled in when the container is created.
	Source   string `json:"source,omitempty"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readonly,omitempty"`
	// File is set when a bind's Source is not a directory.
	File bool `json:"file,omitempty"`
	// Name is a store volume's name; an anonymous volume gets a random
	// one when the container is created.
	Name      string `json:"name,omitempty"`
	Anonymous bool   `json:"anonymous,omitempty"`
	// NoCopy keeps a new volume empty instead of seeding it with the
	// image's files at Target.
	NoCopy bool `json:"nocopy,omitempty"`
	// Propagation is a bind's: rprivate (the default), private, rslave,
	// slave, rshared or shared.
	Propagation string `json:"propagation,omitempty"`
	// Label is docker's SELinux relabelling: z (shared) or Z (private).
	Label string `json:"label,omitempty"`
	// Options are a tmpfs's mount options, docker's defaults first.
	Options []string `json:"options,omitempty"`
	// Seed is set by Create on a store volume that is empty then (and not
	// NoCopy): the init copies the image's files at Target into it.
	Seed bool `json:"seed,omitempty"`
}

// Mode is the volume's options as docker's inspect shows them, "ro,z" or
// "" for the defaults.
func (v Volume) Mode() string {
	var m []string
	if v.ReadOnly {
		m = append(m, "ro")
	}
	if v.Label != "" {
		m = append(m, v.Label)
	}
	if v.Propagation != "" {
		m = append(m, v.Propagation)
	}
	if v.NoCopy {
		m = append(m, "nocopy")
	}
	if v.Type == TypeTmpfs {
		m = v.Options
	}
	return strings.Join(m, ",")
}

// kind is v.Type with the empty type read as a bind.
func (v Volume) kind() string {
	if v.Type == "" {
		return TypeBind
	}
	return v.Type
}

// propagationFlags are the mount(2) flags of each propagation.
var propagationFlags = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
}

// tmpfsFlags are the tmpfs options that are mount(2) flags: the flag, and
// whether the option clears it.
var tmpfsFlags = map[string]struct {
	flag  uintptr
	clear bool
}{
	"ro": {unix.MS_RDONLY, false}, "rw": {unix.MS_RDONLY, true},
	"nosuid": {unix.MS_NOSUID, false}, "suid": {unix.MS_NOSUID, true},
	"nodev": {unix.MS_NODEV, false}, "dev": {unix.MS_NODEV, true},
	"noexec": {unix.MS_NOEXEC, false}, "exec": {unix.MS_NOEXEC, true},
	"sync": {unix.MS_SYNCHRONOUS, false}, "async": {unix.MS_SYNCHRONOUS, true},
	"dirsync": {unix.MS_DIRSYNC, false},
	"atime":   {unix.MS_NOATIME, true}, "noatime": {unix.MS_NOATIME, false},
	"diratime": {unix.MS_NODIRATIME, true}, "nodiratime": {unix.MS_NODIRATIME, false},
	"relatime": {unix.MS_RELATIME, false}, "norelatime": {unix.MS_RELATIME, true},
	"strictatime": {unix.MS_STRICTATIME, false}, "nostrictatime": {unix.MS_STRICTATIME, true},
}

// tmpfsData are the tmpfs options passed to the file system as data.
var tmpfsData = []string{"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"}

// mergeTmpfsOptions checks a tmpfs's options and keeps the last of each
// kind (one flag and its opposite are one kind, as are the propagations),
// in their order, as docker does.
func mergeTmpfsOptions(opts []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, o := range slices.Backward(opts) {
		var kind string
		if f, ok := tmpfsFlags[o]; ok {
			kind = fmt.Sprint("flag", f.flag)
		} else if _, ok := propagationFlags[o]; ok {
			kind = "propagation"
		} else if k, _, ok := strings.Cut(o, "="); ok && slices.Contains(tmpfsData, k) {
			kind = k
		} else if o != "defaults" {
			k, _, _ := strings.Cut(o, "=")
			return nil, fmt.Errorf("invalid tmpfs option %q", human.Visible(k))
		}
		if kind == "" || seen[kind] {
			continue
		}
		seen[kind] = true
		out = append(out, o)
	}
	slices.Reverse(out)
	return out, nil
}

// tmpfsMount turns a tmpfs's options into its mount.
func tmpfsMount(v Volume) Mount {
	m := Mount{Source: "tmpfs", Target: v.Target, FSType: "tmpfs"}
	var data []string
	for _, o := range v.Options {
		if f, ok := tmpfsFlags[o]; ok {
			if f.clear {
				m.Flags &^= f.flag
			} else {
				m.Flags |= f.flag
			}
		} else if p, ok := propagationFlags[o]; ok {
			m.Propagation = p
		} else if o != "defaults" {
			data = append(data, o)
		}
	}
	m.Data = strings.Join(data, ",")
	return m
}

// volumeMounts are the mounts of a container's volumes, parents before
// what is mounted inside them (docker sorts them so too).
func volumeMounts(vols []Volume) []Mount {
	sorted := slices.Clone(vols)
	slices.SortStableFunc(sorted, func(a, b Volume) int {
		return strings.Count(a.Target, "/") - strings.Count(b.Target, "/")
	})
	var ms []Mount
	for _, v := range sorted {
		if v.kind() == TypeTmpfs {
			ms = append(ms, tmpfsMount(v))
			continue
		}
		m := Mount{Source: v.Source, Target: v.Target, Flags: unix.MS_BIND | unix.MS_REC, ReadOnly: v.ReadOnly, File: v.File,
			Propagation: propagationFlags[v.Propagation]}
		m.Seed = v.kind() == TypeVolume && v.Seed
		ms = append(ms, m)
	}
	return ms
}

// rootPropagation is what the init makes of every mount it inherits
// before its first mount of its own (mount_namespaces(7)): private, so that
// nothing it mounts is seen outside. A volume that asks to receive the
// host's mounts (slave or shared) needs its host side to stay linked to
// the host's: every mount is a slave then, which still sends nothing back.
func rootPropagation(plan []Mount) uintptr {
	for _, m := range plan {
		if m.Propagation&(unix.MS_SLAVE|unix.MS_SHARED) != 0 {
			return unix.MS_REC | unix.MS_SLAVE
		}
	}
	return unix.MS_REC | unix.MS_PRIVATE
}

// ErrDuplicateMount is two volumes at one target.
var ErrDuplicateMount = errors.New("duplicate mount point")

// checkVolumes checks the volumes of a spec being created, each already
// parsed, and fills in what the host tells: whether a bind's source is a
// file. Store volumes are resolved by Create.
func checkVolumes(vols []Volume) error {
	seen := map[string]bool{}
	for i := range vols {
		v := &vols[i]
		if reason := v.check(); reason != "" {
			return specError{fmt.Sprintf("volume %s: %s", human.Visible(v.Target), reason)}
		}
		v.clean()
		if seen[v.Target] {
			return fmt.Errorf("%w: Duplicate mount point: %s", ErrInvalid, human.Visible(v.Target))
		}
		seen[v.Target] = true
		if v.kind() != TypeBind {
			continue
		}
		fi, err := os.Stat(v.Source)
		if err != nil {
			return fmt.Errorf("%w: invalid mount config for type \"bind\": bind source path does not exist: %s", ErrInvalid, human.Visible(v.Source))
		}
		v.File = !fi.IsDir()
	}
	return nil
}
