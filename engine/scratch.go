package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// The scratch is a small tmpfs that the init mounts over the container's
// directory, in its own mount namespace only: it holds the mount point of
// the root file system (scratchRoot) and the files bind-mounted over the
// image's /etc/hostname and /etc/resolv.conf (Mount.Content). None of them
// then costs the host's file system an inode, which on ext4 here takes
// 0.2-0.5 ms to make when many were freed in the last seconds (it scans
// past them), and all go with the namespace; after pivot_root the scratch
// is detached with the old root, its files kept by their bind mounts.
const (
	scratchRoot = "rootfs"
	scratchOpts = "mode=0700,size=1m"
)

// coverWithScratch mounts the scratch over dir and fills it for plan. It
// returns the overlay o with its upper and work directories, which are in
// dir and so hidden from then on, named by descriptors opened before, and
// a function that closes those once the overlay is mounted and its upper
// directory no longer read (see setupRootfs).
func coverWithScratch(dir string, o Overlay, plan []Mount) (Overlay, func(), error) {
	var fds []int
	closeFds := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	for _, p := range []*string{&o.Upper, &o.Work} {
		fd, err := unix.Open(*p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			closeFds()
			return o, nil, fmt.Errorf("open %s: %w", *p, err)
		}
		fds = append(fds, fd)
		*p = "/proc/self/fd/" + strconv.Itoa(fd)
	}
	fail := func(err error) (Overlay, func(), error) {
		closeFds()
		return o, nil, err
	}
	if err := mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, scratchOpts); err != nil {
		return fail(err)
	}
	if err := os.Mkdir(o.Target, 0o755); err != nil {
		return fail(fmt.Errorf("make the root's mount point: %w", err))
	}
	for _, m := range plan {
		if m.Content == "" {
			continue
		}
		if filepath.Dir(m.Source) != dir {
			return fail(fmt.Errorf("file %s for %s: not in the scratch %s", m.Source, m.Target, dir))
		}
		if err := os.WriteFile(m.Source, []byte(m.Content), 0o644); err != nil {
			return fail(fmt.Errorf("write the container's %s: %w", m.Target, err))
		}
	}
	return o, closeFds, nil
}
