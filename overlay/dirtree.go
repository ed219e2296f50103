package overlay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The overlayfs xattrs a layer directory may carry besides opaqueXattr
// (whiteout.go), whose value is "y" for an opaque directory and "x" for one
// holding xattr whiteouts (Documentation/filesystems/overlayfs.rst).
// Reading trusted.* needs CAP_SYS_ADMIN; without it they read as absent.
const (
	xattrWhiteout  = "trusted.overlay.whiteout" // on a zero-size file: an xattr whiteout
	xattrRedirect  = "trusted.overlay.redirect"
	xattrMetacopy  = "trusted.overlay.metacopy"
	xattrImpure    = "trusted.overlay.impure" // on an upper directory holding copied-up entries
	direntBufSize  = 32 << 10
	xattrValueSize = 4096
)

// ReadDir reads the layer in the directory dir: an unpacked image layer, a
// container's upper directory or any overlay lower directory. Whiteouts and
// opaque directories are read in the overlayfs form: a character device 0:0,
// or a zero-size regular file with the trusted.overlay.whiteout xattr (which
// belongs in a directory whose trusted.overlay.opaque is "x", though the
// kernel's lookup honours it anywhere); and trusted.overlay.opaque "y".
// Directories also record trusted.overlay.redirect and regular files
// trusted.overlay.metacopy. ReadDir follows no symlink, and a file with
// several names in the layer records, on each name but the first in path
// order, the first name in Hardlink.
//
// ReadDir reads in two passes: the names, one directory after another with
// getdents(2), then the metadata of every directory's entries, directories
// shared among one worker per CPU, each opened with openat2(2)
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS. It only reads; it never changes the
// directory. Entries that vanish while it reads (a live upper directory)
// keep their type and lose their metadata.
func ReadDir(dir string) (*Tree, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("read layer %s: %w", dir, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("read layer %s: stat: %w", dir, err)
	}
	d := &dirReader{t: &Tree{dir: dir}, buf: make([]byte, direntBufSize)}
	d.t.recs = append(d.t.recs, recFromStat(&st, "/", 0, 0, 0))
	d.dirs = append(d.dirs, 0)
	if err := d.list(fd, 0, ""); err != nil {
		return nil, fmt.Errorf("read layer %s: %w", dir, err)
	}
	if err := d.statAll(fd); err != nil {
		return nil, fmt.Errorf("read layer %s: %w", dir, err)
	}
	return d.t, nil
}

// dirReader holds the state of one ReadDir.
type dirReader struct {
	t    *Tree
	dirs []int32 // records of directories, in the order listed
	buf  []byte
}

// list appends the entries of the directory open as fd, record idx at rel
// ("" for the root), with their type only, then lists its subdirectories.
func (d *dirReader) list(fd int, idx int32, rel string) error {
	first := int32(len(d.t.recs))
	err := readDirents(fd, d.buf, func(name string, typ byte) {
		d.t.recs = append(d.t.recs, rec{name: intern(name), mode: direntMode(typ), parent: idx})
	})
	if err != nil {
		return fmt.Errorf("read directory %q: %w", "/"+rel, err)
	}
	kids := d.t.recs[first:]
	slices.SortFunc(kids, func(a, b rec) int { return strings.Compare(a.name, b.name) })
	d.t.recs[idx].first, d.t.recs[idx].count = first, int32(len(kids))
	// Only this directory's own entries: listing a subdirectory appends its
	// entries after them, and they must not be taken for siblings.
	end := first + int32(len(kids))
	for i := first; i < end; i++ {
		r := &d.t.recs[i]
		if r.mode == fs.ModeIrregular { // DT_UNKNOWN: ask stat
			var st unix.Stat_t
			if err := unix.Fstatat(fd, r.name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
				r.mode = modeFromUnix(st.Mode &^ 0o7777)
			}
		}
		if !r.mode.IsDir() {
			continue
		}
		d.dirs = append(d.dirs, i)
		name := r.name
		cfd, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				continue
			}
			return fmt.Errorf("open %q: %w", "/"+joinRel(rel, name), err)
		}
		err = d.list(cfd, i, joinRel(rel, name))
		unix.Close(cfd)
		if err != nil {
			return err
		}
	}
	return nil
}

// readDirents calls fn for each entry of the directory open as fd but "."
// and "..", with its d_type (getdents64(2)).
func readDirents(fd int, buf []byte, fn func(name string, typ byte)) error {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				break
			}
			typ := b[18]
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if s := string(name); s != "." && s != ".." {
				fn(s, typ)
			}
			b = b[reclen:]
		}
	}
}

// direntMode is the type a d_type names; fs.ModeIrregular for DT_UNKNOWN.
func direntMode(typ byte) fs.FileMode {
	switch typ {
	case unix.DT_DIR:
		return fs.ModeDir
	case unix.DT_REG:
		return 0
	case unix.DT_LNK:
		return fs.ModeSymlink
	case unix.DT_FIFO:
		return fs.ModeNamedPipe
	case unix.DT_SOCK:
		return fs.ModeSocket
	case unix.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.DT_BLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}

// statResult is what a worker found that the records cannot take in place.
type statResult struct {
	extras map[int32]extra     // record -> side strings
	links  map[int32][2]uint64 // record of a file with several names -> (dev, ino)
	err    error
}

// statAll fills in the metadata of every record, the directories shared
// among workers; rootfd is the layer's root.
func (d *dirReader) statAll(rootfd int) error {
	workers := min(runtime.GOMAXPROCS(0), max(1, len(d.dirs)/8))
	results := make([]statResult, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[w]
			res.extras, res.links = map[int32]extra{}, map[int32][2]uint64{}
			xbuf := make([]byte, xattrValueSize)
			for {
				k := next.Add(1) - 1
				if k >= int64(len(d.dirs)) || res.err != nil {
					return
				}
				res.err = d.statDir(rootfd, d.dirs[k], res, xbuf)
			}
		}()
	}
	wg.Wait()
	var links []int32
	keys := map[int32][2]uint64{}
	for _, res := range results {
		if res.err != nil {
			return res.err
		}
		for i, x := range res.extras {
			d.setExtra(i, x)
		}
		for i, key := range res.links {
			links = append(links, i)
			keys[i] = key
		}
	}
	// The first name of a file, in path order, is the one the others name.
	slices.SortFunc(links, func(a, b int32) int { return strings.Compare(d.t.pathOf(a), d.t.pathOf(b)) })
	firsts := map[[2]uint64]string{}
	for _, i := range links {
		if f, ok := firsts[keys[i]]; ok {
			x := d.t.extraOf(i)
			x.hardlink = f
			d.setExtra(i, x)
		} else {
			firsts[keys[i]] = d.t.pathOf(i)
		}
	}
	return nil
}

func (d *dirReader) setExtra(i int32, x extra) {
	if e := d.t.recs[i].extra; e > 0 {
		d.t.extras[e-1] = x
		return
	}
	d.t.extras = append(d.t.extras, x)
	d.t.recs[i].extra = int32(len(d.t.extras))
}

// statDir reads the overlay xattrs of directory record di and the metadata
// of its entries. Each record is written by one worker only: the entries by
// their directory's, a directory's own xattrs by its own.
func (d *dirReader) statDir(rootfd int, di int32, res *statResult, xbuf []byte) error {
	rel := strings.TrimPrefix(d.t.pathOf(di), "/")
	fd := rootfd
	if di != 0 {
		var err error
		fd, err = unix.Openat2(rootfd, rel, &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
				return nil
			}
			return fmt.Errorf("open %q: %w", "/"+rel, err)
		}
		defer unix.Close(fd)
	}
	dr := &d.t.recs[di]
	if v, ok := fgetxattrString(fd, opaqueXattr, xbuf); ok {
		dr.flags |= opaqueFlags(v)
	}
	if v, ok := fgetxattrString(fd, xattrRedirect, xbuf); ok {
		res.extras[di] = extra{redirect: v}
	}
	// Copy-up marks the upper directory impure; only there can a file be a
	// metacopy, which spares a getxattr for nearly every file.
	_, impure := fgetxattrString(fd, xattrImpure, xbuf)
	dirPath := d.t.dir
	if rel != "" {
		dirPath += "/" + rel
	}
	var st unix.Stat_t
	for i := dr.first; i < dr.first+dr.count; i++ {
		r := &d.t.recs[i]
		if err := unix.Fstatat(fd, r.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("stat %q: %w", "/"+joinRel(rel, r.name), err)
		}
		typ := r.mode.Type()
		*r = recFromStat(&st, r.name, r.parent, r.first, r.count)
		if r.mode.Type() != typ { // replaced since it was listed
			r.mode = typ | r.mode.Perm()
			continue
		}
		// A metacopy file holds no data; one with no blocks may be one even
		// outside an impure directory.
		maybeMeta := impure || st.Blocks == 0 && st.Size > 0
		x := classifyEntry(r, &st, fd, dirPath, r.name, maybeMeta, xbuf)
		if st.Nlink > 1 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			res.links[i] = [2]uint64{st.Dev, st.Ino}
		}
		if x != (extra{}) {
			res.extras[i] = x
		}
	}
	return nil
}

func fgetxattrString(fd int, attr string, buf []byte) (string, bool) {
	n, err := unix.Fgetxattr(fd, attr, buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}

func hasXattr(p, attr string) bool {
	_, err := unix.Lgetxattr(p, attr, nil)
	return err == nil
}

// opaqueFlags are the flags of a directory whose trusted.overlay.opaque
// is v: "y" opaque, "x" holding xattr whiteouts.
func opaqueFlags(v string) uint16 {
	switch v {
	case "y":
		return flagOpaque
	case "x":
		return flagXWhiteouts
	}
	return 0
}

// classifyEntry reads what ReadDir records of a non-directory beyond
// stat(2): a symlink's target, a device's number, and whether it is a
// whiteout or a metacopy file. The entry is name in the directory dirPath,
// open as dirfd (or AT_FDCWD: then read by path); maybeMeta says a metacopy
// xattr is worth looking for. It sets r's flags and returns the side
// strings, zero for none. The path is built only for the rare calls that
// need it.
func classifyEntry(r *rec, st *unix.Stat_t, dirfd int, dirPath, name string, maybeMeta bool, buf []byte) extra {
	var x extra
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		if dirfd == unix.AT_FDCWD {
			name = dirPath + "/" + name
		}
		if n, err := unix.Readlinkat(dirfd, name, buf); err == nil {
			x.link = string(buf[:n])
		}
	case unix.S_IFCHR, unix.S_IFBLK:
		x.rdev = st.Rdev
		if st.Rdev == 0 && st.Mode&unix.S_IFMT == unix.S_IFCHR {
			r.flags |= flagWhiteout
		}
	case unix.S_IFREG:
		// The kernel's lookup takes any such file for a whiteout, in a
		// directory marked opaque=x or not (readdir of a merged directory
		// hides it only in a marked one).
		if st.Size == 0 && hasXattr(dirPath+"/"+name, xattrWhiteout) {
			r.flags |= flagWhiteout
		}
		if maybeMeta && hasXattr(dirPath+"/"+name, xattrMetacopy) {
			r.flags |= flagMetacopy
		}
	}
	return x
}

// recFromStat makes a record from stat(2) fields, keeping its place.
func recFromStat(st *unix.Stat_t, name string, parent, first, count int32) rec {
	return rec{
		name:   name,
		parent: parent,
		first:  first,
		count:  count,
		size:   st.Size,
		mtime:  st.Mtim.Nano(),
		mode:   modeFromUnix(st.Mode),
		uid:    st.Uid,
		gid:    st.Gid,
	}
}

// modeFromUnix converts an st_mode to an fs.FileMode.
func modeFromUnix(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// joinRel joins a relative directory path ("" for the root) and a name.
func joinRel(rel, name string) string {
	if rel == "" {
		return name
	}
	var b strings.Builder
	b.Grow(len(rel) + 1 + len(name))
	b.WriteString(rel)
	b.WriteByte('/')
	b.WriteString(name)
	return b.String()
}
