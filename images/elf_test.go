package images

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
)

// fakeELF describes a minimal 64-bit little-endian ELF file: enough for
// readELF and the resolver, not to run.
type fakeELF struct {
	machine elf.Machine // EM_X86_64 when zero
	interp  string
	needed  []string
	soname  string
	rpath   string
	runpath string
}

// bytes lays the file out as one PT_LOAD segment mapping the whole file at
// address 0, holding the interpreter, the string table and the dynamic
// array, with PT_INTERP and PT_DYNAMIC pointing into it.
func (f fakeELF) bytes() []byte {
	machine := f.machine
	if machine == 0 {
		machine = elf.EM_X86_64
	}
	const ehsize, phsize = 64, 56
	var dyn []elf.Dyn64
	strtab := []byte{0}
	str := func(tag elf.DynTag, s string) {
		dyn = append(dyn, elf.Dyn64{Tag: int64(tag), Val: uint64(len(strtab))})
		strtab = append(append(strtab, s...), 0)
	}
	for _, n := range f.needed {
		str(elf.DT_NEEDED, n)
	}
	if f.soname != "" {
		str(elf.DT_SONAME, f.soname)
	}
	if f.rpath != "" {
		str(elf.DT_RPATH, f.rpath)
	}
	if f.runpath != "" {
		str(elf.DT_RUNPATH, f.runpath)
	}
	dynamic := len(dyn) > 0
	nph := 1
	if f.interp != "" {
		nph++
	}
	if dynamic {
		nph++
	}
	interpAt := uint64(ehsize + nph*phsize)
	interp := []byte(f.interp + "\x00")
	if f.interp == "" {
		interp = nil
	}
	strAt := interpAt + uint64(len(interp))
	dynAt := (strAt + uint64(len(strtab)) + 7) &^ 7
	if dynamic {
		dyn = append(dyn, elf.Dyn64{Tag: int64(elf.DT_STRTAB), Val: strAt},
			elf.Dyn64{Tag: int64(elf.DT_STRSZ), Val: uint64(len(strtab))}, elf.Dyn64{Tag: int64(elf.DT_NULL)})
	}
	end := dynAt + uint64(len(dyn))*16
	var b bytes.Buffer
	hdr := elf.Header64{
		Type: uint16(elf.ET_DYN), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: uint16(nph), Shentsize: 64,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	progs := []elf.Prog64{{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R), Filesz: end, Memsz: end, Align: 8}}
	if f.interp != "" {
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_INTERP), Off: interpAt, Vaddr: interpAt, Filesz: uint64(len(interp)), Memsz: uint64(len(interp)), Align: 1})
	}
	if dynamic {
		n := uint64(len(dyn)) * 16
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_DYNAMIC), Off: dynAt, Vaddr: dynAt, Filesz: n, Memsz: n, Align: 8})
	}
	binary.Write(&b, binary.LittleEndian, hdr)
	binary.Write(&b, binary.LittleEndian, progs)
	b.Write(interp)
	b.Write(strtab)
	b.Write(make([]byte, dynAt-uint64(b.Len())))
	binary.Write(&b, binary.LittleEndian, dyn)
	return b.Bytes()
}

func TestReadELF(t *testing.T) {
	x86 := elfInfo{Class: elf.ELFCLASS64, Data: elf.ELFDATA2LSB, Machine: elf.EM_X86_64}
	with := func(f func(*elfInfo)) elfInfo { i := x86; f(&i); return i }
	tests := []struct {
		name string
		data []byte
		want elfInfo
		err  string
	}{
		{"static", fakeELF{}.bytes(), x86, ""},
		{"dynamic", fakeELF{interp: "/lib64/ld-linux-x86-64.so.2", needed: []string{"libc.so.6", "libm.so.6"}}.bytes(),
			with(func(i *elfInfo) {
				i.Interp, i.Needed = "/lib64/ld-linux-x86-64.so.2", []string{"libc.so.6", "libm.so.6"}
			}), ""},
		{"library", fakeELF{soname: "libfoo.so.1", rpath: "$ORIGIN/../lib:/opt/lib", needed: []string{"libc.so.6"}}.bytes(),
			with(func(i *elfInfo) {
				i.Soname, i.RPath, i.Needed = "libfoo.so.1", []string{"$ORIGIN/../lib", "/opt/lib"}, []string{"libc.so.6"}
			}), ""},
		{"runpath hides rpath", fakeELF{rpath: "/old", runpath: "/new"}.bytes(),
			with(func(i *elfInfo) { i.RunPath = []string{"/new"} }), ""},
		{"aarch64", fakeELF{machine: elf.EM_AARCH64}.bytes(), with(func(i *elfInfo) { i.Machine = elf.EM_AARCH64 }), ""},
		{"script", []byte("#!/bin/sh\necho hi\n"), elfInfo{}, errNotELF.Error()},
		{"empty", nil, elfInfo{}, errNotELF.Error()},
		{"truncated", fakeELF{needed: []string{"libc.so.6"}}.bytes()[:100], elfInfo{}, "EOF"},
		{"string beyond table", func() []byte {
			b := fakeELF{needed: []string{"libc.so.6"}}.bytes()
			// The first dynamic entry is DT_NEEDED; point it far away.
			i := bytes.LastIndex(b, []byte("libc.so.6\x00")) + len("libc.so.6\x00")
			i = (i + 7) &^ 7
			binary.LittleEndian.PutUint64(b[i+8:], 1<<20)
			return b
		}(), elfInfo{}, "beyond the string table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readELF(bytes.NewReader(tt.data))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("readELF: error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("readELF: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("readELF (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadELFHost checks that reading the dynamic section through the
// program headers finds what debug/elf finds through the section headers.
func TestReadELFHost(t *testing.T) {
	for _, p := range []string{"/bin/sh", "/bin/bash", "/usr/bin/ls"} {
		t.Run(p, func(t *testing.T) {
			f, err := elf.Open(p)
			if err != nil {
				testutil.Unavailable(t, err.Error())
			}
			defer f.Close()
			want, err := f.ImportedLibraries()
			if err != nil {
				t.Fatal(err)
			}
			fh, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			got, err := readELF(fh)
			if err != nil {
				t.Fatalf("readELF(%s): %v", p, err)
			}
			if diff := cmp.Diff(want, got.Needed); diff != "" {
				t.Errorf("needed (-want +got):\n%s", diff)
			}
			if got.Interp == "" {
				t.Errorf("no PT_INTERP in %s", p)
			}
		})
	}
}

// TestELFNeedsHost resolves /bin/bash on this host.
func TestELFNeedsHost(t *testing.T) {
	r, err := newLibResolver(rootFS{dir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.needs("/bin/bash")
	if err != nil {
		t.Fatalf("needs /bin/bash: %v", err)
	}
	info, _, err := r.inspect("/bin/bash")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, info.Interp) {
		t.Errorf("needs /bin/bash = %q, want the loader %s in it", got, info.Interp)
	}
	if !slices.ContainsFunc(got, func(p string) bool { return path.Base(p) == "libc.so.6" }) {
		t.Errorf("needs /bin/bash = %q, want libc.so.6 in it", got)
	}
}

// TestELFNeedsMatchesLdd compares the files found with those ldd lists.
func TestELFNeedsMatchesLdd(t *testing.T) {
	ldd := testutil.RequireTool(t, "ldd")
	r, err := newLibResolver(rootFS{dir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/bin/bash", "/usr/bin/ls", "/usr/bin/ps", "/usr/bin/grep"} {
		t.Run(p, func(t *testing.T) {
			if _, err := os.Stat(p); err != nil {
				testutil.Unavailable(t, err.Error())
			}
			out, err := exec.Command(ldd, p).Output()
			if err != nil {
				t.Fatalf("ldd %s: %v", p, err)
			}
			var want []string
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				for _, f := range strings.Fields(sc.Text()) {
					if strings.HasPrefix(f, "/") {
						want = append(want, realPath(t, f))
					}
				}
			}
			needs, err := r.needs(p)
			if err != nil {
				t.Fatalf("needs %s: %v", p, err)
			}
			var got []string
			for _, n := range needs {
				got = append(got, realPath(t, n))
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("needs %s, real paths (-ldd +got):\n%s", p, diff)
			}
		})
	}
}

func realPath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// writeTree makes files (path → content; "->target" makes a symbolic
// link) under dir, files and directories with mode 0755 whatever the umask.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		h := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(c, "->"); ok {
			err = os.Symlink(target, h)
		} else {
			err = os.WriteFile(h, []byte(c), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		return os.Chmod(p, 0o755)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestELFNeeds(t *testing.T) {
	const ld = "/lib64/ld-linux-x86-64.so.2"
	lib := func(soname string, needed ...string) string {
		return string(fakeELF{soname: soname, needed: needed}.bytes())
	}
	prog := func(f fakeELF) string { f.interp = ld; return string(f.bytes()) }
	loader := string(fakeELF{soname: "ld-linux-x86-64.so.2"}.bytes())
	cache := func(entries ...ldCacheEntry) string { return string(ldCacheBytes(binary.LittleEndian, entries)) }
	tests := []struct {
		name  string
		files map[string]string
		prog  string
		want  []string
		err   []string // substrings of the error
	}{{
		name: "default directories, merged /usr",
		files: map[string]string{
			"lib": "->usr/lib", "lib64": "->usr/lib64",
			"usr/lib64/ld-linux-x86-64.so.2":                "->/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
			"usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": loader,
			"usr/lib/x86_64-linux-gnu/libc.so.6":            lib("libc.so.6", "ld-linux-x86-64.so.2"),
			"usr/lib/x86_64-linux-gnu/libtinfo.so.6":        "->libtinfo.so.6.4",
			"usr/lib/x86_64-linux-gnu/libtinfo.so.6.4":      lib("libtinfo.so.6", "libc.so.6"),
			"usr/bin/bash": prog(fakeELF{needed: []string{"libtinfo.so.6", "libc.so.6"}}),
		},
		prog: "/usr/bin/bash",
		want: []string{ld, "/lib/x86_64-linux-gnu/libtinfo.so.6", "/lib/x86_64-linux-gnu/libc.so.6"},
	}, {
		name: "statically linked",
		files: map[string]string{
			"bin/busybox": string(fakeELF{}.bytes()),
		},
		prog: "/bin/busybox",
	}, {
		name: "rpath with $ORIGIN, of the program's real directory, inherited",
		files: map[string]string{
			ld:                        loader,
			"opt/app/bin/app":         prog(fakeELF{needed: []string{"libapp.so.1"}, rpath: "$ORIGIN/../lib"}),
			"usr/bin/app":             "->/opt/app/bin/app",
			"opt/app/lib/libapp.so.1": lib("libapp.so.1", "libdep.so.1"),
			"opt/app/lib/libdep.so.1": lib("libdep.so.1"), // through the program's RPATH
			"usr/lib/libdep.so.1":     lib("libdep.so.1"),
		},
		prog: "/usr/bin/app",
		want: []string{ld, "/opt/app/bin/../lib/libapp.so.1", "/opt/app/bin/../lib/libdep.so.1"},
	}, {
		name: "runpath is not inherited",
		files: map[string]string{
			ld:                    loader,
			"bin/app":             prog(fakeELF{needed: []string{"libapp.so.1"}, runpath: "/opt/app"}),
			"opt/app/libapp.so.1": lib("libapp.so.1", "libdep.so.1"),
			"opt/app/libdep.so.1": lib("libdep.so.1"),
			"lib/libdep.so.1":     lib("libdep.so.1"),
		},
		prog: "/bin/app",
		want: []string{ld, "/opt/app/libapp.so.1", "/lib/libdep.so.1"},
	}, {
		name: "runpath of a library hides its own rpath and the program's",
		files: map[string]string{
			ld:        loader,
			"bin/app": prog(fakeELF{needed: []string{"libapp.so.1"}, rpath: "/opt/app"}),
			"opt/app/libapp.so.1": string(fakeELF{soname: "libapp.so.1", needed: []string{"libdep.so.1"},
				rpath: "/opt/app", runpath: "/nowhere"}.bytes()),
			"opt/app/libdep.so.1": lib("libdep.so.1"),
		},
		prog: "/bin/app",
		err:  []string{"/bin/app: libapp.so.1 needs libdep.so.1: not found (searched /nowhere, /lib/x86_64-linux-gnu,"},
	}, {
		name: "ld.so.cache before the default directories, for this ABI only",
		files: map[string]string{
			ld: loader,
			"etc/ld.so.cache": cache(
				ldCacheEntry{Flags: ldFlagAArch64 | ldFlagELFLibc6, Key: "libz.so.1", Value: "/opt/arm/libz.so.1"},
				ldCacheEntry{Flags: ldFlagX8664 | ldFlagELFLibc6, Key: "libz.so.1", Value: "/opt/gone/libz.so.1"},
				ldCacheEntry{Flags: ldFlagX8664 | ldFlagELFLibc6, Key: "libz.so.1", Value: "/opt/z/libz.so.1"}),
			"opt/arm/libz.so.1":                  string(fakeELF{soname: "libz.so.1", machine: elf.EM_AARCH64}.bytes()),
			"opt/z/libz.so.1":                    lib("libz.so.1"),
			"usr/lib/x86_64-linux-gnu/libz.so.1": lib("libz.so.1"),
			"bin/gzip":                           prog(fakeELF{needed: []string{"libz.so.1"}}),
		},
		prog: "/bin/gzip",
		want: []string{ld, "/opt/z/libz.so.1"},
	}, {
		name: "a library of another machine is passed over",
		files: map[string]string{
			ld:                                   loader,
			"lib/x86_64-linux-gnu/libz.so.1":     string(fakeELF{soname: "libz.so.1", machine: elf.EM_AARCH64}.bytes()),
			"usr/lib/x86_64-linux-gnu/libz.so.1": "not ELF",
			"lib64/libz.so.1":                    lib("libz.so.1"),
			"bin/gzip":                           prog(fakeELF{needed: []string{"libz.so.1"}}),
		},
		prog: "/bin/gzip",
		want: []string{ld, "/lib64/libz.so.1"},
	}, {
		name: "cycles and sonames already loaded",
		files: map[string]string{
			ld:                "->/lib/ld.so",
			"lib/ld.so":       loader,
			"lib/liba.so.1":   lib("liba.so.1", "libb.so.1", "ld-linux-x86-64.so.2"),
			"lib/libb.so.1":   lib("libb.so.1", "liba.so.1"),
			"usr/bin/program": prog(fakeELF{needed: []string{"liba.so.1", "libb.so.1"}}),
		},
		prog: "/usr/bin/program",
		want: []string{ld, "/lib/liba.so.1", "/lib/libb.so.1"},
	}, {
		name: "missing library",
		files: map[string]string{
			ld:            loader,
			"bin/program": prog(fakeELF{needed: []string{"libmissing.so.3"}}),
		},
		prog: "/bin/program",
		err:  []string{"/bin/program needs libmissing.so.3: not found", "/usr/lib/x86_64-linux-gnu"},
	}, {
		name: "missing loader",
		files: map[string]string{
			"bin/program": prog(fakeELF{}),
		},
		prog: "/bin/program",
		err:  []string{"/bin/program: program interpreter " + ld},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			r, err := newLibResolver(rootFS{dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.needs(tt.prog)
			if tt.err != nil {
				if err == nil {
					t.Fatalf("needs %s = %q, want an error", tt.prog, got)
				}
				for _, s := range tt.err {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("needs %s: error %q, want it to contain %q", tt.prog, err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("needs %s: %v", tt.prog, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("needs %s (-want +got):\n%s", tt.prog, diff)
			}
		})
	}
}

// TestELFNeedsCopiedBinary copies a real program and its libraries into a
// fake root where only the ld.so.cache written here says where each
// library is.
func TestELFNeedsCopiedBinary(t *testing.T) {
	host, err := newLibResolver(rootFS{dir: "/"})
	if err != nil {
		t.Fatal(err)
	}
	const prog = "/usr/bin/ls"
	libs, err := host.needs(prog)
	if err != nil {
		testutil.Unavailable(t, err.Error())
	}
	info, _, err := host.inspect(prog)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyFile(t, prog, filepath.Join(dir, prog))
	copyFile(t, info.Interp, filepath.Join(dir, info.Interp))
	want := []string{info.Interp}
	var entries []ldCacheEntry
	for i, l := range libs[1:] {
		p := path.Join("/opt", "pkg"+string(rune('a'+i)), "lib", path.Base(l))
		copyFile(t, l, filepath.Join(dir, p))
		want = append(want, p)
		entries = append(entries, ldCacheEntry{Flags: ldCacheFlags(info)[0], Key: path.Base(l), Value: p})
	}
	writeCache := func(entries []ldCacheEntry) {
		if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "etc/ld.so.cache"), ldCacheBytes(binary.NativeEndian, entries), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCache(entries)
	r, err := newLibResolver(rootFS{dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.needs(prog)
	if err != nil {
		t.Fatalf("needs %s: %v", prog, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("needs %s (-want +got):\n%s", prog, diff)
	}

	// Without the cache's last entry, that library is found nowhere.
	missing := entries[len(entries)-1].Key
	writeCache(entries[:len(entries)-1])
	if r, err = newLibResolver(rootFS{dir: dir}); err != nil {
		t.Fatal(err)
	}
	_, err = r.needs(prog)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), prog) || !strings.Contains(err.Error(), missing) {
		t.Errorf("needs %s without %s: error %v, want ErrNotFound naming both", prog, missing, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// FuzzReadELF checks that no input makes readELF panic.
func FuzzReadELF(f *testing.F) {
	f.Add(fakeELF{}.bytes())
	f.Add(fakeELF{interp: "/lib/ld.so", needed: []string{"libc.so.6"}, soname: "x", rpath: "$ORIGIN", runpath: "/a:/b"}.bytes())
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		readELF(bytes.NewReader(b))
	})
}
