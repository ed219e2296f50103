package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrNeedsRoot marks what only root may do here: run containers (they
// need namespaces, mounts and cgroups), or open a store that root owns.
var ErrNeedsRoot = errors.New("needs root")

// NeedsRootError is ErrNeedsRoot with the reason, for the one line the
// CLI prints: "minidocker: run: needs root (containers need namespaces
// and mounts)".
type NeedsRootError struct{ Why string }

func (e *NeedsRootError) Error() string { return "needs root (" + e.Why + ")" }

// Is makes errors.Is(err, ErrNeedsRoot) true.
func (e *NeedsRootError) Is(target error) bool { return target == ErrNeedsRoot }

// NeedsRoot returns a NeedsRootError for why when the caller is not root,
// else nil.
func NeedsRoot(why string) error {
	if os.Geteuid() == 0 {
		return nil
	}
	return &NeedsRootError{Why: why}
}

// checkStore runs before the store is opened. For a user who is not root,
// a store that is someone else's (root's /var/lib/minidocker) is refused
// in one line that says so, instead of the permission error of the first
// directory inside that cannot be made, or a check that its mode is
// unsafe.
func (a *App) checkStore() error {
	if os.Geteuid() == 0 {
		return nil
	}
	fi, err := os.Stat(a.Root)
	switch {
	case err == nil && statOwner(fi) == 0:
		return &NeedsRootError{Why: fmt.Sprintf("the store %s is root's", a.Root)}
	case err == nil && statOwner(fi) != os.Geteuid():
		return &NeedsRootError{Why: fmt.Sprintf("the store %s is uid %d's", a.Root, statOwner(fi))}
	case errors.Is(err, fs.ErrPermission):
		return &NeedsRootError{Why: fmt.Sprintf("the store %s cannot be read", a.Root)}
	}
	return nil
}

// rootError turns a permission error met opening the store into a
// NeedsRootError when the caller is not root: a store made where only root
// may write (/var/lib).
func (a *App) rootError(err error) error {
	if err != nil && os.Geteuid() != 0 && errors.Is(err, fs.ErrPermission) {
		return &NeedsRootError{Why: fmt.Sprintf("no access to the store %s", a.Root)}
	}
	return err
}

// statOwner is the uid that owns fi's file.
func statOwner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
