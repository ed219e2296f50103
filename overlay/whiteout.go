package overlay

import (
	"strings"

	"golang.org/x/sys/unix"
)

// The two spellings of a deletion. An OCI layer tar marks a deleted path
// dir/NAME with an empty entry dir/.wh.NAME, and a directory whose lower
// contents are hidden with dir/.wh..wh..opq. OverlayFS marks the first with a
// character device 0:0 named dir/NAME and the second with the xattr
// trusted.overlay.opaque=y on dir (Documentation/filesystems/overlayfs.rst,
// "whiteouts and opaque directories"; image-spec layer.md, "Whiteouts").
const (
	whiteoutPrefix     = ".wh."
	whiteoutMetaPrefix = ".wh..wh."
	whiteoutOpaque     = ".wh..wh..opq"
	opaqueXattr        = "trusted.overlay.opaque"
)

// whiteoutKind says what an entry's base name means to the whiteout rules.
type whiteoutKind int

const (
	notWhiteout   whiteoutKind = iota
	whiteoutFile               // .wh.NAME: delete NAME
	whiteoutDir                // .wh..wh..opq: hide the lower contents of the parent
	whiteoutSkip               // other .wh..wh.* names: aufs metadata, ignored
	whiteoutWrong              // .wh. with an empty, "." or ".." NAME
)

// classifyWhiteout tells what the base name of an entry means and, for a
// whiteout file, the name it deletes.
func classifyWhiteout(base string) (whiteoutKind, string) {
	if !strings.HasPrefix(base, whiteoutPrefix) {
		return notWhiteout, ""
	}
	if base == whiteoutOpaque {
		return whiteoutDir, ""
	}
	if strings.HasPrefix(base, whiteoutMetaPrefix) {
		return whiteoutSkip, ""
	}
	name := base[len(whiteoutPrefix):]
	if name == "" || name == "." || name == ".." {
		return whiteoutWrong, ""
	}
	return whiteoutFile, name
}

// whiteoutInDir tells whether the directory part of a cleaned path passes
// through a name spelled like a whiteout: whiteoutSkip for aufs metadata
// (.wh..wh.plnk/...), whose contents are skipped as docker does, whiteoutFile
// for any other .wh. name, which is refused, since such a directory could not
// be told from a whiteout when the layer is written back as a tar, and
// notWhiteout otherwise.
func whiteoutInDir(dir string) whiteoutKind {
	if !strings.Contains(dir, whiteoutPrefix) {
		return notWhiteout
	}
	for c := range strings.SplitSeq(dir, "/") {
		if strings.HasPrefix(c, whiteoutMetaPrefix) {
			return whiteoutSkip
		}
		if strings.HasPrefix(c, whiteoutPrefix) {
			return whiteoutFile
		}
	}
	return notWhiteout
}

// mkWhiteout makes the overlayfs whiteout for name in the directory dirfd.
//
// A whiteout is a character device with device number 0:0 (mknod(2)); since
// Linux 5.8 an unprivileged process may make one, earlier kernels need
// CAP_MKNOD. Its owner and mode do not matter to overlayfs, so none are set.
func mkWhiteout(dirfd int, name string) error {
	return mknodat(dirfd, name, unix.S_IFCHR, 0)
}

// setOpaque marks the directory open as fd opaque. Setting a trusted.* xattr
// needs CAP_SYS_ADMIN (xattr(7)).
func setOpaque(fd int) error {
	return fsetxattr(fd, opaqueXattr, "y")
}
