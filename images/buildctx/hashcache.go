package buildctx

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// HashCache remembers the sha256 of files' content by their inode and
// stat, so that Hash reads again only the files that changed since: a
// cached rebuild then costs one lstat a file. BuildKit keeps its content
// hashes between builds for the same reason.
//
// An entry is used only while the file's device, inode, size, mode,
// modification time and change time are all as they were. The change time
// cannot be set by anyone, so a file written since has another one, with
// one exception that is kept out: a file changed twice within one tick of
// its filesystem's clock (a jiffy, or a whole second on some filesystems)
// keeps its change time. So a file is only remembered once its change time
// is more than racyWindow before the Hash that reads it, as git does with
// its index ("racily clean" entries).
//
// A HashCache is safe for concurrent use.
type HashCache struct {
	mu     sync.Mutex
	m      map[[2]uint64]cached
	window time.Duration // racyWindow, less in tests
	dirty  bool          // added to since loaded or saved
}

// cached is what a HashCache holds for one inode.
type cached struct {
	size, mtime, ctime int64
	mode               uint32
	used               bool
	sum                [sha256.Size]byte
}

// racyWindow is how long after its last change a file may be remembered.
const racyWindow = 2 * time.Second

// maxCached bounds a saved cache; the entries used since it was loaded
// are kept first.
const maxCached = 200_000

// The saved form: a header line, then one fixed-size record an entry.
const cacheMagic = "minidocker build hash cache 1\n"

const recordSize = 8*6 + sha256.Size

// NewHashCache returns an empty cache.
func NewHashCache() *HashCache {
	return &HashCache{m: map[[2]uint64]cached{}, window: racyWindow}
}

// LoadHashCache reads a cache saved at path. A missing file, or one that is
// not a cache of this form, gives an empty cache: a cache is only ever a
// shortcut.
func LoadHashCache(path string) (*HashCache, error) {
	hc := NewHashCache()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return hc, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load build hash cache: %w", err)
	}
	body, ok := bytes.CutPrefix(b, []byte(cacheMagic))
	if !ok || len(body)%recordSize != 0 {
		return hc, nil
	}
	for r := body; len(r) > 0; r = r[recordSize:] {
		n := func(i int) uint64 { return binary.LittleEndian.Uint64(r[8*i:]) }
		e := cached{size: int64(n(2)), mtime: int64(n(3)), ctime: int64(n(4)), mode: uint32(n(5))}
		copy(e.sum[:], r[8*6:])
		hc.m[[2]uint64{n(0), n(1)}] = e
	}
	return hc, nil
}

// Save writes the cache to path, atomically (to a temporary file beside
// it, then renamed over it), when files were added to it since it was
// loaded or last saved: a rebuild where nothing changed writes nothing.
func (hc *HashCache) Save(path string) error {
	buf := hc.encode()
	if buf == nil {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hashcache-*")
	if err == nil {
		_, err = tmp.Write(buf)
		err = errors.Join(err, tmp.Close())
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		hc.mu.Lock()
		hc.dirty = true // to be saved again
		hc.mu.Unlock()
		return fmt.Errorf("save build hash cache %s: %w", human.Visible(path), err)
	}
	return nil
}

// encode returns the saved form of the cache, or nil when nothing was
// added since it was loaded or saved; the entries used since are written
// first, so that they are the ones kept when the cache is over maxCached.
func (hc *HashCache) encode() []byte {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if !hc.dirty {
		return nil
	}
	hc.dirty = false
	buf := make([]byte, 0, len(cacheMagic)+recordSize*min(len(hc.m), maxCached))
	buf = append(buf, cacheMagic...)
	n := 0
	for _, usedOnly := range []bool{true, false} {
		for k, e := range hc.m {
			if e.used != usedOnly || n >= maxCached {
				continue
			}
			for _, v := range []uint64{k[0], k[1], uint64(e.size), uint64(e.mtime), uint64(e.ctime), uint64(e.mode)} {
				buf = binary.LittleEndian.AppendUint64(buf, v)
			}
			buf = append(buf, e.sum[:]...)
			n++
		}
	}
	return buf
}

// Len returns the number of files the cache remembers.
func (hc *HashCache) Len() int {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	return len(hc.m)
}

// lookup returns the remembered sum of the file st describes, if its stat
// is unchanged.
func (hc *HashCache) lookup(st *unix.Stat_t, sum *[sha256.Size]byte) bool {
	if hc == nil {
		return false
	}
	k := [2]uint64{st.Dev, st.Ino}
	hc.mu.Lock()
	defer hc.mu.Unlock()
	e, ok := hc.m[k]
	if !ok || e.size != st.Size || e.mode != st.Mode || e.mtime != st.Mtim.Nano() || e.ctime != st.Ctim.Nano() {
		return false
	}
	if !e.used {
		e.used = true
		hc.m[k] = e
	}
	*sum = e.sum
	return true
}

// add remembers the sum of the file st describes, read by a Hash that
// started at start, unless the file changed too shortly before.
func (hc *HashCache) add(st *unix.Stat_t, sum *[sha256.Size]byte, start time.Time) {
	if hc == nil || st.Ctim.Nano() > start.Add(-hc.window).UnixNano() {
		return
	}
	e := cached{size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(), mode: st.Mode, used: true, sum: *sum}
	hc.mu.Lock()
	hc.m[[2]uint64{st.Dev, st.Ino}] = e
	hc.dirty = true
	hc.mu.Unlock()
}
