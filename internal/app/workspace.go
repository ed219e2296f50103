package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"minidocker/images"
	"minidocker/internal/human"
	"minidocker/overlay"
)

// mounter mounts an image's layers, read through a throwaway upper
// directory, and returns the root to read; nil is an empty root.
type mounter func(img *images.Image) (string, error)

// workspaceDir holds the builds' work directories, build-<pid>-<n>.
func (b *builder) workspaceDir() string { return filepath.Join(b.a.Root, "build") }

// workspace gives fill a root made of parent's layers under a new upper
// directory, and returns the layer that upper directory makes (nil when
// dropEmpty and fill changed nothing) and the cleanup that removes it.
//
// The overlay is mounted in a mount namespace of a thread of its own,
// never unlocked from fill's goroutine: when the goroutine ends, Go ends
// the thread and the kernel the namespace, so no mount of a build
// outlives it, whatever happens to this process. The mounts are seen by
// that thread only: fill must resolve paths under root on its own
// goroutine. What it opens there can be used from any (buildctx's
// parallel fstatat calls are relative to directories it opened).
func (b *builder) workspace(parent *images.Image, dropEmpty bool, fill func(root string, mount mounter) error) (func(io.Writer) error, func(), error) {
	if err := os.MkdirAll(b.workspaceDir(), 0o700); err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp(b.workspaceDir(), fmt.Sprintf("build-%d-", os.Getpid()))
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	var lower []string
	if parent != nil {
		if lower, err = b.store.LayerDirs(*parent); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	upper := filepath.Join(dir, "upper")
	n := 0
	// mount makes one overlay under dir; a scratch stage's root is an
	// empty directory.
	mount := func(img *images.Image, upper string) (string, error) {
		n++
		base := filepath.Join(dir, strconv.Itoa(n))
		target, work := filepath.Join(base, "merged"), filepath.Join(base, "work")
		for _, d := range []string{upper, work, target} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return "", err
			}
		}
		var layers []string
		if img != nil {
			var err error
			if layers, err = b.store.LayerDirs(*img); err != nil {
				return "", err
			}
		}
		if len(layers) == 0 {
			return upper, nil
		}
		spec := overlay.Spec{Lower: layers, Upper: upper, Work: work, Target: target}
		if err := spec.Mount(); err != nil {
			return "", err
		}
		return target, nil
	}
	err = inMountNamespace(func() error {
		root, err := mount(parent, upper)
		if err != nil {
			return err
		}
		return fill(root, func(img *images.Image) (string, error) {
			return mount(img, filepath.Join(dir, fmt.Sprintf("from-%d", n+1)))
		})
	})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	if dropEmpty {
		if entries, err := os.ReadDir(upper); err == nil && len(entries) == 0 {
			return nil, cleanup, nil
		}
	}
	layer := func(w io.Writer) error {
		_, err := overlay.Pack(upper, w, overlay.PackOptions{Lower: lower})
		return err
	}
	return layer, cleanup, nil
}

// inMountNamespace runs fn on a thread of its own in a new, private mount
// namespace. The thread stays locked to fn's goroutine, so Go ends it with
// the goroutine, and the namespace with its mounts goes with it.
func inMountNamespace(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked, on purpose
		if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("new mount namespace: %w", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			errc <- fmt.Errorf("new mount namespace: make / private: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// tidyWorkspaces removes the work directories of builds whose process is
// gone (killed before its cleanup ran).
func (b *builder) tidyWorkspaces() error {
	entries, err := os.ReadDir(b.workspaceDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		f := strings.Split(e.Name(), "-")
		if len(f) != 3 || f[0] != "build" {
			continue
		}
		pid, err := strconv.Atoi(f[1])
		if err != nil || pid == os.Getpid() || unix.Kill(pid, 0) != unix.ESRCH {
			continue
		}
		errs = append(errs, os.RemoveAll(filepath.Join(b.workspaceDir(), e.Name())))
	}
	return errors.Join(errs...)
}

// mkdirInRoot makes dir, an in-container path, inside root, its symlinks
// followed as if root were /, as docker makes a WORKDIR.
func mkdirInRoot(root, dir string) error {
	if dir == "" || dir == "/" {
		return nil
	}
	rf, err := os.Open(root)
	if err != nil {
		return err
	}
	defer rf.Close()
	resolved, err := securejoin.SecureJoin(root, dir)
	if err != nil {
		return fmt.Errorf("WORKDIR %s: %w", human.Visible(dir), err)
	}
	rel, err := filepath.Rel(root, resolved)
	if err != nil {
		return err
	}
	d, err := pathrs.MkdirAllHandle(rf, rel, 0o755)
	if err != nil {
		return fmt.Errorf("WORKDIR %s: %w", human.Visible(dir), err)
	}
	return d.Close()
}
