package images

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"minidocker/internal/human"
)

// BaseLayer is one layer of the default image: what made it, and its
// content as an uncompressed tar.
type BaseLayer struct {
	// CreatedBy is the history line saying how the layer was made.
	CreatedBy string
	// Comment says what the layer holds and what was left out.
	Comment string
	// WriteTar writes the layer tar, uncompressed and deterministic: the
	// same host gives the same bytes.
	WriteTar func(w io.Writer) error
}

// basePrograms are the programs of the default image besides /bin/sh,
// looked up by name in the host's /usr/bin, /bin, /usr/sbin and /sbin.
// Those the host lacks are left out. perl is Debian's perl-base, which is
// essential (always installed) and needs only libc, libm and libcrypt:
// without its modules, `perl -e` still has its builtins, chroot(2) and
// chdir(2) among them, which the pivot_root lesson's escape calls and no
// coreutils program can call in that order.
var basePrograms = []string{
	"bash", "busybox",
	"ls", "cat", "echo", "mkdir", "rm", "rmdir", "mv", "cp", "ln", "touch",
	"chmod", "chown", "stat", "readlink", "realpath", "basename", "dirname",
	"mktemp", "dd", "du", "df", "find", "xargs",
	"head", "tail", "wc", "grep", "sed", "awk", "sort", "uniq", "tr", "cut",
	"tee", "printf", "test", "expr", "seq",
	"ps", "kill", "id", "whoami", "hostname", "uname", "env", "sleep", "date",
	"nproc", "true", "false", "pwd", "mount", "umount", "which",
	"tar", "gzip", "vi", "less", "perl",
}

// programDirs are where basePrograms are looked for, in order.
var programDirs = []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"}

// topLinks are the top-level directories a merged /usr turns into symbolic
// links (/bin → usr/bin); those that are links on the host are kept.
var topLinks = []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// baseModTime is the modification time of every entry of the default
// image's layers: the Unix epoch, so the same host gives the same digests.
var baseModTime = time.Unix(0, 0).UTC()

// BaseLayers plans the default image from the host whose root is hostRoot
// ("/" in production; a fake tree in tests): a layer of programs with the
// shared libraries they need, found by reading their ELF headers, and a
// layer of configuration files and empty mount points.
func BaseLayers(hostRoot string) ([]BaseLayer, error) {
	root := rootFS{dir: hostRoot}
	libs, err := newLibResolver(root)
	if err != nil {
		return nil, err
	}
	progs, err := findPrograms(root, libs)
	if err != nil {
		return nil, err
	}
	bin := newLayerTree(root)
	for _, p := range topLinks {
		if fi, err := os.Lstat(root.host(p)); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			if err := bin.add(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
	}
	for _, p := range progs.found {
		for _, f := range append([]string{p.path}, p.libs...) {
			if err := bin.add(f); err != nil {
				return nil, fmt.Errorf("%s: %w", p.name, err)
			}
		}
	}
	cfg := configTree()
	return []BaseLayer{
		{CreatedBy: progs.createdBy(hostRoot), Comment: progs.comment(), WriteTar: bin.writeTar},
		{CreatedBy: "minidocker image create-base: wrote /etc/passwd (root, nobody), /etc/group (root, tty, nogroup), " +
			"/etc/hosts, /etc/nsswitch.conf, empty /etc/hostname and /etc/resolv.conf (mount points) and made empty /dev, /proc, /sys, /root, /tmp, /var/tmp",
			Comment: "configuration and mount points, not copied from the host", WriteTar: cfg.writeTar},
	}, nil
}

// program is a program of the default image: the name it was asked for,
// the path it was found at and what it needs to run.
type program struct {
	name string
	path string
	libs []string
}

// programSet is what findPrograms found on the host.
type programSet struct {
	found   []program
	libs    map[string]string // the distinct library files: real path → name needed by
	missing []string          // names the host lacks
	skipped []string          // programs left out, and why
}

// findPrograms looks up /bin/sh and basePrograms in root and finds their
// libraries. Scripts are kept when their #! interpreter is a program kept.
func findPrograms(root rootFS, libs *libResolver) (programSet, error) {
	set := programSet{libs: map[string]string{}}
	type script struct {
		program
		interp string
	}
	var scripts []script
	kept := map[string]bool{} // real paths of the ELF programs kept
	for _, name := range append([]string{"/bin/sh"}, basePrograms...) {
		p, err := lookProgram(root, name)
		if errors.Is(err, fs.ErrNotExist) && name != "/bin/sh" {
			set.missing = append(set.missing, name)
			continue
		}
		if err != nil {
			return set, err
		}
		needs, err := libs.needs(p)
		if errors.Is(err, errNotELF) {
			interp, _ := readShebang(root, p)
			scripts = append(scripts, script{program{name: name, path: p}, interp})
			continue
		}
		if err != nil && name == "/bin/sh" {
			return set, err
		}
		if err != nil {
			set.skipped = append(set.skipped, err.Error())
			continue
		}
		set.found = append(set.found, program{name: name, path: p, libs: needs})
		res, _ := root.resolve(p)
		kept[res.path] = true
		for _, l := range needs {
			res, _ := root.resolve(l)
			set.libs[res.path] = path.Base(l)
		}
	}
	for _, s := range scripts {
		res, err := root.resolve(s.interp)
		switch {
		case s.interp == "" || err != nil || !kept[res.path]:
			if s.name == "/bin/sh" {
				return set, fmt.Errorf("/bin/sh is a script for \"%s\", not a program in the image", human.Visible(s.interp))
			}
			set.skipped = append(set.skipped, fmt.Sprintf("%s: script for %q, not a program in the image", s.path, s.interp))
		default:
			set.found = append(set.found, s.program)
		}
	}
	return set, nil
}

// lookProgram returns where name is in root: name itself when it is a path,
// else the first of programDirs holding an executable file of that name.
func lookProgram(root rootFS, name string) (string, error) {
	dirs := programDirs
	if path.IsAbs(name) {
		dirs = []string{path.Dir(name)}
	}
	for _, d := range dirs {
		p := path.Join(d, path.Base(name))
		res, err := root.resolve(p)
		if err != nil {
			continue
		}
		fi, err := os.Stat(root.host(res.path))
		if err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("program %s: %w", name, fs.ErrNotExist)
}

// readShebang returns the interpreter named on the #! line of the file at p.
func readShebang(root rootFS, p string) (string, error) {
	res, err := root.resolve(p)
	if err != nil {
		return "", err
	}
	f, err := os.Open(root.host(res.path))
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, _ := bufio.NewReader(io.LimitReader(f, 256)).ReadString('\n')
	rest, ok := strings.CutPrefix(line, "#!")
	if fields := strings.Fields(rest); ok && len(fields) > 0 {
		return fields[0], nil
	}
	return "", fmt.Errorf("%s: no #! line", p)
}

// createdBy is the history line of the programs layer.
func (s programSet) createdBy(hostRoot string) string {
	var names []string
	for _, p := range s.found {
		names = append(names, p.name)
	}
	return fmt.Sprintf("minidocker image create-base: copied from host %s: %s (%d programs) and %d shared libraries found by reading their ELF headers",
		hostRoot, strings.Join(names, ", "), len(s.found), len(s.libs))
}

// comment lists the libraries of the programs layer and what was left out.
func (s programSet) comment() string {
	libs := slices.Sorted(maps.Values(s.libs))
	c := "shared libraries: " + strings.Join(libs, ", ")
	if len(s.missing) > 0 {
		c += "; not on this host: " + strings.Join(s.missing, ", ")
	}
	if len(s.skipped) > 0 {
		c += "; left out: " + strings.Join(s.skipped, "; ")
	}
	return c
}

// rootFS is a host directory seen as a root filesystem: its paths are
// absolute ("/usr/bin/ls") and symbolic links resolve inside it, as they
// would after chroot(2), never above it.
type rootFS struct {
	dir string
}

// host returns the host path of p.
func (r rootFS) host(p string) string {
	return filepath.Join(r.dir, filepath.FromSlash(path.Clean("/"+p)))
}

// hostLink is a symbolic link met while resolving a path.
type hostLink struct {
	path   string // where the link is, its directory resolved
	target string // its target, as on the host
}

// resolved is a path with its symbolic links resolved inside a rootFS.
type resolved struct {
	path  string     // no symbolic link in any component
	links []hostLink // the links met on the way, in order
	dirs  []string   // directories passed through and left by ".."
}

// maxSymlinks is how many links one resolution may follow (Linux's limit).
const maxSymlinks = 40

// resolve follows p's symbolic links one component at a time: an absolute
// target starts again at the root and ".." stops at the root.
func (r rootFS) resolve(p string) (resolved, error) {
	var res resolved
	todo := strings.Split(p, "/")
	cur := "/"
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if cur != "/" {
				res.dirs = append(res.dirs, cur)
			}
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		fi, err := os.Lstat(r.host(next))
		if err != nil {
			return resolved{}, fmt.Errorf("resolve %s: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxSymlinks {
			return resolved{}, fmt.Errorf("resolve %s: %w", p, syscall.ELOOP)
		}
		target, err := os.Readlink(r.host(next))
		if err != nil {
			return resolved{}, fmt.Errorf("resolve %s: %w", p, err)
		}
		res.links = append(res.links, hostLink{path: next, target: target})
		if path.IsAbs(target) {
			cur = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	res.path = cur
	return res, nil
}

// readFile reads the file at p, resolving its links inside the root.
func (r rootFS) readFile(p string) ([]byte, error) {
	res, err := r.resolve(p)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(r.host(res.path))
}

// layerEntry is one entry of a planned layer: a header, and where a
// regular file's content comes from (a host file, or data).
type layerEntry struct {
	hdr  tar.Header
	host string
	data []byte
}

// layerTree is the plan of a layer tar: entries by path ("usr/bin/ls").
type layerTree struct {
	root    rootFS
	entries map[string]*layerEntry
}

func newLayerTree(root rootFS) *layerTree {
	return &layerTree{root: root, entries: map[string]*layerEntry{}}
}

// add plans the file at p (a path in the root) as it is on the host: the
// symbolic links met on the way as links, the file itself, and every
// directory above them.
func (t *layerTree) add(p string) error {
	res, err := t.root.resolve(p)
	if err != nil {
		return err
	}
	for _, d := range res.dirs {
		if err := t.addHost(d); err != nil {
			return err
		}
	}
	for _, l := range res.links {
		if err := t.addParents(l.path); err != nil {
			return err
		}
		t.put(l.path, &layerEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Linkname: l.target, Mode: 0o777}})
	}
	return t.addHost(res.path)
}

// addHost plans the host's directory or regular file at p, whose path has
// no symbolic link, with its parents.
func (t *layerTree) addHost(p string) error {
	if p == "/" || t.entries[strings.TrimPrefix(p, "/")] != nil {
		return nil
	}
	if err := t.addParents(p); err != nil {
		return err
	}
	fi, err := os.Lstat(t.root.host(p))
	if err != nil {
		return err
	}
	hdr := tar.Header{Mode: tarMode(fi.Mode())}
	switch {
	case fi.IsDir():
		hdr.Typeflag = tar.TypeDir
		t.put(p, &layerEntry{hdr: hdr})
	case fi.Mode().IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
		t.put(p, &layerEntry{hdr: hdr, host: t.root.host(p)})
	default:
		return fmt.Errorf("%s: unsupported file type %v", p, fi.Mode().Type())
	}
	return nil
}

// addParents plans the directories above p.
func (t *layerTree) addParents(p string) error {
	if d := path.Dir(p); d != "/" && d != "." {
		return t.addHost(d)
	}
	return nil
}

// put plans e at p.
func (t *layerTree) put(p string, e *layerEntry) {
	t.entries[strings.TrimPrefix(path.Clean(p), "/")] = e
}

// tarMode returns the tar mode bits of m, keeping setuid, setgid and sticky.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

// writeTar writes the planned layer in path order, so parents come before
// their children, owned by root, dated baseModTime.
func (t *layerTree) writeTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	for _, name := range slices.Sorted(maps.Keys(t.entries)) {
		e := t.entries[name]
		hdr := e.hdr
		hdr.Name, hdr.ModTime = name, baseModTime
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := e.writeContent(tw); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return tw.Close()
}

// writeContent writes a regular file's content: its data, or its host
// file, which must not have changed size since it was planned.
func (e *layerEntry) writeContent(w io.Writer) error {
	if e.host == "" {
		_, err := w.Write(e.data)
		return err
	}
	f, err := os.Open(e.host)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != e.hdr.Size {
		return errors.Join(fmt.Errorf("%s changed since the layer was planned", e.host), err)
	}
	_, err = io.CopyN(w, f, e.hdr.Size)
	return err
}

// configTree plans the second layer: the few configuration files a shell
// and ps or id need, and the directories the engine mounts on.
func configTree() *layerTree {
	t := newLayerTree(rootFS{})
	dirs := []struct {
		path string
		mode int64
	}{{"dev", 0o755}, {"etc", 0o755}, {"proc", 0o755}, {"root", 0o700}, {"sys", 0o755},
		{"tmp", 0o1777}, {"var", 0o755}, {"var/tmp", 0o1777}}
	for _, d := range dirs {
		t.put(d.path, &layerEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Mode: d.mode}})
	}
	files := []struct{ path, content string }{
		{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
		{"etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"},
		{"etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
		{"etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"},
		// Empty: the engine mounts each container's own over them, and a
		// mount point already in the image leaves no trace in the upper dir.
		{"etc/hostname", ""},
		{"etc/resolv.conf", ""},
	}
	for _, f := range files {
		t.put(f.path, &layerEntry{
			hdr:  tar.Header{Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.content))},
			data: []byte(f.content),
		})
	}
	return t
}
