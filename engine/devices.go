package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// Device is a host device node let into a container: docker's --device
// HOST[:CTR][:rwm]. The node is made at Path in the container with the
// host node's type, numbers, mode and owner, and the device cgroup lets
// the container use it with Permissions.
type Device struct {
	Host        string `json:"host"`
	Path        string `json:"path"`
	Permissions string `json:"permissions"`
	// The host node, read when the container is created.
	Type  string `json:"type,omitempty"` // "c" or "b"
	Major uint32 `json:"major,omitempty"`
	Minor uint32 `json:"minor,omitempty"`
	Mode  uint32 `json:"mode,omitempty"` // the permission bits
	UID   uint32 `json:"uid,omitempty"`
	GID   uint32 `json:"gid,omitempty"`
}

// ParseDevice reads docker's --device HOST[:CTR][:PERMISSIONS]: both paths
// absolute, the container's the host's when not given, the permissions
// a subset of "rwm" ("rwm" when not given). A two-part spec whose second
// part is a valid set of permissions is HOST:PERMISSIONS, as in docker.
// The host node is checked when the container is created.
func ParseDevice(s string) (Device, error) {
	bad := func(format string, a ...any) (Device, error) {
		return Device{}, fmt.Errorf(`device "%s": %w: `+format, append([]any{human.Visible(s), ErrInvalid}, a...)...)
	}
	parts := strings.Split(s, ":")
	d := Device{Permissions: "rwm"}
	switch len(parts) {
	case 1:
	case 2:
		if validPermissions(parts[1]) {
			d.Permissions = parts[1]
		} else {
			d.Path = parts[1]
		}
	case 3:
		d.Path, d.Permissions = parts[1], parts[2]
		if !validPermissions(d.Permissions) {
			return bad(`permissions "%s" are not a set of r, w and m`, human.Visible(d.Permissions))
		}
	default:
		return bad("want HOST[:CONTAINER][:PERMISSIONS]")
	}
	d.Host = parts[0]
	if d.Path == "" {
		d.Path = d.Host
	}
	if !filepath.IsAbs(d.Host) {
		return bad(`host path "%s" is not absolute`, human.Visible(d.Host))
	}
	if !filepath.IsAbs(d.Path) {
		return bad(`container path "%s" is not absolute`, human.Visible(d.Path))
	}
	d.Host, d.Path = filepath.Clean(d.Host), filepath.Clean(d.Path)
	if d.Path == "/" || d.Path == "/dev" {
		return bad(`container path "%s" is not a file's`, d.Path)
	}
	return d, nil
}

// validPermissions: r, w and m, each at most once, at least one.
func validPermissions(p string) bool {
	if p == "" || len(p) > 3 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if !strings.ContainsRune("rwm", rune(p[i])) || strings.IndexByte(p[:i], p[i]) >= 0 {
			return false
		}
	}
	return true
}

// resolve checks d, as ParseDevice gives it or with the container path
// and permissions left out, and fills it in from its host node, which
// must be a character or block device.
func (d *Device) resolve() error {
	if d.Path == "" {
		d.Path = d.Host
	}
	if d.Permissions == "" {
		d.Permissions = "rwm"
	}
	if !filepath.IsAbs(d.Host) || !filepath.IsAbs(d.Path) || !validPermissions(d.Permissions) {
		return fmt.Errorf(`device "%s:%s:%s": %w: want absolute paths and permissions of r, w and m`,
			human.Visible(d.Host), human.Visible(d.Path), human.Visible(d.Permissions), ErrInvalid)
	}
	d.Host, d.Path = filepath.Clean(d.Host), filepath.Clean(d.Path)
	var st unix.Stat_t
	if err := unix.Stat(d.Host, &st); err != nil {
		return fmt.Errorf(`device "%s": %w: %w`, human.Visible(d.Host), ErrInvalid, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		d.Type = "c"
	case unix.S_IFBLK:
		d.Type = "b"
	default:
		return fmt.Errorf(`device "%s": %w: not a character or block device`, human.Visible(d.Host), ErrInvalid)
	}
	d.Major, d.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	d.Mode, d.UID, d.GID = st.Mode&0o7777, st.Uid, st.Gid
	return nil
}

// resolveDevices reads the host nodes of spec's devices.
func resolveDevices(spec *Spec) error {
	for i := range spec.Devices {
		if err := spec.Devices[i].resolve(); err != nil {
			return err
		}
	}
	return nil
}

// deviceRule lets a container use devices: Type 'c', 'b' or 'a' (all of
// both), Major and Minor anyMinor for any, Access a subset of "rwm". A
// container's device cgroup denies all, then allows its rules.
type deviceRule struct {
	Type         byte
	Major, Minor int64
	Access       string
}

// anyNumber is the wildcard of a rule's major or minor number.
const anyNumber = -1

// String is the rule as cgroup v1's devices.allow reads it.
func (r deviceRule) String() string {
	if r.Type == 'a' {
		return "a"
	}
	num := func(n int64) string {
		if n == anyNumber {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}

// defaultDeviceRules are docker's: make any node, use the nodes of a
// container's /dev (null, zero, full, random, urandom, tty, console,
// ptmx and the ptys of its devpts), nothing else.
var defaultDeviceRules = []deviceRule{
	{'c', anyNumber, anyNumber, "m"}, {'b', anyNumber, anyNumber, "m"},
	{'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', 1, 7, "rwm"}, // null, zero, full
	{'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"}, // random, urandom
	{'c', 5, 0, "rwm"}, {'c', 5, 1, "rwm"}, {'c', 5, 2, "rwm"}, // tty, console, ptmx
	{'c', 136, anyNumber, "rwm"}, // pts
}

// deviceRules are the device cgroup rules of spec; nil for a privileged
// container, which may use every device.
func deviceRules(spec Spec) []deviceRule {
	if spec.Privileged {
		return nil
	}
	rules := append([]deviceRule{}, defaultDeviceRules...)
	for _, d := range spec.Devices {
		if d.Type == "" {
			continue // never resolved (validate does it): makeDevices makes no node of it
		}
		rules = append(rules, deviceRule{d.Type[0], int64(d.Major), int64(d.Minor), d.Permissions})
	}
	return rules
}

// makeDevices makes the nodes of devs under rootfs, each path resolved
// inside it, after the mounts (a node may go on the /dev tmpfs).
func makeDevices(rootfs string, devs []Device) error {
	if len(devs) == 0 {
		return nil
	}
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range devs {
		if d.Type == "" {
			continue // never resolved, as deviceRules skips it
		}
		p, err := securejoin.SecureJoin(rootfs, d.Path)
		if err != nil {
			return fmt.Errorf("resolve %s in rootfs: %w", d.Path, err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
		typ := uint32(unix.S_IFCHR)
		if d.Type == "b" {
			typ = unix.S_IFBLK
		}
		// An image's file of that name gives way, as in runc.
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
		if err := mknod(p, typ|d.Mode, d.Major, d.Minor); err != nil {
			return err
		}
		if err := os.Lchown(p, int(d.UID), int(d.GID)); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	return nil
}

// bindConsole makes the container's terminal, the init's stdin by now,
// its /dev/console too, as docker does when it allocates one: a bind
// mount of the pty's peer on an empty file of the /dev tmpfs. Not for an
// exec's terminal: the container has its console already, or none.
func bindConsole() error {
	const console = "/dev/console"
	peer, err := os.Readlink("/proc/self/fd/0")
	if err != nil {
		return fmt.Errorf("the container's terminal: %w", err)
	}
	f, err := os.OpenFile(console, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", console, err)
	}
	f.Close()
	return mount(peer, console, "", unix.MS_BIND, "")
}
