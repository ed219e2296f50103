package overlay

import (
	"archive/tar"
	"math"
	"path/filepath"
	"strings"
)

// The limits of Linux names (PATH_MAX and NAME_MAX, less the NUL), and the
// PAX record prefix that carries an xattr in a tar.
const (
	maxNameLen        = 255
	maxPathLen        = 4095
	xattrRecordPrefix = "SCHILY.xattr."
)

// nameKind is what a tar entry's name asks of Unpack.
type nameKind uint8

const (
	namePlain    nameKind = iota // make the entry at path
	nameRoot                     // the layer root itself: path is "."
	nameWhiteout                 // .wh.NAME: delete path from the layers below
	nameOpaque                   // .wh..wh..opq: make the directory path opaque
	nameSkip                     // aufs metadata (.wh..wh.*), ignored
)

// entryName is a tar entry's name as Unpack reads it.
type entryName struct {
	path string // cleaned, relative to the layer root; "." for the root
	kind nameKind
}

// parseName applies the name rules of Unpack to a tar entry's name: it
// cleans the name (see cleanName), and tells a whiteout or opaque marker, or
// aufs metadata, from an entry to make. It refuses a name that escapes the
// layer, holds a control character or is too long, a whiteout that names no
// file, and a whiteout name used as a directory. No path it returns has a
// component spelled like a whiteout. It makes no system call: the rules can
// be fuzzed alone.
func parseName(name string) (entryName, error) {
	p, err := cleanName(name)
	if err != nil {
		return entryName{}, err
	}
	if p == "." {
		return entryName{path: p, kind: nameRoot}, nil
	}
	dir, base := split(p)
	switch whiteoutInDir(dir) {
	case whiteoutSkip:
		return entryName{path: p, kind: nameSkip}, nil // inside aufs metadata such as .wh..wh.plnk/
	case whiteoutFile:
		return entryName{}, kindErrorf(ErrUnsafePath, "whiteout name used as a directory")
	}
	switch kind, deleted := classifyWhiteout(base); kind {
	case whiteoutFile:
		return entryName{path: join(dir, deleted), kind: nameWhiteout}, nil
	case whiteoutDir:
		return entryName{path: dir, kind: nameOpaque}, nil
	case whiteoutSkip:
		return entryName{path: p, kind: nameSkip}, nil
	case whiteoutWrong:
		return entryName{}, kindErrorf(ErrUnsafePath, "whiteout names no file")
	}
	return entryName{path: p, kind: namePlain}, nil
}

// cleanName turns a tar name into a path relative to the layer root, "." for
// the root itself, or refuses it.
func cleanName(name string) (string, error) {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f {
			return "", kindErrorf(ErrUnsafePath, "control character in name")
		}
	}
	n := strings.TrimPrefix(name, "/")
	for strings.HasPrefix(n, "./") {
		n = n[2:]
	}
	if n == "" || n == "." {
		return ".", nil
	}
	if !filepath.IsLocal(n) {
		return "", kindErrorf(ErrUnsafePath, "path escapes layer")
	}
	n = filepath.Clean(n)
	if len(n) > maxPathLen {
		return "", kindErrorf(ErrUnsafePath, "path longer than %d bytes", maxPathLen)
	}
	for c := range strings.SplitSeq(n, "/") {
		if len(c) > maxNameLen {
			return "", kindErrorf(ErrUnsafePath, "name longer than %d bytes", maxNameLen)
		}
	}
	return n, nil
}

// checkHeader refuses owners Linux cannot hold and xattrs a layer may not set.
func checkHeader(hdr *tar.Header) error {
	if hdr.Uid < 0 || hdr.Uid >= math.MaxUint32 || hdr.Gid < 0 || hdr.Gid >= math.MaxUint32 {
		return kindErrorf(ErrMalformed, "owner %d:%d out of range", hdr.Uid, hdr.Gid)
	}
	for k := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, xattrRecordPrefix)
		if !ok {
			continue
		}
		if !strings.HasPrefix(name, "user.") && !strings.HasPrefix(name, "security.") &&
			name != "system.posix_acl_access" && name != "system.posix_acl_default" {
			return kindErrorf(ErrUnsupported, "xattr %q not allowed in a layer", name)
		}
	}
	return nil
}

// split cuts a cleaned path into its parent ("." at the top) and base name.
func split(p string) (string, string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ".", p
	}
	return p[:i], p[i+1:]
}

func join(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}
