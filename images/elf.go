package images

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// ELF header flags that choose an ABI (and so an ld.so.cache flag and a
// multiarch triplet); debug/elf does not expose e_flags.
const (
	elfARMFloatHard     = 0x400 // EF_ARM_ABI_FLOAT_HARD
	elfRISCVFloatABI    = 0x6   // EF_RISCV_FLOAT_ABI mask
	elfRISCVFloatDouble = 0x4   // EF_RISCV_FLOAT_ABI_DOUBLE
)

// Bounds on what readELF reads from one file, so a hostile file cannot make
// it allocate without limit.
const (
	elfMaxInterp  = 4 << 10
	elfMaxDynamic = 1 << 20
	elfMaxStrtab  = 16 << 20
)

// errNotELF is returned by readELF for a file that is not ELF (a script).
var errNotELF = errors.New("not an ELF file")

// elfInfo is what the dynamic loader reads from an ELF file to load it:
// its ABI, its program interpreter (PT_INTERP) and, from its dynamic
// section, what it needs (DT_NEEDED), its own name (DT_SONAME) and where
// to look (DT_RPATH, DT_RUNPATH; colon-separated lists, split).
type elfInfo struct {
	Class   elf.Class
	Data    elf.Data
	Machine elf.Machine
	Flags   uint32
	Interp  string
	Needed  []string
	Soname  string
	RPath   []string
	RunPath []string
}

// compatible reports whether ld.so would load o into a process of f.
func (f elfInfo) compatible(o elfInfo) bool {
	return f.Class == o.Class && f.Data == o.Data && f.Machine == o.Machine
}

// readELF reads what the loader needs from the ELF file r. It reads the
// dynamic section through the program headers, as ld.so does, so files
// stripped of their section headers are read too.
func readELF(r io.ReaderAt) (elfInfo, error) {
	var ident [elf.EI_NIDENT]byte
	if _, err := r.ReadAt(ident[:], 0); err != nil || string(ident[:4]) != elf.ELFMAG {
		return elfInfo{}, errNotELF
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return elfInfo{}, err
	}
	info := elfInfo{Class: f.Class, Data: f.Data, Machine: f.Machine}
	flagsAt := int64(36) // e_flags in Elf32_Ehdr
	if f.Class == elf.ELFCLASS64 {
		flagsAt = 48
	}
	var fl [4]byte
	if _, err := r.ReadAt(fl[:], flagsAt); err != nil {
		return elfInfo{}, fmt.Errorf("read e_flags: %w", err)
	}
	info.Flags = f.ByteOrder.Uint32(fl[:])
	var dyn *elf.Prog
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			b, err := readSegment(p, elfMaxInterp)
			if err != nil {
				return elfInfo{}, fmt.Errorf("read PT_INTERP: %w", err)
			}
			info.Interp, _, _ = strings.Cut(string(b), "\x00")
		case elf.PT_DYNAMIC:
			dyn = p
		}
	}
	if dyn == nil {
		return info, nil // statically linked
	}
	if err := readDynamic(f, dyn, &info); err != nil {
		return elfInfo{}, fmt.Errorf("read PT_DYNAMIC: %w", err)
	}
	return info, nil
}

// readSegment returns the file contents of p, at most max bytes.
func readSegment(p *elf.Prog, max uint64) ([]byte, error) {
	if p.Filesz > max {
		return nil, fmt.Errorf("segment of %d bytes, more than %d", p.Filesz, max)
	}
	b := make([]byte, p.Filesz)
	if _, err := p.ReadAt(b, 0); err != nil {
		return nil, err
	}
	return b, nil
}

// readDynamic fills info's needs and search paths from the dynamic segment.
func readDynamic(f *elf.File, dyn *elf.Prog, info *elfInfo) error {
	d, err := readSegment(dyn, elfMaxDynamic)
	if err != nil {
		return err
	}
	size := 8
	if f.Class == elf.ELFCLASS64 {
		size = 16
	}
	type tagVal struct {
		tag elf.DynTag
		val uint64
	}
	var strs []tagVal
	var strtab, strsz uint64
entries:
	for ; len(d) >= size; d = d[size:] {
		var t tagVal
		if size == 16 {
			t = tagVal{elf.DynTag(f.ByteOrder.Uint64(d)), f.ByteOrder.Uint64(d[8:])}
		} else {
			t = tagVal{elf.DynTag(f.ByteOrder.Uint32(d)), uint64(f.ByteOrder.Uint32(d[4:]))}
		}
		switch t.tag {
		case elf.DT_NULL:
			break entries
		case elf.DT_STRTAB:
			strtab = t.val
		case elf.DT_STRSZ:
			strsz = t.val
		case elf.DT_NEEDED, elf.DT_SONAME, elf.DT_RPATH, elf.DT_RUNPATH:
			strs = append(strs, t)
		}
	}
	if len(strs) == 0 {
		return nil
	}
	tab, err := readVirtual(f, strtab, strsz)
	if err != nil {
		return fmt.Errorf("string table: %w", err)
	}
	for _, t := range strs {
		if t.val >= uint64(len(tab)) {
			return fmt.Errorf("%v string at %d beyond the string table (%d bytes)", t.tag, t.val, len(tab))
		}
		s, _, _ := bytes.Cut(tab[t.val:], []byte{0})
		switch t.tag {
		case elf.DT_NEEDED:
			info.Needed = append(info.Needed, string(s))
		case elf.DT_SONAME:
			info.Soname = string(s)
		case elf.DT_RPATH:
			info.RPath = append(info.RPath, strings.Split(string(s), ":")...)
		case elf.DT_RUNPATH:
			info.RunPath = append(info.RunPath, strings.Split(string(s), ":")...)
		}
	}
	if info.RunPath != nil {
		info.RPath = nil // ld.so ignores DT_RPATH when DT_RUNPATH is present
	}
	return nil
}

// readVirtual reads size bytes at virtual address addr, through the
// PT_LOAD segment that maps it.
func readVirtual(f *elf.File, addr, size uint64) ([]byte, error) {
	if size > elfMaxStrtab {
		return nil, fmt.Errorf("%d bytes, more than %d", size, elfMaxStrtab)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || addr < p.Vaddr || addr-p.Vaddr >= p.Filesz {
			continue
		}
		if addr-p.Vaddr+size > p.Filesz {
			return nil, fmt.Errorf("%d bytes at %#x run past their segment", size, addr)
		}
		b := make([]byte, size)
		if _, err := p.ReadAt(b, int64(addr-p.Vaddr)); err != nil {
			return nil, err
		}
		return b, nil
	}
	return nil, fmt.Errorf("address %#x is in no PT_LOAD segment", addr)
}

// multiarchTriplet returns Debian's multiarch directory name for f's ABI
// (x86_64-linux-gnu), or "" when unknown.
func multiarchTriplet(f elfInfo) string {
	is64 := f.Class == elf.ELFCLASS64
	switch f.Machine {
	case elf.EM_X86_64:
		if is64 {
			return "x86_64-linux-gnu"
		}
		return "x86_64-linux-gnux32"
	case elf.EM_386:
		return "i386-linux-gnu"
	case elf.EM_AARCH64:
		return "aarch64-linux-gnu"
	case elf.EM_ARM:
		if f.Flags&elfARMFloatHard != 0 {
			return "arm-linux-gnueabihf"
		}
		return "arm-linux-gnueabi"
	case elf.EM_RISCV:
		return "riscv64-linux-gnu"
	case elf.EM_PPC64:
		if f.Data == elf.ELFDATA2LSB {
			return "powerpc64le-linux-gnu"
		}
		return "powerpc64-linux-gnu"
	case elf.EM_S390:
		return "s390x-linux-gnu"
	case elf.EM_LOONGARCH:
		return "loongarch64-linux-gnu"
	}
	return ""
}

// defaultLibDirs returns the directories ld.so searches last for f's ABI.
func defaultLibDirs(f elfInfo) []string {
	var dirs []string
	if t := multiarchTriplet(f); t != "" {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	if f.Class == elf.ELFCLASS64 {
		dirs = append(dirs, "/lib64", "/usr/lib64")
	}
	return append(dirs, "/lib", "/usr/lib")
}

// libResolver finds the shared libraries programs need, inside a host
// root, the way ld.so does.
type libResolver struct {
	root  rootFS
	cache *ldCache // nil when the root has no /etc/ld.so.cache
	elfs  map[string]elfInfo
}

// newLibResolver returns a resolver for root, reading its ld.so.cache.
func newLibResolver(root rootFS) (*libResolver, error) {
	r := &libResolver{root: root, elfs: map[string]elfInfo{}}
	b, err := root.readFile("/etc/ld.so.cache")
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err == nil {
		r.cache, err = parseLDCache(b)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", root.host("/etc/ld.so.cache"), err)
	}
	return r, nil
}

// inspect returns the ELF information of the file at p (a path in the
// root), with the path symbolic links resolve it to.
func (r *libResolver) inspect(p string) (elfInfo, string, error) {
	res, err := r.root.resolve(p)
	if err != nil {
		return elfInfo{}, "", err
	}
	real := res.path
	if info, ok := r.elfs[real]; ok {
		return info, real, nil
	}
	f, err := os.Open(r.root.host(real))
	if err != nil {
		return elfInfo{}, "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return elfInfo{}, "", fmt.Errorf("%s: %w", p, errNotELF)
	}
	info, err := readELF(f)
	if err != nil {
		return elfInfo{}, "", fmt.Errorf("%s: %w", p, err)
	}
	r.elfs[real] = info
	return info, real, nil
}

// loaded is an object in the process ld.so builds: the path it was found
// at, $ORIGIN, and the object that first needed it.
type loaded struct {
	path   string
	origin string
	info   elfInfo
	loader *loaded
}

// needs returns what the program at prog (a path in the root) needs to
// run: its dynamic loader, then its shared libraries, breadth first as
// ld.so loads them, each as the path it is found at (before symbolic
// links). A statically linked program needs nothing. A library found
// nowhere is an error naming the program and the soname, wrapping
// ErrNotFound.
func (r *libResolver) needs(prog string) ([]string, error) {
	info, real, err := r.inspect(prog)
	if err != nil {
		return nil, err
	}
	// For the program, $ORIGIN is where its real file is (the kernel
	// resolves /proc/self/exe); for libraries, where they were found.
	exe := &loaded{path: prog, origin: path.Dir(real), info: info}
	var paths []string
	have := map[string]bool{}
	if info.Interp != "" {
		li, _, err := r.inspect(info.Interp)
		if err != nil {
			return nil, fmt.Errorf("%s: program interpreter %s: %w", prog, info.Interp, err)
		}
		paths = append(paths, info.Interp)
		have[info.Interp], have[li.Soname] = true, true
	}
	for queue := []*loaded{exe}; len(queue) > 0; queue = queue[1:] {
		o := queue[0]
		for _, name := range o.info.Needed {
			if have[name] {
				continue
			}
			l, err := r.find(name, o, exe)
			if err != nil {
				if o != exe {
					return nil, fmt.Errorf("%s: %s needs %s: %w", prog, path.Base(o.path), name, err)
				}
				return nil, fmt.Errorf("%s needs %s: %w", prog, name, err)
			}
			have[name], have[l.info.Soname] = true, true
			paths = append(paths, l.path)
			queue = append(queue, l)
		}
	}
	return paths, nil
}

// find looks for the library name that o needs, in ld.so's order: the
// DT_RPATH of o and of the objects that loaded it up to the program
// (unless o has DT_RUNPATH), o's DT_RUNPATH, the ld.so.cache, the default
// directories. Files of another ABI are passed over.
func (r *libResolver) find(name string, o, exe *loaded) (*loaded, error) {
	var cands, where []string
	search := func(dirs ...string) {
		for _, d := range dirs {
			where = append(where, d)
			cands = append(cands, strings.TrimSuffix(d, "/")+"/"+name)
		}
	}
	if strings.Contains(name, "/") {
		cands, where = []string{name}, []string{name}
	} else {
		if o.info.RunPath == nil {
			for l := o; l != nil; l = l.loader {
				search(expandOrigin(l.info.RPath, l.origin)...)
			}
		}
		search(expandOrigin(o.info.RunPath, o.origin)...)
		if r.cache != nil {
			where = append(where, "ld.so.cache")
			cands = append(cands, r.cache.lookup(name, ldCacheFlags(exe.info))...)
		}
		search(defaultLibDirs(exe.info)...)
	}
	for _, c := range cands {
		if !path.IsAbs(c) {
			continue // relative to the working directory: not reproducible
		}
		info, _, err := r.inspect(c)
		if err != nil || !exe.info.compatible(info) {
			continue
		}
		// Not path.Clean: ".." after a symbolic link is the link
		// target's parent for ld.so, which resolve follows.
		return &loaded{path: c, origin: c[:strings.LastIndex(c, "/")], info: info, loader: o}, nil
	}
	return nil, fmt.Errorf("%w (searched %s)", ErrNotFound, strings.Join(where, ", "))
}

// expandOrigin returns the directories of a DT_RPATH or DT_RUNPATH with
// $ORIGIN replaced by origin.
func expandOrigin(dirs []string, origin string) []string {
	var out []string
	for _, d := range dirs {
		d = strings.ReplaceAll(d, "${ORIGIN}", origin)
		d = strings.ReplaceAll(d, "$ORIGIN", origin)
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}
