package images

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/internal/testutil"
)

// ldCacheBytes builds a new-format ld.so.cache holding entries, in byte
// order bo, as ldconfig writes it: header, entries, string table.
func ldCacheBytes(bo binary.ByteOrder, entries []ldCacheEntry) []byte {
	strAt := ldCacheNewHeader + len(entries)*ldCacheNewEntry
	b := make([]byte, strAt)
	str := func(s string) uint32 {
		off := uint32(len(b))
		b = append(append(b, s...), 0)
		return off
	}
	copy(b, ldCacheMagicNew)
	bo.PutUint32(b[20:], uint32(len(entries)))
	b[28] = ldCacheLittle
	if bo == binary.BigEndian {
		b[28] = ldCacheBig
	}
	for i, e := range entries {
		at := ldCacheNewHeader + i*ldCacheNewEntry
		key, value := str(e.Key), str(e.Value)
		bo.PutUint32(b[at:], uint32(e.Flags))
		bo.PutUint32(b[at+4:], key)
		bo.PutUint32(b[at+8:], value)
		bo.PutUint64(b[at+16:], e.HWCap)
	}
	bo.PutUint32(b[24:], uint32(len(b)-strAt))
	return b
}

// withOldTable puts an old-format header and n (unused) entries before the
// new-format cache, aligned to 8 bytes as glibc does.
func withOldTable(n int, newCache []byte) []byte {
	old := make([]byte, ldCacheOldHeader+n*ldCacheOldEntry)
	copy(old, ldCacheMagicOld)
	binary.NativeEndian.PutUint32(old[12:], uint32(n))
	for len(old)%8 != 0 {
		old = append(old, 0)
	}
	return append(old, newCache...)
}

var testCacheEntries = []ldCacheEntry{
	{Flags: ldFlagX8664 | ldFlagELFLibc6, Key: "libc.so.6", Value: "/lib/x86_64-linux-gnu/libc.so.6"},
	{Flags: ldFlagELFLibc6, Key: "libc.so.6", Value: "/lib/i386-linux-gnu/libc.so.6"},
	{Flags: ldFlagX8664 | ldFlagELFLibc6, Key: "libz.so.1", Value: "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1", HWCap: 1 << 62},
	{Flags: ldFlagX8664 | ldFlagELFLibc6, Key: "libz.so.1", Value: "/usr/lib/x86_64-linux-gnu/libz.so.1"},
}

func TestParseLDCache(t *testing.T) {
	valid := ldCacheBytes(binary.LittleEndian, testCacheEntries)
	corrupt := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), valid...))
	}
	le := binary.LittleEndian
	tests := []struct {
		name string
		data []byte
		want []ldCacheEntry
		err  string
	}{
		{"new format", valid, testCacheEntries, ""},
		{"big endian", ldCacheBytes(binary.BigEndian, testCacheEntries), testCacheEntries, ""},
		{"no entries", ldCacheBytes(binary.LittleEndian, nil), []ldCacheEntry{}, ""},
		{"old then new, padded", withOldTable(1, valid), testCacheEntries, ""},
		{"old then new, aligned", withOldTable(2, valid), testCacheEntries, ""},
		{"empty", nil, nil, "no glibc-ld.so.cache1.1 or ld.so-1.7.0 magic"},
		{"not a cache", []byte("\x7fELF\x02\x01\x01"), nil, "magic"},
		{"truncated header", valid[:30], nil, "header truncated at 30 bytes"},
		{"truncated entries", valid[:ldCacheNewHeader+ldCacheNewEntry], nil, "4 entries need 144 bytes, have 72"},
		{"too many entries", corrupt(func(b []byte) []byte { le.PutUint32(b[20:], 1<<31); return b }), nil, "2147483648 entries"},
		{"key beyond the end", corrupt(func(b []byte) []byte { le.PutUint32(b[ldCacheNewHeader+4:], 1<<20); return b }),
			nil, "entry 0: key: offset 1048576 beyond the end"},
		{"value beyond the end", corrupt(func(b []byte) []byte { le.PutUint32(b[ldCacheNewHeader+8:], uint32(len(b))); return b }),
			nil, "entry 0 (libc.so.6): value: offset"},
		{"unterminated string", corrupt(func(b []byte) []byte { return b[:len(b)-1] }), nil, "no terminating NUL"},
		{"marked invalid", corrupt(func(b []byte) []byte { b[28] = ldCacheInvalid; return b }), nil, "marks the cache invalid"},
		{"old format only", withOldTable(3, nil), nil, "old ld.so-1.7.0 format without a glibc-ld.so.cache1.1 table"},
		{"old header truncated", []byte(ldCacheMagicOld), nil, "old header truncated"},
		{"old then bad new", withOldTable(1, valid[:40]), nil, "new format at offset 32: bad ld.so.cache: header truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLDCache(tt.data)
			if tt.err != "" {
				if !errors.Is(err, errBadLDCache) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseLDCache: error %v, want errBadLDCache containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseLDCache: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Entries); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLDCacheLookup(t *testing.T) {
	c := &ldCache{Entries: testCacheEntries}
	x8664 := []int32{ldFlagX8664 | ldFlagELFLibc6}
	tests := []struct {
		name   string
		cache  *ldCache
		soname string
		flags  []int32
		want   []string
	}{
		{"x86-64", c, "libc.so.6", x8664, []string{"/lib/x86_64-linux-gnu/libc.so.6"}},
		{"i386", c, "libc.so.6", []int32{ldFlagELF, ldFlagELFLibc6}, []string{"/lib/i386-linux-gnu/libc.so.6"}},
		{"hwcaps last", c, "libz.so.1", x8664, []string{
			"/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1"}},
		{"unknown", c, "libnope.so.1", x8664, nil},
		{"no cache", nil, "libc.so.6", x8664, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.cache.lookup(tt.soname, tt.flags)); diff != "" {
				t.Errorf("lookup(%s) (-want +got):\n%s", tt.soname, diff)
			}
		})
	}
}

// TestLDCacheHost parses this host's cache and checks that libc.so.6, for
// the ABI of /bin/sh, is a real file that is libc.so.6.
func TestLDCacheHost(t *testing.T) {
	b, err := os.ReadFile("/etc/ld.so.cache")
	if err != nil {
		testutil.Unavailable(t, err.Error())
	}
	c, err := parseLDCache(b)
	if err != nil {
		t.Fatalf("parse /etc/ld.so.cache: %v", err)
	}
	sh, err := os.Open("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	shInfo, err := readELF(sh)
	if err != nil {
		t.Fatal(err)
	}
	paths := c.lookup("libc.so.6", ldCacheFlags(shInfo))
	if len(paths) == 0 {
		t.Fatalf("no libc.so.6 for flags %#x among %d entries", ldCacheFlags(shInfo), len(c.Entries))
	}
	f, err := os.Open(paths[0])
	if err != nil {
		t.Fatalf("libc.so.6 → %v", err)
	}
	defer f.Close()
	info, err := readELF(f)
	if err != nil {
		t.Fatalf("libc.so.6 → %s: %v", paths[0], err)
	}
	if info.Soname != "libc.so.6" || !shInfo.compatible(info) {
		t.Errorf("libc.so.6 → %s, whose soname is %q and machine %v, want libc.so.6 for %v", paths[0], info.Soname, info.Machine, shInfo.Machine)
	}
}

// FuzzParseLDCache checks that no input makes the parser panic, and that
// it fails only with errBadLDCache.
func FuzzParseLDCache(f *testing.F) {
	f.Add(ldCacheBytes(binary.LittleEndian, testCacheEntries))
	f.Add(withOldTable(1, ldCacheBytes(binary.LittleEndian, testCacheEntries[:1])))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseLDCache(b)
		if err != nil {
			if !errors.Is(err, errBadLDCache) {
				t.Fatalf("error %v does not wrap errBadLDCache", err)
			}
			return
		}
		for _, e := range c.Entries {
			c.lookup(e.Key, []int32{e.Flags})
		}
	})
}
