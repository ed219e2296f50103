package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// overlayOptions are the options every container root is mounted with: no
// inode index, no redirect following and no metacopy, so that an upper dir is
// a plain directory tree that can be read back as a layer.
var overlayOptions = [][2]string{{"index", "off"}, {"redirect_dir", "nofollow"}, {"metacopy", "off"}}

// Overlay is an overlay mount: lower layers bottom first, as the image
// lists them, plus the container's upper and work directories.
type Overlay struct {
	Lower  []string `json:"lower"`
	Upper  string   `json:"upper"`
	Work   string   `json:"work"`
	Target string   `json:"target"`
	// Volatile skips the sync of the upper dir, on every fsync and at
	// unmount: for containers removed when they exit, whose upper dir
	// never needs to survive a crash.
	Volatile bool `json:"volatile,omitempty"`
}

// mountOverlay mounts o with the new mount API, one "lowerdir+" per layer,
// which has no limit on the number of layers. Kernels before 6.8 lack
// "lowerdir+"; there it falls back to mount(2) with relative paths.
func mountOverlay(o Overlay) error {
	if len(o.Lower) == 0 {
		return errors.New("mount overlay: no layers")
	}
	err := mountOverlayFsopen(o)
	if errors.Is(err, errNoNewMountAPI) {
		return mountOverlayLegacy(o)
	}
	return err
}

var errNoNewMountAPI = errors.New("new mount API or lowerdir+ unavailable")

// mountOverlayFsopen follows fsopen(2), fsconfig(2), fsmount(2) and
// move_mount(2): configure a superblock, create it, turn it into a detached
// mount and move that onto the target. Layers go top first, as in lowerdir=.
func mountOverlayFsopen(o Overlay) error {
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			return errNoNewMountAPI
		}
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fd)
	set := func(key, value string) error {
		if err := unix.FsconfigSetString(fd, key, value); err != nil {
			return fmt.Errorf("fsconfig overlay %s=%s: %w", key, value, err)
		}
		return nil
	}
	if err := set("source", "overlay"); err != nil {
		return err
	}
	for i := len(o.Lower) - 1; i >= 0; i-- {
		if err := set("lowerdir+", o.Lower[i]); err != nil {
			if i == len(o.Lower)-1 && errors.Is(err, unix.EINVAL) {
				return errNoNewMountAPI
			}
			return err
		}
	}
	if err := set("upperdir", o.Upper); err != nil {
		return err
	}
	if err := set("workdir", o.Work); err != nil {
		return err
	}
	for _, kv := range overlayOptions {
		if err := set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	if o.Volatile {
		if err := unix.FsconfigSetFlag(fd, "volatile"); err != nil {
			return fmt.Errorf("fsconfig overlay volatile: %w", err)
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return fmt.Errorf("fsconfig overlay create (%d layers): %w", len(o.Lower), err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsmount overlay: %w", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, o.Target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount overlay to %s (MOVE_MOUNT_F_EMPTY_PATH): %w", o.Target, err)
	}
	return nil
}

// mountOverlayLegacy mounts o with mount(2), whose option string is limited
// to one page: it changes into the layers' common parent so that each layer
// costs only its short relative name.
func mountOverlayLegacy(o Overlay) error {
	base := commonDir(o.Lower)
	var lower []string
	for i := len(o.Lower) - 1; i >= 0; i-- {
		rel, err := filepath.Rel(base, o.Lower[i])
		if err != nil {
			return fmt.Errorf("mount overlay: layer %s: %w", o.Lower[i], err)
		}
		lower = append(lower, rel)
	}
	opts := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + o.Upper + ",workdir=" + o.Work
	for _, kv := range overlayOptions {
		opts += "," + kv[0] + "=" + kv[1]
	}
	if o.Volatile {
		opts += ",volatile"
	}
	if len(opts) >= os.Getpagesize() {
		return fmt.Errorf("mount overlay on %s: %d layers need %d bytes of options, more than a page", o.Target, len(o.Lower), len(opts))
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("mount overlay: %w", err)
	}
	if err := chdir(base); err != nil {
		return fmt.Errorf("mount overlay: %w", err)
	}
	mErr := mount("overlay", o.Target, "overlay", 0, opts)
	return errors.Join(mErr, chdir(wd))
}

// commonDir is the longest directory that holds every path of ps.
func commonDir(ps []string) string {
	base := filepath.Dir(ps[0])
	for _, p := range ps[1:] {
		for base != "/" && base != "." && !strings.HasPrefix(p, base+"/") {
			base = filepath.Dir(base)
		}
	}
	return base
}
