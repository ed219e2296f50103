package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// How the commit tests look at a file tree. The same tree is read three
// ways: from inside a container (its merged view, by find and busybox's
// sha256sum, the tools of base), and on the host from umoci's unpacking of
// the saved image. Each becomes a view: path → what a layer can carry.

// fileMeta is what a layer says of a file: type, permission bits (setuid,
// setgid, sticky included), numeric owners, a regular file's size and
// content hash, a symlink's target, and the names it shares its inode with.
type fileMeta struct {
	Type     string // find's %y: f, d, l, p, c, b, s
	Mode     perm
	UID, GID int
	Size     int64
	Sum      string
	Link     string
	Group    string // every name of a file with several, sorted, joined by "|"
	ino      uint64
	nlink    int
}

type view map[string]fileMeta

// perm is a file's permission bits, shown in octal.
type perm uint32

func (p perm) String() string { return "0" + strconv.FormatUint(uint64(p), 8) }

// viewScript prints a container's view of its whole tree: one record per
// entry, three NUL-terminated fields each, then after an END record the
// hashes of the regular files and the container's mount table. -xdev keeps
// find out of /proc, /sys and /dev; the mount table says what else to leave.
const viewScript = `find / -xdev -printf 'F %y %m %U %G %s %i %n\0%p\0%l\0'
printf 'END\0\0\0'
find / -xdev -type f -exec busybox sha256sum {} +
printf '\0'
cat /proc/self/mountinfo`

// parseView reads viewScript's output into a view and the mount points of
// the container.
func parseView(t *testing.T, out string) (view, []string) {
	t.Helper()
	v := view{}
	f := strings.Split(out, "\x00")
	i := 0
	for ; i+2 < len(f) && f[i] != "END"; i += 3 {
		w := strings.Fields(f[i])
		if len(w) != 8 || w[0] != "F" {
			t.Fatalf("view record %q: want F and 7 fields", f[i])
		}
		mode, _ := strconv.ParseUint(w[2], 8, 32)
		m := fileMeta{Type: w[1], Mode: perm(mode), UID: atoi(t, w[3]), GID: atoi(t, w[4]), Link: f[i+2]}
		m.Size = int64(atoi(t, w[5]))
		m.ino = uint64(atoi(t, w[6]))
		m.nlink = atoi(t, w[7])
		v[f[i+1]] = m
	}
	if len(f) != i+5 {
		t.Fatalf("view output: want records, END, hashes and mounts; got %d fields after the records", len(f)-i)
	}
	for _, line := range strings.Split(strings.TrimSpace(f[i+3]), "\n") {
		sum, p, ok := strings.Cut(line, "  ")
		if m, in := v[p]; ok && in {
			m.Sum = sum
			v[p] = m
		}
	}
	var mounts []string
	for _, line := range strings.Split(strings.TrimSpace(f[i+4]), "\n") {
		if w := strings.Fields(line); len(w) > 4 && w[4] != "/" {
			mounts = append(mounts, unescapeMount(w[4]))
		}
	}
	return v, mounts
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("view field %q: %v", s, err)
	}
	return n
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hostView reads the tree under dir on the host as a view.
func hostView(t *testing.T, dir string) view {
	t.Helper()
	v := view{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		m := fileMeta{Mode: perm(st.Mode & 0o7777), UID: int(st.Uid), GID: int(st.Gid), Size: st.Size, ino: st.Ino, nlink: int(st.Nlink)}
		m.Type = map[uint32]string{syscall.S_IFREG: "f", syscall.S_IFDIR: "d", syscall.S_IFLNK: "l", syscall.S_IFIFO: "p",
			syscall.S_IFCHR: "c", syscall.S_IFBLK: "b", syscall.S_IFSOCK: "s"}[st.Mode&syscall.S_IFMT]
		switch m.Type {
		case "l":
			m.Link, err = os.Readlink(p)
		case "f":
			m.Sum, err = fileSum(p)
		}
		rel, _ := filepath.Rel(dir, p)
		v[filepath.Join("/", rel)] = m
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fileSum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), err
}

// settle leaves out of v the root (a layer has no entry for it) and the
// mount points with what is beneath them, drops what is not the layers'
// to say (a directory's size), and groups hard links by inode.
func (v view) settle(mounts []string) view {
	out := view{}
	byIno := map[uint64][]string{}
	for p, m := range v {
		if p == "/" || slices.ContainsFunc(mounts, func(mp string) bool { return p == mp || strings.HasPrefix(p, mp+"/") }) {
			continue
		}
		if m.Type != "f" {
			m.Size = 0
		} else if m.nlink > 1 {
			byIno[m.ino] = append(byIno[m.ino], p)
		}
		out[p] = m
	}
	for _, names := range byIno {
		slices.Sort(names)
		for _, p := range names {
			m := out[p]
			m.Group = strings.Join(names, "|")
			out[p] = m
		}
	}
	for p, m := range out {
		m.ino, m.nlink = 0, 0
		out[p] = m
	}
	return out
}

// sameView reports how got differs from want, named a and b.
func sameView(t *testing.T, a string, want view, b string, got view) {
	t.Helper()
	n := 0
	paths := map[string]bool{}
	for p := range want {
		paths[p] = true
	}
	for p := range got {
		paths[p] = true
	}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		w, inW := want[p]
		g, inG := got[p]
		switch {
		case !inG:
			t.Errorf("%s: %q is in %s but missing: %+v", b, p, a, w)
		case !inW:
			t.Errorf("%s: %q is not in %s: %+v", b, p, a, g)
		case w != g:
			t.Errorf("%s: %q is %+v, in %s %+v", b, p, g, a, w)
		default:
			continue
		}
		if n++; n == 20 {
			t.Fatalf("%s: more differences left out", b)
		}
	}
}
