package buildctx

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"runtime"
	"time"

	"github.com/moby/patternmatcher"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// Hash returns the digest of what srcs would copy, for the build cache:
// for each source its path as written, then each file beneath it in sorted
// order with its path, type, mode bits (setuid, setgid and sticky too),
// size, symlink target, device number, the sha256 of its content, and
// which earlier file it is a hard link of; owners too in a stage's root,
// where a copy keeps them (a build context's files are copied as 0:0).
// What .dockerignore excludes is left out, and so are times: touching a
// file does not change the hash, as it does not miss docker's cache.
func (c *Context) Hash(srcs []Source) (digest.Digest, error) {
	d, err := c.hash(srcs)
	return d, oneLine(err)
}

func (c *Context) hash(srcs []Source) (digest.Digest, error) {
	h := &hasher{
		c:     c,
		sum:   sha256.New(),
		buf:   make([]byte, unix.PathMax+1),
		links: map[[2]uint64]string{},
		start: time.Now(),
	}
	for range runtime.GOMAXPROCS(0) {
		h.readers = append(h.readers, &fileHasher{sum: sha256.New(), buf: make([]byte, 64<<10)})
	}
	for _, s := range srcs {
		if err := h.source(s); err != nil {
			return "", err
		}
	}
	return digest.NewDigest(digest.SHA256, h.sum), nil
}

// hasher writes the records of Hash, in order; the content of a
// directory's files is read and hashed in parallel beforehand, as reading
// many small files is mostly system calls.
type hasher struct {
	c       *Context
	sum     hash.Hash // of the whole
	buf     []byte    // for symlink targets
	num     [binary.MaxVarintLen64]byte
	links   map[[2]uint64]string // dev, inode → path of its first record
	readers []*fileHasher        // one for each goroutine of parallel
	start   time.Time            // for the cache's racy window
}

// fileInfo is what the records of one directory's files need.
type fileInfo struct {
	sum  [sha256.Size]byte
	link string // the path of the earlier record this is a hard link of
}

// source writes the records of one source and all beneath it.
func (h *hasher) source(s Source) error {
	h.str("source")
	h.str(s.Path)
	parent, name, st, err := h.c.openSource(s)
	if err != nil {
		return err
	}
	defer parent.Close()
	if !s.Dir {
		es := []entry{{name: name, rel: s.Rel, st: st}}
		return h.entries(int(parent.Fd()), es, []string{s.Path})
	}
	d, err := openDirAt(int(parent.Fd()), name, s.Rel)
	if err != nil {
		return err
	}
	defer d.Close()
	mi, err := h.c.matchInfo(s.Rel)
	if err != nil {
		return err
	}
	return h.dir(d, s.Rel, s.Path, mi)
}

// dir writes the records of what directory d (rel in the context) holds,
// each named beneath shown, and of all beneath.
func (h *hasher) dir(d *os.File, rel, shown string, mi patternmatcher.MatchInfo) error {
	es, err := h.c.list(d, rel, mi)
	if err != nil {
		return err
	}
	paths := make([]string, len(es))
	for i := range es {
		paths[i] = shown + "/" + es[i].name
	}
	if err := h.entries(int(d.Fd()), es, paths); err != nil {
		return err
	}
	for i := range es {
		e := &es[i]
		if !e.isDir() {
			continue
		}
		sub, err := openDirAt(int(d.Fd()), e.name, e.rel)
		if err != nil {
			return err
		}
		err = h.dir(sub, e.rel, paths[i], e.mi)
		sub.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// entries writes the records of the files es of the directory dirfd,
// named paths, their content hashed in parallel first.
func (h *hasher) entries(dirfd int, es []entry, paths []string) error {
	infos := make([]fileInfo, len(es))
	var read []int
	for i := range es {
		st := &es[i].st
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		if st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := h.links[key]; ok {
				infos[i].link = first
				continue
			}
			h.links[key] = paths[i]
		}
		if !h.c.cache.lookup(st, &infos[i].sum) {
			read = append(read, i)
		}
	}
	err := parallel(len(read), 8, func(w, k int) error {
		i := read[k]
		return h.readers[w].hash(dirfd, &es[i], paths[i], &infos[i].sum)
	})
	if err != nil {
		return err
	}
	for _, i := range read {
		h.c.cache.add(&es[i].st, &infos[i].sum, h.start)
	}
	for i := range es {
		if err := h.entry(dirfd, &es[i], paths[i], &infos[i]); err != nil {
			return err
		}
	}
	return nil
}

// entry writes the record of one file, named shown.
func (h *hasher) entry(dirfd int, e *entry, shown string, info *fileInfo) error {
	st := &e.st
	typ := st.Mode & unix.S_IFMT
	h.num64(uint64(typ))
	h.str(shown)
	h.num64(uint64(st.Mode & 0o7777))
	if h.c.stage {
		h.num64(uint64(st.Uid))
		h.num64(uint64(st.Gid))
	}
	switch typ {
	case unix.S_IFREG:
		if info.link != "" {
			h.str("link")
			h.str(info.link)
			return nil
		}
		h.num64(uint64(st.Size))
		h.sum.Write(info.sum[:])
	case unix.S_IFLNK:
		target, err := readlinkat(dirfd, e.name, h.buf, shown)
		if err != nil {
			return err
		}
		h.str(target)
	case unix.S_IFCHR, unix.S_IFBLK:
		h.num64(st.Rdev)
	}
	return nil
}

// fileHasher reads and hashes files on one goroutine.
type fileHasher struct {
	sum hash.Hash
	buf []byte
}

// hash puts the sha256 of the content of the regular file e in dirfd into
// out. It reads with the bare system calls: an os.File would cost two
// more for each file (fcntl, and epoll_ctl for the O_NONBLOCK that keeps a
// fifo swapped in from blocking the open), a third of the time for small
// files. A file whose size is not what e's lstat said is an error: the
// context changed while it was read.
func (fh *fileHasher) hash(dirfd int, e *entry, shown string, out *[sha256.Size]byte) error {
	var fd int
	err := retry(func() (err error) {
		fd, err = unix.Openat(dirfd, e.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		return err
	})
	if err != nil {
		return sysErr("openat", shown, "O_RDONLY|O_NOFOLLOW|O_NONBLOCK", err)
	}
	defer unix.Close(fd)
	fh.sum.Reset()
	size, total := e.st.Size, int64(0)
	for {
		n, err := unix.Read(fd, fh.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return sysErr("read", shown, "", err)
		}
		fh.sum.Write(fh.buf[:n])
		total += int64(n)
		// a short read of a regular file is its end: no read for EOF
		if n == 0 || total > size || (n < len(fh.buf) && total == size) {
			break
		}
	}
	if total != size {
		return fmt.Errorf("source file %s changed while it was read", quote(shown))
	}
	fh.sum.Sum(out[:0])
	return nil
}

// str writes s with its length before it, so that no two lists of strings
// write the same bytes.
func (h *hasher) str(s string) {
	h.num64(uint64(len(s)))
	io.WriteString(h.sum, s)
}

func (h *hasher) num64(v uint64) {
	n := binary.PutUvarint(h.num[:], v)
	h.sum.Write(h.num[:n])
}

// openSource opens the directory that holds the source s and lstats it
// there: the caller closes parent.
func (c *Context) openSource(s Source) (parent *os.File, name string, st unix.Stat_t, err error) {
	dir, name := path.Dir(s.Rel), path.Base(s.Rel)
	if s.Rel == "." {
		dir, name = ".", "."
	}
	parent, err = c.root.Open(dir)
	if err != nil {
		return nil, "", st, c.notFound(s.Path, err)
	}
	if err := fstatat(int(parent.Fd()), name, &st, s.Rel); err != nil {
		parent.Close()
		return nil, "", st, err
	}
	if (st.Mode&unix.S_IFMT == unix.S_IFDIR) != s.Dir {
		parent.Close()
		return nil, "", st, fmt.Errorf("source %s changed since it was resolved", quote(s.Path))
	}
	return parent, name, st, nil
}

// readlinkat reads the target of the symlink name in dirfd, using buf.
func readlinkat(dirfd int, name string, buf []byte, shown string) (string, error) {
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", sysErr("readlink", shown, "", err)
	}
	if n == len(buf) {
		return "", sysErr("readlink", shown, "", unix.ENAMETOOLONG)
	}
	return string(buf[:n]), nil
}
