package overlay

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Mount mounts s on s.Target, the one place overlay mounts are made: with
// the new mount API, one lowerdir+ per layer, which has no limit on the
// number of layers; on kernels before 6.8, which lack lowerdir+, with
// mount(2) and layer paths relative to their common directory.
func (s Spec) Mount() error {
	p, err := s.Plan()
	if err != nil {
		return err
	}
	err = mountNew(p)
	if errors.Is(err, errNoNewMountAPI) {
		return mountLegacy(p)
	}
	return err
}

var errNoNewMountAPI = errors.New("new mount API or lowerdir+ unavailable")

// mountNew performs p with the new mount API. The order is the API's
// (fsopen(2), fsconfig(2), fsmount(2), move_mount(2)): configure a
// superblock, create it, turn it into a detached mount, and only then
// attach that to the target, so that nothing half-made is ever visible
// there. The options go in p's order, since lowerdir+ appends a layer below
// those already given.
func mountNew(p Plan) error {
	fd, err := unix.Fsopen(p.FSType, unix.FSOPEN_CLOEXEC)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			return errNoNewMountAPI
		}
		return fmt.Errorf("fsopen %s (FSOPEN_CLOEXEC): %w", p.FSType, err)
	}
	defer unix.Close(fd)
	if err := fsconfig(fd, Option{Key: "source", Value: p.Source}); err != nil {
		return err
	}
	for i, o := range p.Options {
		if err := fsconfig(fd, o); err != nil {
			// The first lowerdir+ tells a kernel that does not know it.
			if i == 0 && o.Key == "lowerdir+" && errors.Is(err, unix.EINVAL) {
				return errNoNewMountAPI
			}
			return err
		}
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return fmt.Errorf("fsconfig %s on %s (FSCONFIG_CMD_CREATE): %w", p.FSType, p.Target, err)
	}
	mfd, err := unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsmount %s for %s (FSMOUNT_CLOEXEC): %w", p.FSType, p.Target, err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, p.Target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount %s to %s (MOVE_MOUNT_F_EMPTY_PATH): %w", p.FSType, p.Target, err)
	}
	return nil
}

// fsconfig sets one option on the filesystem context fd.
func fsconfig(fd int, o Option) error {
	var err error
	if o.Flag {
		err = unix.FsconfigSetFlag(fd, o.Key)
	} else {
		err = unix.FsconfigSetString(fd, o.Key, o.Value)
	}
	if err != nil {
		return fmt.Errorf("fsconfig overlay %s: %w", o, err)
	}
	return nil
}

// mountLegacy performs p with mount(2), whose option string is limited to
// one page. The order matters: the relative layer names of p.Data are
// resolved against the working directory when mount(2) runs, so it changes
// into p.Dir first and back afterwards. The working directory belongs to
// every thread that shares the file system information (CLONE_FS), so the
// caller must not rely on it meanwhile.
func mountLegacy(p Plan) error {
	if len(p.Data) >= os.Getpagesize() {
		return fmt.Errorf("mount overlay on %s: options take %d bytes, more than a page", p.Target, len(p.Data))
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("mount overlay on %s: %w", p.Target, err)
	}
	if err := unix.Chdir(p.Dir); err != nil {
		return fmt.Errorf("mount overlay on %s: chdir %s: %w", p.Target, p.Dir, err)
	}
	var errs []error
	if err := unix.Mount(p.Source, p.Target, p.FSType, 0, p.Data); err != nil {
		errs = append(errs, fmt.Errorf("mount %s on %s (%s): %w", p.FSType, p.Target, p.Data, err))
	}
	if err := unix.Chdir(wd); err != nil {
		errs = append(errs, fmt.Errorf("chdir back to %s: %w", wd, err))
	}
	return errors.Join(errs...)
}
