package images

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The layout of /etc/ld.so.cache, as glibc's sysdeps/generic/dl-cache.h
// describes it. The new format is a header, nlibs entries and a string
// table; the key (a soname) and value (a path) of an entry are offsets of
// NUL-terminated strings counted from the start of the new header. The old
// format (libc5, glibc < 2.32) is a shorter header and table; the new format
// may follow it, hidden at the start of the old string table.
const (
	ldCacheMagicOld   = "ld.so-1.7.0"
	ldCacheOldHeader  = 16 // magic[11], padding, uint32 nlibs
	ldCacheOldEntry   = 12 // int32 flags, uint32 key, value
	ldCacheMagicNew   = "glibc-ld.so.cache1.1"
	ldCacheNewHeader  = 48 // magic+version[20], nlibs, len_strings, flags, pad[3], extension_offset, unused[3]
	ldCacheNewEntry   = 24 // int32 flags, uint32 key, value, osversion, uint64 hwcap
	ldCacheMaxEntries = 1 << 20
	ldCacheInvalid    = 1 // cache_file_new.flags & 3: ldconfig marked it invalid
	ldCacheLittle     = 2 // little endian
	ldCacheBig        = 3 // big endian
)

// The flags of a cache entry: the type in the low byte (ELF libc6 is 3),
// the ABI it needs in the high byte (x86-64 is 0x0300, hence 0x0303).
const (
	ldFlagELF       = 0x0001
	ldFlagELFLibc6  = 0x0003
	ldFlagX8664     = 0x0300
	ldFlagS390      = 0x0400
	ldFlagPPC64     = 0x0500
	ldFlagX32       = 0x0800
	ldFlagARMHF     = 0x0900
	ldFlagAArch64   = 0x0a00
	ldFlagARMSF     = 0x0b00
	ldFlagRISCVSoft = 0x0f00
	ldFlagRISCVDbl  = 0x1000
	ldFlagLArchDbl  = 0x1200
)

// errBadLDCache is wrapped by every error of parseLDCache.
var errBadLDCache = errors.New("bad ld.so.cache")

// ldCacheEntry is one library of an ld.so.cache: its soname, its path and
// the ABI flags it was built for.
type ldCacheEntry struct {
	Flags int32
	Key   string
	Value string
	HWCap uint64
}

// ldCache is a parsed ld.so.cache, its entries in file order.
type ldCache struct {
	Entries []ldCacheEntry
}

// parseLDCache parses the contents of an ld.so.cache in the new format,
// alone or after an old-format table. It never panics on bad input.
func parseLDCache(b []byte) (*ldCache, error) {
	switch {
	case bytes.HasPrefix(b, []byte(ldCacheMagicNew)):
		return parseLDCacheNew(b)
	case bytes.HasPrefix(b, []byte(ldCacheMagicOld)):
		if len(b) < ldCacheOldHeader {
			return nil, fmt.Errorf("%w: old header truncated at %d bytes", errBadLDCache, len(b))
		}
		n := uint64(binary.NativeEndian.Uint32(b[12:16]))
		end := uint64(ldCacheOldHeader) + n*ldCacheOldEntry
		// The new header is aligned as struct cache_file_new: 8 bytes
		// where uint64 is 8-aligned, 4 on i386.
		for _, align := range []uint64{8, 4} {
			off := (end + align - 1) &^ (align - 1)
			if off < uint64(len(b)) && bytes.HasPrefix(b[off:], []byte(ldCacheMagicNew)) {
				c, err := parseLDCacheNew(b[off:])
				if err != nil {
					return nil, fmt.Errorf("new format at offset %d: %w", off, err)
				}
				return c, nil
			}
		}
		return nil, fmt.Errorf("%w: old %s format without a %s table (%d old entries)", errBadLDCache, ldCacheMagicOld, ldCacheMagicNew, n)
	}
	return nil, fmt.Errorf("%w: no %s or %s magic", errBadLDCache, ldCacheMagicNew, ldCacheMagicOld)
}

// parseLDCacheNew parses a new-format cache that starts at b[0].
func parseLDCacheNew(b []byte) (*ldCache, error) {
	if len(b) < ldCacheNewHeader {
		return nil, fmt.Errorf("%w: header truncated at %d bytes, want %d", errBadLDCache, len(b), ldCacheNewHeader)
	}
	var bo binary.ByteOrder = binary.NativeEndian
	switch b[28] & 3 {
	case ldCacheLittle:
		bo = binary.LittleEndian
	case ldCacheBig:
		bo = binary.BigEndian
	case ldCacheInvalid:
		return nil, fmt.Errorf("%w: header marks the cache invalid", errBadLDCache)
	}
	n := uint64(bo.Uint32(b[20:24]))
	if n > ldCacheMaxEntries {
		return nil, fmt.Errorf("%w: %d entries", errBadLDCache, n)
	}
	if end := ldCacheNewHeader + n*ldCacheNewEntry; end > uint64(len(b)) {
		return nil, fmt.Errorf("%w: %d entries need %d bytes, have %d", errBadLDCache, n, end, len(b))
	}
	c := &ldCache{Entries: make([]ldCacheEntry, 0, n)}
	for i := range int(n) {
		e := b[ldCacheNewHeader+i*ldCacheNewEntry:][:ldCacheNewEntry]
		key, err := ldCacheString(b, bo.Uint32(e[4:8]))
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d: key: %w", errBadLDCache, i, err)
		}
		value, err := ldCacheString(b, bo.Uint32(e[8:12]))
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d (%s): value: %w", errBadLDCache, i, key, err)
		}
		c.Entries = append(c.Entries, ldCacheEntry{
			Flags: int32(bo.Uint32(e[0:4])),
			Key:   key,
			Value: value,
			HWCap: bo.Uint64(e[16:24]),
		})
	}
	return c, nil
}

// ldCacheString returns the NUL-terminated string at off in b.
func ldCacheString(b []byte, off uint32) (string, error) {
	if uint64(off) >= uint64(len(b)) {
		return "", fmt.Errorf("offset %d beyond the end (%d bytes)", off, len(b))
	}
	s := b[off:]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return "", fmt.Errorf("string at offset %d has no terminating NUL", off)
	}
	return string(s[:i]), nil
}

// lookup returns the paths the cache lists for soname with one of the
// accepted flags, as ld.so would try them: plain entries first, then those
// of glibc-hwcaps subdirectories (which need a CPU level the image's host may
// lack; the plain one works everywhere).
func (c *ldCache) lookup(soname string, flags []int32) []string {
	if c == nil {
		return nil
	}
	var plain, hwcaps []string
	for _, e := range c.Entries {
		switch {
		case e.Key != soname || !slices.Contains(flags, e.Flags):
		case e.HWCap == 0:
			plain = append(plain, e.Value)
		default:
			hwcaps = append(hwcaps, e.Value)
		}
	}
	return append(plain, hwcaps...)
}

// ldCacheFlags returns the entry flags ld.so accepts for objects of f's
// class, machine and ABI (glibc's _dl_cache_check_flags).
func ldCacheFlags(f elfInfo) []int32 {
	switch {
	case f.Machine == elf.EM_X86_64 && f.Class == elf.ELFCLASS64:
		return []int32{ldFlagX8664 | ldFlagELFLibc6}
	case f.Machine == elf.EM_X86_64:
		return []int32{ldFlagX32 | ldFlagELFLibc6}
	case f.Machine == elf.EM_AARCH64 && f.Class == elf.ELFCLASS64:
		return []int32{ldFlagAArch64 | ldFlagELFLibc6}
	case f.Machine == elf.EM_ARM && f.Flags&elfARMFloatHard != 0:
		return []int32{ldFlagARMHF | ldFlagELFLibc6}
	case f.Machine == elf.EM_ARM:
		return []int32{ldFlagARMSF | ldFlagELFLibc6, ldFlagELFLibc6}
	case f.Machine == elf.EM_RISCV && f.Flags&elfRISCVFloatABI == elfRISCVFloatDouble:
		return []int32{ldFlagRISCVDbl | ldFlagELFLibc6}
	case f.Machine == elf.EM_RISCV:
		return []int32{ldFlagRISCVSoft | ldFlagELFLibc6}
	case f.Machine == elf.EM_PPC64:
		return []int32{ldFlagPPC64 | ldFlagELFLibc6}
	case f.Machine == elf.EM_S390 && f.Class == elf.ELFCLASS64:
		return []int32{ldFlagS390 | ldFlagELFLibc6}
	case f.Machine == elf.EM_LOONGARCH:
		return []int32{ldFlagLArchDbl | ldFlagELFLibc6}
	}
	return []int32{ldFlagELF, ldFlagELFLibc6}
}
