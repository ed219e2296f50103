package buildctx

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// maxIDFileBytes bounds an image's /etc/passwd or /etc/group: it is read
// whole.
const maxIDFileBytes = 4 << 20

// chownSpec is a --chown value split into its user and group, not yet
// looked up.
type chownSpec struct{ user, group string }

// parseChown splits a --chown value: "user", "uid", "user:group" or
// "uid:gid" (a name or a number on either side). "user:" is "user", as
// BuildKit reads it.
func parseChown(s string) (chownSpec, error) {
	user, group, _ := strings.Cut(s, ":")
	if user == "" || strings.Contains(group, ":") {
		return chownSpec{}, fmt.Errorf("--chown=%s: want user, uid, user:group or uid:gid", human.Visible(s))
	}
	return chownSpec{user: user, group: group}, nil
}

// owner is the uid and gid a copy gives its files.
type owner struct{ uid, gid int }

// resolve looks the names of spec up in the passwd and group files that
// read returns ("/etc/passwd", "/etc/group"). As BuildKit does, a user
// without a group takes the user's primary group when named and the same
// number as its uid when numbered. A name that is not there is an error,
// as in docker's classic builder (BuildKit silently takes 0 instead).
func (spec chownSpec) resolve(read func(file string) ([]byte, error)) (owner, error) {
	var o owner
	if id, num, err := parseID(spec.user); err != nil {
		return o, err
	} else if num {
		o = owner{uid: id, gid: id}
	} else {
		uid, gid, err := lookupName(read, "/etc/passwd", spec.user, 2, 3)
		if err != nil {
			return o, err
		}
		o = owner{uid: uid, gid: gid}
	}
	if spec.group == "" {
		return o, nil
	}
	id, num, err := parseID(spec.group)
	if err != nil || num {
		o.gid = id
		return o, err
	}
	gid, _, err := lookupName(read, "/etc/group", spec.group, 2, 2)
	o.gid = gid
	return o, err
}

// parseID reads s as a numeric uid or gid when it is one (num set), as
// BuildKit does: decimal, 32 bits. 4294967295 is refused: chown(2) reads
// it as "leave it".
func parseID(s string) (id int, num bool, err error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false, nil
	}
	if v == 1<<32-1 {
		return 0, true, fmt.Errorf("--chown: id %d is reserved", v)
	}
	return int(v), true, nil
}

// lookupName finds the first line of file (a colon-separated database,
// /etc/passwd or /etc/group) whose first field is name, and returns its
// fields a and b as numbers.
func lookupName(read func(string) ([]byte, error), file, name string, a, b int) (int, int, error) {
	data, err := read(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxIDFileBytes)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) <= max(a, b) || fields[0] != name {
			continue
		}
		va, oka, erra := parseID(fields[a])
		vb, okb, errb := parseID(fields[b])
		if !oka || !okb || erra != nil || errb != nil {
			return 0, 0, fmt.Errorf("--chown: %s: bad entry for %s", file, quote(name))
		}
		return va, vb, nil
	}
	what := "user"
	if file == "/etc/group" {
		what = "group"
	}
	return 0, 0, fmt.Errorf("--chown: no %s %s in the image's %s", what, quote(name), file)
}

// readInRoot reads the regular file at the in-container path file inside
// root, its symlinks followed as the container would follow them.
func readInRoot(root *os.File, file string) ([]byte, error) {
	h, err := pathrs.OpenatInRoot(root, file)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	f, err := pathrs.Reopen(h, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("open %s in the image: %w", file, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s in the image: not a regular file", file)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxIDFileBytes+1))
	if err == nil && len(b) > maxIDFileBytes {
		err = fmt.Errorf("over %d bytes", maxIDFileBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s in the image: %w", file, err)
	}
	return b, nil
}

// parseChmod reads a --chmod value: an octal mode up to 07777, with
// docker's message otherwise.
func parseChmod(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("invalid chmod parameter: '%s'. it should be octal string and between 0 and 07777", human.Visible(s))
	}
	return uint32(v), nil
}
