package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"minidocker/overlay"
)

// Mount is one step of a container's root filesystem setup, as data: the
// plan is built in plain code and tested, then performed by setupRootfs.
// Target is a path inside the container.
type Mount struct {
	Source string  `json:"source,omitempty"`
	Target string  `json:"target"`
	FSType string  `json:"fstype,omitempty"`
	Flags  uintptr `json:"flags,omitempty"`
	Data   string  `json:"data,omitempty"`
	// ReadOnly remounts a bind mount read-only: MS_RDONLY on the first
	// bind is ignored by the kernel.
	ReadOnly bool `json:"readonly,omitempty"`
	// Mask hides Target: /dev/null over a file, an empty read-only tmpfs
	// over a directory. A target the kernel lacks is skipped.
	Mask bool `json:"mask,omitempty"`
	// Optional skips a target that does not exist instead of creating it.
	Optional bool `json:"optional,omitempty"`
	// IfMissing mounts only over a target the image does not have: the
	// engine's /etc/hosts, for an image without one. The image's layers
	// decide, not the merged view: that holds, from the first start on,
	// the mount point the engine made in the upper directory.
	IfMissing bool `json:"if_missing,omitempty"`
	// File makes a missing target an empty file rather than a directory.
	File bool `json:"file,omitempty"`
	// Content, when set, is written to Source, a file of the scratch
	// tmpfs over the container's directory, before the mounts.
	Content string `json:"content,omitempty"`
	// Propagation is set on Target once mounted (MS_SHARED, MS_SLAVE,
	// MS_PRIVATE, with MS_REC or not).
	Propagation uintptr `json:"propagation,omitempty"`
	// Dev makes /dev's nodes and links in the tmpfs just mounted: only
	// ever the container's own, never a directory bound from the host.
	Dev bool `json:"dev,omitempty"`
	// Seed copies what the image has at Target into Source, a volume's
	// directory, when that is still empty, before the bind.
	Seed bool `json:"seed,omitempty"`
}

// device is a node created in the container's /dev.
type device struct {
	Path         string
	Major, Minor uint32
}

// devices are the only nodes in a container's /dev, as docker has them.
var devices = []device{
	{"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
	{"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
}

// devLinks are the symbolic links of a container's /dev, link to target.
var devLinks = [][2]string{
	{"/dev/fd", "/proc/self/fd"}, {"/dev/stdin", "/proc/self/fd/0"},
	{"/dev/stdout", "/proc/self/fd/1"}, {"/dev/stderr", "/proc/self/fd/2"},
	{"/dev/ptmx", "pts/ptmx"},
}

var (
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	maskedPaths   = []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/latency_stats",
		"/proc/sched_debug", "/proc/scsi", "/proc/acpi", "/sys/firmware"}
)

// rootfsPlan is the list of mounts that make a container's /proc, /sys,
// /dev, its /etc/hostname and /etc/resolv.conf (files of the scratch over
// dir, the container's directory, with the contents given by name) and
// volumes, in order, on top of its overlay root.
func rootfsPlan(dir string, vols []Volume, etc map[string]string, ownHosts bool) []Mount {
	const nsd = unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV
	ms := []Mount{{Source: "proc", Target: "/proc", FSType: "proc", Flags: nsd}}
	for _, p := range readonlyPaths {
		// No source: a bind of the container's own path onto itself.
		ms = append(ms, Mount{Target: p, Flags: unix.MS_BIND | unix.MS_REC, ReadOnly: true, Optional: true})
	}
	ms = append(ms, Mount{Source: "sysfs", Target: "/sys", FSType: "sysfs", Flags: nsd | unix.MS_RDONLY})
	for _, p := range maskedPaths {
		ms = append(ms, Mount{Target: p, Mask: true, Optional: true})
	}
	ms = append(ms,
		Mount{Source: "tmpfs", Target: "/dev", FSType: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k", Dev: true},
		Mount{Source: "devpts", Target: "/dev/pts", FSType: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC,
			Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		Mount{Source: "shm", Target: "/dev/shm", FSType: "tmpfs", Flags: nsd, Data: "mode=1777,size=65536k"},
		Mount{Source: "mqueue", Target: "/dev/mqueue", FSType: "mqueue", Flags: nsd},
	)
	ms = append(ms, etcMounts(dir, vols, etc, ownHosts)...)
	return append(ms, volumeMounts(vols)...)
}

// privilegedPlan is plan for a privileged container, as docker has it:
// /proc's paths neither masked nor read-only, /sys writable.
func privilegedPlan(plan []Mount) []Mount {
	var out []Mount
	for _, m := range plan {
		switch {
		case m.Target == "/sys" && m.FSType == "sysfs":
			m.Flags &^= unix.MS_RDONLY
		case m.Mask || m.ReadOnly && slices.Contains(readonlyPaths, m.Target):
			continue
		}
		out = append(out, m)
	}
	return out
}

// ErrProcSymlink is returned for an image whose /proc is a symbolic link,
// which could send the proc mount anywhere.
var ErrProcSymlink = errors.New("image's /proc is a symbolic link")

// setupRootfs performs plan under rootfs, the mount of layers, each target
// resolved inside it so that a symbolic link in the image cannot send a
// mount to the host. /dev's nodes and links are made right after its tmpfs
// (Mount.Dev), a volume is seeded from the image before it covers it
// (Mount.Seed), a target the image has is left alone (Mount.IfMissing).
func setupRootfs(rootfs string, layers Overlay, plan []Mount) error {
	if fi, err := os.Lstat(filepath.Join(rootfs, "proc")); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return ErrProcSymlink
	}
	for _, m := range plan {
		target, err := securejoin.SecureJoin(rootfs, m.Target)
		if err != nil {
			return fmt.Errorf("resolve %s in rootfs: %w", m.Target, err)
		}
		fi, err := os.Stat(target)
		if m.IfMissing {
			has, herr := imageHas(rootfs, layers, target, err == nil)
			if herr != nil {
				return herr
			}
			if has {
				continue
			}
		}
		switch {
		case err != nil && m.Optional:
			continue
		case err != nil:
			if err := makeTarget(target, m); err != nil {
				return err
			}
		case m.Mask:
			if err := mask(target, fi.IsDir()); err != nil {
				return err
			}
			continue
		}
		if m.Seed {
			if err := seedVolume(target, m.Source); err != nil {
				return err
			}
		}
		src := m.Source
		if src == "" {
			src = target
		}
		if err := mount(src, target, m.FSType, m.Flags, m.Data); err != nil {
			return err
		}
		if m.ReadOnly {
			if err := readonly(target, m.Flags); err != nil {
				return err
			}
		}
		if m.Propagation != 0 {
			if err := mount("", target, "", m.Propagation, ""); err != nil {
				return err
			}
		}
		if m.Dev {
			if err := populateDev(target); err != nil {
				return err
			}
		}
	}
	return nil
}

// imageHas reports whether the image's layers show target, a path under
// rootfs with its links resolved, that the merged view shows or not
// (merged). With nothing at target in the upper directory, the merged view
// is the layers'; otherwise the layers are asked, as State.engineMade does:
// a mount point left there by an earlier start is no file of the image's.
func imageHas(rootfs string, layers Overlay, target string, merged bool) (bool, error) {
	rel, err := filepath.Rel(rootfs, target)
	if err != nil {
		return false, fmt.Errorf("resolve %s in rootfs: %w", target, err)
	}
	c, inUpper, err := overlay.ChangeAt(layers.Upper, layers.Lower, rel)
	if err != nil {
		return false, fmt.Errorf("look up /%s in the image: %w", rel, err)
	}
	if !inUpper {
		return merged, nil
	}
	return c.Lower >= 0, nil
}

// readonly makes a bind mount read-only. mount(2): a bind takes MS_RDONLY
// only on a remount, and that reaches the top mount alone; a recursive bind
// (a volume whose host directory holds other mounts) needs mount_setattr(2)
// to be read-only all the way down. The remount is the fallback for
// kernels before 5.12.
func readonly(target string, flags uintptr) error {
	if flags&unix.MS_REC != 0 {
		err := readonlyTree(target)
		if !errors.Is(err, unix.ENOSYS) {
			return err
		}
	}
	return mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|flags&^unix.MS_REC, "")
}

// makeTarget creates a missing mount point, and gives the directory it
// is made in its times back, so that docker diff does not count a mount
// point's parent as changed.
func makeTarget(target string, m Mount) error {
	parent := filepath.Dir(target)
	var st unix.Stat_t
	if unix.Lstat(parent, &st) == nil {
		defer unix.UtimesNanoAt(unix.AT_FDCWD, parent, []unix.Timespec{st.Atim, st.Mtim}, unix.AT_SYMLINK_NOFOLLOW)
	}
	dir := target
	if m.File {
		dir = filepath.Dir(target)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create mount point %s: %w", m.Target, err)
	}
	if m.File {
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("create mount point %s: %w", m.Target, err)
		}
		return f.Close()
	}
	return nil
}

func mask(target string, dir bool) error {
	if dir {
		return mount("tmpfs", target, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0")
	}
	return mount("/dev/null", target, "", unix.MS_BIND, "")
}

// populateDev makes the allowed device nodes and the links in a fresh /dev.
func populateDev(dev string) error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range devices {
		if err := mknod(filepath.Join(dev, filepath.Base(d.Path)), unix.S_IFCHR|0o666, d.Major, d.Minor); err != nil {
			return err
		}
	}
	for _, l := range devLinks {
		if err := os.Symlink(l[1], filepath.Join(dev, filepath.Base(l[0]))); err != nil {
			return fmt.Errorf("symlink %s: %w", l[0], err)
		}
	}
	return nil
}

// pivotInto makes rootfs the root of the mount namespace and drops every
// path to the host. The order follows pivot_root(2), "pivot_root(".", ".")":
// stack the old root under the new one, make it a slave so that unmounting
// it cannot propagate to the host, detach it, and only then leave ".".
// After the pivot, "." is still the new root to a lookup (the old root is
// stacked on it, not entered), so the process first steps into the old
// root by a descriptor opened before, as runc does: a recursive change
// of "." would otherwise turn the container's own shared volumes into
// slaves.
func pivotInto(rootfs string) error {
	old, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the old root: %w", err)
	}
	defer unix.Close(old)
	if err := chdir(rootfs); err != nil {
		return err
	}
	if err := pivotRoot(".", "."); err != nil {
		return err
	}
	if err := unix.Fchdir(old); err != nil {
		return fmt.Errorf("fchdir to the old root: %w", err)
	}
	if err := mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return err
	}
	if err := unmount(".", unix.MNT_DETACH); err != nil {
		return err
	}
	return chdir("/")
}
