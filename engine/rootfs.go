package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"minidocker/internal/human"
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

// RootEntry is how a container's process enters its root file system.
type RootEntry string

// The ways into a container's root.
const (
	// RootPivot is pivot_root(2) with the old root detached: nothing of
	// the host stays mounted in the container's namespace.
	RootPivot RootEntry = ""
	// RootNoPivot is runc's --no-pivot: the root is moved over "/"
	// (MS_MOVE) and chroot(2)'ed into. The host's root stays mounted
	// beneath it in the namespace, where a process with CAP_SYS_ADMIN
	// can get at it; ".." does not lead there (see moveInto).
	RootNoPivot RootEntry = "no-pivot"
	// RootChroot is chroot(2) alone into the root where the engine
	// mounted it, below the host's tree: a chroot jail, which a process
	// with CAP_SYS_CHROOT (docker's default set has it) leaves by ".."
	// (chroot(2), NOTES). For the pivot_root lesson only.
	RootChroot RootEntry = "chroot"
)

// RootEntries are the ways into a root, as Spec.Root and the lessons
// spell them; RootPivot is also spelt "pivot_root".
var RootEntries = []RootEntry{RootPivot, RootNoPivot, RootChroot}

// ParseRootEntry reads a way into a root: pivot_root (or ""), no-pivot or
// chroot.
func ParseRootEntry(s string) (RootEntry, error) {
	switch RootEntry(s) {
	case "pivot_root", RootPivot:
		return RootPivot, nil
	case RootNoPivot, RootChroot:
		return RootEntry(s), nil
	}
	return "", fmt.Errorf(`%w: root entry "%s": want pivot_root, no-pivot or chroot`, ErrInvalid, human.Visible(s))
}

// String returns the system call the entry is named after.
func (r RootEntry) String() string {
	if r == RootPivot {
		return "pivot_root"
	}
	return string(r)
}

// enterRoot makes rootfs the root of the container's processes, the way
// how says.
func enterRoot(rootfs string, how RootEntry) error {
	switch how {
	case RootNoPivot:
		return moveInto(rootfs)
	case RootChroot:
		return chrootInto(rootfs)
	}
	return pivotInto(rootfs)
}

// moveInto is RootNoPivot, libcontainer's msMoveRoot (runc's --no-pivot
// today also detaches what it can of the host's mounts outside the root;
// this does not). The mount is moved over "/" (mount(2), MS_MOVE), which
// changes nothing for a process whose root is the old one: a path walk
// starts at the root's own dentry and does not cross what is mounted on
// it. Hence chroot(".") from inside the moved mount, where the chdir left
// this process. The host's root stays mounted beneath, in this
// namespace. ".." does not lead to it: the kernel takes ".." of a mount's
// root to the mount point in its parent, and skips a mount point that is
// its parent's own root (a mount on "/"), so the walk stops at the moved
// mount, up to the namespace's first mount. A process with CAP_SYS_ADMIN,
// though, can unmount or move what hides it. pivot_root(2) refuses a
// root on the initial ramdisk, where this works.
func moveInto(rootfs string) error {
	if err := chdir(rootfs); err != nil {
		return err
	}
	if err := mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return err
	}
	return chrootHere()
}

// chrootInto is RootChroot: chroot(2) into rootfs where it is mounted,
// a directory deep in the host's tree, as a chroot jail is made. The
// kernel stops ".." at a process's root only when the walk passes
// through it; a process whose working directory is outside its root (it
// chroot()ed again, into a subdirectory, without entering it) climbs
// ".." past the overlay's mount to the mount point in the scratch tmpfs,
// and on to the host's root: chroot(2), NOTES.
func chrootInto(rootfs string) error {
	if err := chdir(rootfs); err != nil {
		return err
	}
	return chrootHere()
}

// chrootHere makes "." the process's root and enters it.
func chrootHere() error {
	if err := chroot("."); err != nil {
		return err
	}
	return chdir("/")
}
