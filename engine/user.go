package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// ErrNoUser is a user or group name that the container's /etc/passwd or
// /etc/group does not have.
var ErrNoUser = errors.New("no matching entries")

// execUser is who a container's process runs as.
type execUser struct {
	Uid, Gid int
	// Sgids are the supplementary groups: those of /etc/group that list
	// the user, unless the group was given explicitly (as runc does).
	Sgids []int
	Home  string
}

// maxID is the largest uid or gid a user spec may name.
const maxID = 1<<31 - 1

// parseUser resolves docker's --user, "user[:group]" where each is a name
// or a number, against the container's passwd and group files (either may
// be nil). A number with no entry is taken as it is, with group 0 and
// home "/"; a name with no entry is an error. The empty spec is root.
func parseUser(spec string, passwd, group io.Reader) (execUser, error) {
	userArg, groupArg, _ := strings.Cut(spec, ":")
	u := execUser{Home: "/"}
	uid, uidErr := strconv.Atoi(userArg)
	if userArg == "" {
		uid, uidErr = 0, nil
	}
	if uidErr == nil && (uid < 0 || uid > maxID) {
		return execUser{}, fmt.Errorf(`user "%s": uid out of range`, human.Visible(userArg))
	}
	name, matched := "", false
	for _, f := range colonFields(passwd, 7) {
		id, ok := fileID(f[2])
		if !ok || (uidErr == nil && id != uid) || (uidErr != nil && f[0] != userArg) {
			continue
		}
		gid, ok := fileID(f[3])
		if !ok {
			continue
		}
		name, matched = f[0], true
		u.Uid, u.Gid, u.Home = id, gid, f[5]
		break
	}
	if !matched {
		if uidErr != nil {
			return execUser{}, fmt.Errorf("unable to find user %s: %w in passwd file", human.Visible(userArg), ErrNoUser)
		}
		u.Uid = uid
		if uid == 0 {
			u.Home = "/root"
		}
	}
	if groupArg == "" && !matched {
		return u, nil
	}
	gid, gidErr := strconv.Atoi(groupArg)
	if groupArg != "" && gidErr == nil && (gid < 0 || gid > maxID) {
		return execUser{}, fmt.Errorf(`group "%s": gid out of range`, human.Visible(groupArg))
	}
	found := false
	for _, f := range colonFields(group, 4) {
		id, ok := fileID(f[2])
		if !ok {
			continue
		}
		switch {
		case groupArg == "":
			if slices.Contains(strings.Split(f[3], ","), name) && !slices.Contains(u.Sgids, id) {
				u.Sgids = append(u.Sgids, id)
			}
		case !found && ((gidErr == nil && id == gid) || (gidErr != nil && f[0] == groupArg)):
			u.Gid, found = id, true
		}
	}
	if groupArg != "" && !found {
		if gidErr != nil {
			return execUser{}, fmt.Errorf("unable to find group %s: %w in group file", human.Visible(groupArg), ErrNoUser)
		}
		u.Gid = gid
	}
	return u, nil
}

// fileID reads a uid or gid field of the image's passwd or group file; an
// entry whose id is not one setuid(2) takes (0 to 2^31-1) is skipped, as a
// malformed line is.
func fileID(s string) (int, bool) {
	id, err := strconv.Atoi(s)
	return id, err == nil && id >= 0 && id <= maxID
}

// colonFields reads the lines of a passwd(5) or group(5) file with at
// least n colon-separated fields, skipping comments.
func colonFields(r io.Reader, n int) [][]string {
	if r == nil {
		return nil
	}
	var out [][]string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if f := strings.Split(line, ":"); len(f) >= n {
			out = append(out, f)
		}
	}
	return out
}

// maxUserFile bounds what is read of the image's /etc/passwd and /etc/group.
const maxUserFile = 4 << 20

// lookupUser resolves spec in the files of the root this process sees:
// called after pivot_root, it reads the container's own /etc/passwd and
// /etc/group, never the host's. A file that is missing, or not a regular
// file (a FIFO would block), counts as empty.
func lookupUser(spec string) (execUser, error) {
	open := func(p string) (io.Reader, func()) {
		f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, func() {}
		}
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return nil, func() {}
		}
		return io.LimitReader(f, maxUserFile), func() { f.Close() }
	}
	passwd, closeP := open("/etc/passwd")
	defer closeP()
	group, closeG := open("/etc/group")
	defer closeG()
	u, err := parseUser(spec, passwd, group)
	if err != nil {
		return execUser{}, &StartError{Code: 125, Msg: err.Error()}
	}
	return u, nil
}

// become gives this thread u's groups and ids, group first (setgid needs
// CAP_SETGID, which setuid to a non-zero uid drops). The raw calls act on
// the calling thread only, which is the one that then calls execve; a
// non-zero uid also clears the permitted and effective capabilities
// (capabilities(7), "Effect of user ID changes"), as docker's are for a
// user other than root.
func become(u execUser) error {
	// The primary group is a supplementary one too, as docker and
	// containerd have it since CVE-2023-25173: a file's group-deny bits
	// then hold against the process whatever its gid becomes.
	gids := []uint32{uint32(u.Gid)}
	for _, g := range u.Sgids {
		if g != u.Gid {
			gids = append(gids, uint32(g))
		}
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(unsafe.Pointer(&gids[0])), 0); e != 0 {
		return fmt.Errorf("setgroups %v: %w", u.Sgids, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.Gid), uintptr(u.Gid), uintptr(u.Gid)); e != 0 {
		return fmt.Errorf("setresgid %d: %w", u.Gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.Uid), uintptr(u.Uid), uintptr(u.Uid)); e != 0 {
		return fmt.Errorf("setresuid %d: %w", u.Uid, e)
	}
	return nil
}
