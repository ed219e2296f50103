package overlay

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// WatchMountinfo sends on the returned channel whenever the namespace of
// the mount table file (a /proc/PID/mountinfo) mounts or unmounts
// anything, until ctx ends; then it closes the channel. Changes that come
// while the last one is still unread fold into it: the receiver reads the
// table again anyway.
//
// The kernel marks an open mount table with POLLPRI|POLLERR when its
// namespace changed since the last poll (proc_pid_mounts(5)); the poll
// itself takes the mark, so nothing needs reading in between. A pipe
// whose write end is closed when ctx ends wakes the poll to stop it.
func WatchMountinfo(ctx context.Context, file string) (<-chan struct{}, error) {
	// A raw descriptor, not an os.File: Go's runtime would add an
	// os.File to its epoll set, and its epoll_wait would take the mark
	// that the poll below waits for.
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("watch mounts: open %s: %w", file, err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch mounts: pipe2: %w", err)
	}
	out := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		unix.Close(p[1])
	}()
	go func() {
		defer close(out)
		defer unix.Close(fd)
		defer unix.Close(p[0])
		pollMounts(fd, p[0], out)
	}()
	return out, nil
}

// pollMounts waits on the mount table fd until the stop fd hangs up.
func pollMounts(fd, stop int, out chan<- struct{}) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}, {Fd: int32(stop), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || fds[1].Revents != 0 {
			return
		}
		if fds[0].Revents&(unix.POLLPRI|unix.POLLERR) != 0 {
			select {
			case out <- struct{}{}:
			default:
			}
		}
		if fds[0].Revents&(unix.POLLHUP|unix.POLLNVAL) != 0 {
			return
		}
	}
}
