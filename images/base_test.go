package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
)

func TestRootFSResolve(t *testing.T) {
	top := t.TempDir()
	if err := os.WriteFile(filepath.Join(top, "secret"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(top, "root")
	writeTree(t, dir, map[string]string{
		"bin":          "->usr/bin",
		"usr/bin/sh":   "->dash",
		"usr/bin/dash": "dash",
		"usr/lib/x":    "x",
		"abs":          "->/usr/bin/sh",
		"climb":        "->../../../../usr/bin/dash",
		"climb-abs":    "->/../../bin/dash",
		"up":           "->bin/../lib",
		"escape":       "->../secret",
		"loop1":        "->loop2",
		"loop2":        "->loop1",
		"dangling":     "->/nowhere",
	})
	r := rootFS{dir: dir}
	tests := []struct {
		path string
		want resolved
		err  error
	}{
		{"/usr/bin/dash", resolved{path: "/usr/bin/dash"}, nil},
		{"/bin/sh", resolved{path: "/usr/bin/dash", links: []hostLink{{"/bin", "usr/bin"}, {"/usr/bin/sh", "dash"}}}, nil},
		{"/abs", resolved{path: "/usr/bin/dash", links: []hostLink{{"/abs", "/usr/bin/sh"}, {"/usr/bin/sh", "dash"}}}, nil},
		{"/climb", resolved{path: "/usr/bin/dash", links: []hostLink{{"/climb", "../../../../usr/bin/dash"}}}, nil},
		{"/climb-abs", resolved{path: "/usr/bin/dash", links: []hostLink{{"/climb-abs", "/../../bin/dash"}, {"/bin", "usr/bin"}}}, nil},
		// ".." after a link is the parent of the link's target, as for the kernel.
		{"/up/x", resolved{path: "/usr/lib/x", links: []hostLink{{"/up", "bin/../lib"}, {"/bin", "usr/bin"}},
			dirs: []string{"/usr/bin"}}, nil},
		{"/escape", resolved{}, fs.ErrNotExist},
		{"/loop1", resolved{}, syscall.ELOOP},
		{"/dangling", resolved{}, fs.ErrNotExist},
		{"/usr/bin/dash/x", resolved{}, syscall.ENOTDIR},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := r.resolve(tt.path)
			if !errors.Is(err, tt.err) {
				t.Fatalf("resolve %s: error %v, want %v", tt.path, err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(resolved{}, hostLink{})); diff != "" {
				t.Errorf("resolve %s (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}

// fakeHost is a host root with a merged /usr, made of fake ELF files: sh
// (dash), bash, ls, a static busybox, a setuid mount, a script for sh
// (which), a script for python (true, left out) and a vi whose library is
// missing (left out).
func fakeHost(t *testing.T) (string, map[string]string) {
	const ld = "/lib64/ld-linux-x86-64.so.2"
	prog := func(needed ...string) string { return string(fakeELF{interp: ld, needed: needed}.bytes()) }
	files := map[string]string{
		"bin": "->usr/bin", "sbin": "->usr/sbin", "lib": "->usr/lib", "lib64": "->usr/lib64",
		"usr/lib64/ld-linux-x86-64.so.2":                "->/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": string(fakeELF{soname: "ld-linux-x86-64.so.2"}.bytes()),
		"usr/lib/x86_64-linux-gnu/libc.so.6":            string(fakeELF{soname: "libc.so.6", needed: []string{"ld-linux-x86-64.so.2"}}.bytes()),
		"usr/lib/x86_64-linux-gnu/libtinfo.so.6":        "->libtinfo.so.6.4",
		"usr/lib/x86_64-linux-gnu/libtinfo.so.6.4":      string(fakeELF{soname: "libtinfo.so.6", needed: []string{"libc.so.6"}}.bytes()),
		"usr/lib/x86_64-linux-gnu/libunused.so.1":       string(fakeELF{soname: "libunused.so.1"}.bytes()),
		"usr/bin/sh":      "->dash",
		"usr/bin/dash":    prog("libc.so.6"),
		"usr/bin/bash":    prog("libtinfo.so.6", "libc.so.6"),
		"usr/bin/ls":      prog("libc.so.6"),
		"usr/bin/busybox": string(fakeELF{}.bytes()),
		"usr/bin/mount":   prog("libc.so.6"),
		"usr/bin/which":   "#!/bin/sh\necho which\n",
		"usr/bin/true":    "#!/usr/bin/python3\n",
		"usr/bin/vi":      prog("libgpm.so.2", "libc.so.6"),
		"usr/sbin/.keep":  "",
		"etc/passwd":      "host:x:1000:1000::/home/host:/bin/bash\n",
	}
	dir := t.TempDir()
	writeTree(t, dir, files)
	if err := os.Chmod(filepath.Join(dir, "usr/bin/mount"), 0o755|fs.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	return dir, files
}

func TestBaseLayersFakeHost(t *testing.T) {
	dir, files := fakeHost(t)
	layers, err := BaseLayers(dir)
	if err != nil {
		t.Fatalf("BaseLayers: %v", err)
	}
	if len(layers) != 2 {
		t.Fatalf("BaseLayers: %d layers, want 2", len(layers))
	}
	bin := writeLayer(t, layers[0])
	want := []string{
		"l 0777 bin -> usr/bin",
		"l 0777 lib -> usr/lib",
		"l 0777 lib64 -> usr/lib64",
		"l 0777 sbin -> usr/sbin",
		"d 0755 usr/",
		"d 0755 usr/bin/",
		"- 0755 usr/bin/bash",
		"- 0755 usr/bin/busybox",
		"- 0755 usr/bin/dash",
		"- 0755 usr/bin/ls",
		"- 4755 usr/bin/mount",
		"l 0777 usr/bin/sh -> dash",
		"- 0755 usr/bin/which",
		"d 0755 usr/lib/",
		"d 0755 usr/lib/x86_64-linux-gnu/",
		"- 0755 usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"- 0755 usr/lib/x86_64-linux-gnu/libc.so.6",
		"l 0777 usr/lib/x86_64-linux-gnu/libtinfo.so.6 -> libtinfo.so.6.4",
		"- 0755 usr/lib/x86_64-linux-gnu/libtinfo.so.6.4",
		"d 0755 usr/lib64/",
		"l 0777 usr/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"d 0755 usr/sbin/",
	}
	if diff := cmp.Diff(want, bin.listing()); diff != "" {
		t.Errorf("layer 1 (-want +got):\n%s", diff)
	}
	bin.check(t)
	for _, p := range []string{"usr/bin/bash", "usr/lib/x86_64-linux-gnu/libtinfo.so.6.4"} {
		if got := string(bin.body[p]); got != files[p] {
			t.Errorf("%s: %d bytes, want the host's %d", p, len(got), len(files[p]))
		}
	}
	wantCreated := "minidocker image create-base: copied from host " + dir + ": /bin/sh, bash, busybox, ls, mount, which (6 programs) " +
		"and 3 shared libraries found by reading their ELF headers"
	if layers[0].CreatedBy != wantCreated {
		t.Errorf("CreatedBy = %q, want %q", layers[0].CreatedBy, wantCreated)
	}
	for _, s := range []string{
		"shared libraries: ld-linux-x86-64.so.2, libc.so.6, libtinfo.so.6;",
		"not on this host: cat, echo, ",
		"left out: /usr/bin/vi needs libgpm.so.2: not found",
		`/usr/bin/true: script for "/usr/bin/python3", not a program in the image`,
	} {
		if !strings.Contains(layers[0].Comment, s) {
			t.Errorf("Comment = %q, want it to contain %q", layers[0].Comment, s)
		}
	}
	cfg := writeLayer(t, layers[1])
	if got := string(cfg.body["etc/passwd"]); !strings.HasPrefix(got, "root:x:0:0:root:/root:/bin/sh\n") {
		t.Errorf("etc/passwd = %q, want root first, not the host's", got)
	}
}

func TestBaseLayersErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(dir string) error
		want   string
	}{
		{"no /bin/sh", func(dir string) error { return os.Remove(filepath.Join(dir, "usr/bin/sh")) },
			"program /bin/sh: file does not exist"},
		{"/bin/sh without libc", func(dir string) error { return os.Remove(filepath.Join(dir, "usr/lib/x86_64-linux-gnu/libc.so.6")) },
			"/bin/sh needs libc.so.6: not found"},
		{"/bin/sh a script for another", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "usr/bin/dash"), []byte("#!/usr/bin/python3\n"), 0o755)
		}, `/bin/sh is a script for "/usr/bin/python3"`},
		{"bad ld.so.cache", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "etc/ld.so.cache"), []byte(ldCacheMagicNew+"\x01"), 0o644)
		}, "ld.so.cache: bad ld.so.cache: header truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := fakeHost(t)
			if err := tt.change(dir); err != nil {
				t.Fatal(err)
			}
			_, err := BaseLayers(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("BaseLayers: error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestBaseLayersHost plans the default image from this host and checks
// the layers hold what a shell needs, well formed and reproducible.
func TestBaseLayersHost(t *testing.T) {
	layers, err := BaseLayers("/")
	if err != nil {
		t.Fatalf("BaseLayers: %v", err)
	}
	bin := writeLayer(t, layers[0])
	bin.check(t)
	sh, err := os.Open("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	info, err := readELF(sh)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/bin/sh", "/bin/bash", "/bin/ls", "/usr/bin/perl", info.Interp} {
		if _, err := bin.regular(p); err != nil {
			t.Errorf("layer 1: %v", err)
		}
	}
	// perl, its program alone: perl-base's modules are not copied.
	if i := slices.IndexFunc(bin.names, func(n string) bool { return strings.Contains(n, "perl5") }); i >= 0 {
		t.Errorf("layer 1 holds %s: perl's modules were copied", bin.names[i])
	}
	if !slices.ContainsFunc(bin.names, func(n string) bool { return path.Base(n) == "libc.so.6" }) {
		t.Errorf("layer 1 has no libc.so.6")
	}
	cfg := writeLayer(t, layers[1])
	cfg.check(t)
	if h := cfg.hdr["tmp"]; h == nil || h.Typeflag != tar.TypeDir || h.Mode != 0o1777 {
		t.Errorf("layer 2: tmp is %+v, want a directory of mode 01777", h)
	}
	if h := cfg.hdr["etc/passwd"]; h == nil || h.Typeflag != tar.TypeReg {
		t.Errorf("layer 2: no etc/passwd")
	}
	for i, l := range layers {
		var a, b bytes.Buffer
		if err := l.WriteTar(&a); err != nil {
			t.Fatal(err)
		}
		if err := l.WriteTar(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("layer %d: two writes differ", i+1)
		}
		t.Logf("layer %d: %d bytes, %d entries: %s", i+1, a.Len(), len(writeLayer(t, l).names), l.CreatedBy)
	}
}

// TestBaseLayersRun unpacks the default image of this host and runs a
// shell in it: every library a program needs must be there.
func TestBaseLayersRun(t *testing.T) {
	testutil.RequireRoot(t)
	tarPath := testutil.RequireTool(t, "tar")
	chroot := testutil.RequireTool(t, "chroot")
	layers, err := BaseLayers("/")
	if err != nil {
		t.Fatalf("BaseLayers: %v", err)
	}
	dir := t.TempDir()
	for i, l := range layers {
		var buf bytes.Buffer
		if err := l.WriteTar(&buf); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tarPath, "-x", "-f", "-", "-C", dir)
		cmd.Stdin = &buf
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("extract layer %d: %v: %s", i+1, err, out)
		}
	}
	// perl -e with builtins only, as the pivot_root lesson runs it:
	// without its modules, mkdir, chroot and readdir still work.
	script := "ls / && id -u && bash -c 'echo bash ok' && ls -l /usr/bin/ls | wc -l && " +
		`perl -e 'mkdir "/tmp/p" or die; chroot "/tmp/p" or die; opendir(D, "/") or die; print "perl ", scalar(grep { !/^\./ } readdir D), "\n"'`
	// perl -e reads its script after /dev/null, which a container's /dev
	// has; the environment is a container's, without the host's locale.
	if err := syscall.Mknod(filepath.Join(dir, "dev", "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chroot, dir, "/bin/sh", "-c", script)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chroot %s /bin/sh -c %q: %v\n%s", dir, script, err, out)
	}
	lines := strings.Fields(string(out))
	for _, want := range []string{"bin", "etc", "tmp", "usr", "0", "ok", "1", "perl", "0"} {
		if !slices.Contains(lines, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}

// layerTar is a layer tar read back: entries in order, by name (without
// a trailing slash), and regular files' content.
type layerTar struct {
	names []string
	hdr   map[string]*tar.Header
	body  map[string][]byte
}

func writeLayer(t *testing.T, l BaseLayer) *layerTar {
	t.Helper()
	var buf bytes.Buffer
	if err := l.WriteTar(&buf); err != nil {
		t.Fatalf("WriteTar: %v", err)
	}
	lt := &layerTar{hdr: map[string]*tar.Header{}, body: map[string][]byte{}}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return lt
		}
		if err != nil {
			t.Fatalf("read layer: %v", err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if lt.hdr[name] != nil {
			t.Errorf("%s twice", name)
		}
		lt.names = append(lt.names, name)
		lt.hdr[name] = h
		if h.Typeflag == tar.TypeReg {
			if lt.body[name], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// listing returns one line per entry: type, mode, name, link target.
func (lt *layerTar) listing() []string {
	var out []string
	for _, n := range lt.names {
		h := lt.hdr[n]
		line := fmt.Sprintf("%c %04o %s", map[byte]rune{tar.TypeReg: '-', tar.TypeDir: 'd', tar.TypeSymlink: 'l'}[h.Typeflag], h.Mode, h.Name)
		if h.Typeflag == tar.TypeSymlink {
			line += " -> " + h.Linkname
		}
		out = append(out, line)
	}
	return out
}

// check verifies what every layer must be: relative names, parents
// before children, owned by root with no names, dated baseModTime, and
// every symbolic link resolving to an entry of the layer.
func (lt *layerTar) check(t *testing.T) {
	t.Helper()
	seen := map[string]bool{}
	for _, n := range lt.names {
		h := lt.hdr[n]
		if path.IsAbs(n) || path.Clean(n) != n || strings.HasPrefix(n, "../") {
			t.Errorf("%s: name not clean and relative", h.Name)
		}
		if d := path.Dir(n); d != "." && !(seen[d] && lt.hdr[d].Typeflag == tar.TypeDir) {
			t.Errorf("%s: parent %s is not a directory earlier in the tar", n, d)
		}
		seen[n] = true
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d %q:%q, want 0:0 with no names", n, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(baseModTime) {
			t.Errorf("%s: modified %v, want %v", n, h.ModTime, baseModTime)
		}
		if h.Typeflag == tar.TypeSymlink {
			if _, err := lt.resolve("/" + n); err != nil {
				t.Errorf("%s -> %s: %v", n, h.Linkname, err)
			}
		}
	}
}

// regular returns the regular file p resolves to in the layer.
func (lt *layerTar) regular(p string) (string, error) {
	r, err := lt.resolve(p)
	if err == nil && lt.hdr[r].Typeflag != tar.TypeReg {
		err = fmt.Errorf("%s is not a regular file", p)
	}
	return r, err
}

// resolve follows p's symbolic links inside the layer, like rootFS.resolve.
func (lt *layerTar) resolve(p string) (string, error) {
	todo := strings.Split(p, "/")
	cur := ""
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if cur = path.Dir(cur); cur == "." {
				cur = ""
			}
			continue
		}
		next := path.Join(cur, c)
		h := lt.hdr[next]
		switch {
		case h == nil:
			return "", fmt.Errorf("%s: %s not in the layer", p, next)
		case h.Typeflag != tar.TypeSymlink:
			cur = next
			continue
		}
		if hops++; hops > maxSymlinks {
			return "", fmt.Errorf("%s: too many links", p)
		}
		if path.IsAbs(h.Linkname) {
			cur = ""
		}
		todo = append(strings.Split(h.Linkname, "/"), todo...)
	}
	return cur, nil
}
