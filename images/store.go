package images

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"minidocker/internal/human"

	"golang.org/x/sys/unix"
)

// Sentinel errors of the store, checked with errors.Is.
var (
	// ErrNotFound is returned when no image, blob or layer has the name or digest asked for.
	ErrNotFound = errors.New("not found")
	// ErrDigestMismatch is returned when content does not hash to the digest it was announced with.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch is returned when content is not as long as its descriptor says.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrInvalidName is returned for a malformed image name, tag or ID.
	ErrInvalidName = errors.New("invalid reference")
	// ErrAmbiguous is returned when an ID prefix matches more than one image.
	ErrAmbiguous = errors.New("ambiguous reference")
	// ErrInUse is returned when an image to remove is still used by a container.
	ErrInUse = errors.New("in use")
	// ErrBadArchive is returned for an archive that is not an image archive we understand.
	ErrBadArchive = errors.New("bad image archive")
	// ErrInconsistentArchive is returned for an archive whose two
	// descriptions, manifest.json and index.json, name other images or
	// other layers.
	ErrInconsistentArchive = errors.New("inconsistent archive")
)

// Store is a content-addressed image store rooted at one directory:
//
//	oci/               an OCI image layout: oci-layout, index.json, blobs/sha256/…
//	layers/<hex>/diff  an unpacked layer, keyed by its diffID, ready to be an overlay lower
//	layers/<hex>/meta.json  its figures; alone, without diff/, for a layer stored lazily (lazy.go)
//	l/<short>          a short symbolic link to layers/<hex>/diff, for mount options
//	holds/<holder>     what a container keeps alive
//	buildcache/<key>   a build step's image, by cache key (cache.go)
//	tmp/               work in progress; emptied whenever the store opens unlocked
//	lock               flock(2) held by writers
//
// Writers take the lock; readers rely on every visible file having been
// renamed into place whole.
type Store struct {
	root string
	// Limits bounds what one layer may unpack; zero fields take overlay's defaults.
	unpack UnpackLimits
	// lazyUnpacks counts the lazily stored layers this handle unpacked.
	lazyUnpacks atomic.Int64
}

// UnpackLimits bounds one layer's unpacked size and entry count.
type UnpackLimits struct {
	MaxBytes   int64
	MaxEntries int64
}

// ErrUnsafeStore is a store directory others could write to: anyone who
// can replace a layer there can change what containers run.
var ErrUnsafeStore = errors.New("store directory is writable by others")

// checkPrivate refuses a store directory that is not a directory, not
// owned by this user, or writable by its group or others. It is refused
// rather than changed: a loose mode there may be someone's mistake to see.
func checkPrivate(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("open store %s: not a directory", human.Visible(dir))
	case ok && int(st.Uid) != os.Geteuid():
		return fmt.Errorf("open store %s: %w: owned by uid %d, not %d", human.Visible(dir), ErrUnsafeStore, st.Uid, os.Geteuid())
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("open store %s: %w (mode %#o); chmod go-w it or give another --root", human.Visible(dir), ErrUnsafeStore, fi.Mode().Perm())
	}
	return nil
}

// Open opens the store at root, creating it (mode 0700) when missing. When no
// writer holds the store, leftovers of interrupted writes are removed.
func Open(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("open store: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	s := &Store{root: abs}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := checkPrivate(abs); err != nil {
		return nil, err
	}
	for _, d := range []string{"oci/blobs/sha256", "layers", "l", "holds", "buildcache", "tmp"} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o700); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	if err := s.initLayout(); err != nil {
		return nil, err
	}
	if err := s.cleanTmp(); err != nil {
		return nil, err
	}
	return s, nil
}

// SetUnpackLimits bounds what each layer unpacked from now on may hold.
func (s *Store) SetUnpackLimits(l UnpackLimits) { s.unpack = l }

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

// LayoutDir returns the OCI image layout directory inside the store, which
// tools such as skopeo and umoci can read as "oci:DIR:NAME".
func (s *Store) LayoutDir() string { return filepath.Join(s.root, "oci") }

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.root}, elem...)...)
}

// lock takes the store's writer lock, waiting for other writers.
func (s *Store) lock() (unlock func(), err error) {
	f, err := os.OpenFile(s.path("lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock store %s: %w", s.path("lock"), err)
	}
	return func() { f.Close() }, nil
}

// cleanTmp empties tmp/ when no writer holds the lock: whatever is there then
// was left by a process that died mid-write.
func (s *Store) cleanTmp() error {
	f, err := os.OpenFile(s.path("lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("lock store: %w", err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return nil // a writer is at work; its temp files are not leftovers
	}
	entries, err := os.ReadDir(s.path("tmp"))
	if err != nil {
		return fmt.Errorf("clean store tmp: %w", err)
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, removeAll(s.path("tmp", e.Name())))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean store tmp: %w", err)
	}
	return nil
}

// tempDir makes a new directory in the store's temp area.
func (s *Store) tempDir(pattern string) (string, error) {
	return os.MkdirTemp(s.path("tmp"), pattern)
}

// removeAll removes a tree, first making directories writable: an unpacked
// layer can hold directories without write permission.
func removeAll(p string) error {
	err := os.RemoveAll(p)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}

// syncDir makes a rename or create inside dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// errNotEmpty is what rename(2) answers when the target directory exists and holds files.
var errNotEmpty = unix.ENOTEMPTY
