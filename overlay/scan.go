package overlay

import (
	"archive/tar"
	"fmt"
	"io"
)

// Scan reads the uncompressed layer tar r to its end and returns the counts
// Unpack would return for it, writing nothing: the figures of a layer kept
// as a blob only, to be unpacked later if ever.
//
// Scan reads r as Unpack does and applies the same checks to each entry
// that need nothing but the entry and the counts before it (checkEntry); it
// refuses what they refuse with Unpack's error for the same entry:
//   - a tar that cannot be read, or an entry's content that ends early;
//   - a name that escapes the layer, holds a control character, is longer
//     than Linux allows, uses a whiteout name as a directory, or is a
//     whiteout that names no file; an entry other than a directory at the
//     layer root;
//   - an owner out of range, an xattr outside those Unpack accepts;
//   - a device node or an entry type Unpack does not make; a symlink with
//     no target; a hardlink whose target escapes the layer or is itself;
//   - more entries or content bytes than opts allows (zero fields take
//     Unpack's defaults).
//
// What depends on the entries before it or on the filesystem is left to
// Unpack: an entry beneath a symlink or a file of the same layer, a
// hardlink to anything but an earlier file, a system call that fails. A tar
// Scan accepts may still be refused by Unpack for those; one Scan refuses,
// Unpack refuses too.
func Scan(r io.Reader, opts UnpackOptions) (UnpackStats, error) {
	opts = opts.withDefaults()
	rd := startReading(r)
	defer rd.close()
	var st UnpackStats
	var cur *tar.Header // the entry whose content is being read
	var made bool       // cur is a file Unpack makes, whose content it counts
	for {
		p, err := rd.next()
		if err == io.EOF {
			return st, nil
		}
		if err != nil && cur != nil {
			return st, entryError(cur, err) // as Unpack's file reports its content
		}
		if err != nil {
			return st, err
		}
		if p.hdr != nil {
			e, err := checkEntry(p.hdr, &st, opts)
			if err != nil {
				return st, entryError(p.hdr, err)
			}
			cur, made = p.hdr, e.kind == namePlain
		} else if made {
			// The reader hands over exactly the header's size or an error,
			// so this adds up to what Unpack's file writes.
			st.Bytes += int64(len(p.data))
		}
		if p.end {
			cur = nil
		}
	}
}

// checked is a tar entry that checkEntry let through.
type checked struct {
	entryName
	link string // a hardlink's target, cleaned
}

// checkEntry applies to the tar entry hdr the rules of Unpack that need
// nothing but the entry and st, the counts of the entries before it, then
// counts it in st, all but its content bytes, which are counted as they are
// read. The order of the checks is Unpack's: limits, name, header, type.
// Unpack and Scan both call it, so that they count and refuse alike.
func checkEntry(hdr *tar.Header, st *UnpackStats, opts UnpackOptions) (checked, error) {
	st.Entries++
	if st.Entries > opts.MaxEntries {
		return checked{}, kindErrorf(ErrLimit, "layer has more than %d entries", opts.MaxEntries)
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return checked{entryName: entryName{kind: nameSkip}}, nil
	}
	n, err := parseName(hdr.Name)
	if err != nil {
		return checked{}, err
	}
	if err := checkHeader(hdr); err != nil {
		return checked{}, err
	}
	switch n.kind {
	case nameSkip:
	case nameRoot:
		if hdr.Typeflag != tar.TypeDir {
			return checked{}, kindErrorf(ErrUnsafePath, "entry names the layer root")
		}
		st.Dirs++
	case nameWhiteout:
		st.Whiteouts++
	case nameOpaque:
		st.Opaques++
	default:
		return checkType(hdr, n, st, opts)
	}
	return checked{entryName: n}, nil
}

// checkType checks and counts an entry to be made, by its type.
func checkType(hdr *tar.Header, n entryName, st *UnpackStats, opts UnpackOptions) (checked, error) {
	e := checked{entryName: n}
	switch hdr.Typeflag {
	case tar.TypeDir:
		st.Dirs++
	case tar.TypeReg, tar.TypeGNUSparse:
		st.Files++
		if hdr.Size > opts.MaxBytes-st.Bytes {
			return e, kindErrorf(ErrLimit, "layer content over %d bytes", opts.MaxBytes)
		}
	case tar.TypeSymlink:
		st.Symlinks++
		if hdr.Linkname == "" {
			return e, kindErrorf(ErrMalformed, "symlink has no target")
		}
	case tar.TypeLink:
		st.Hardlinks++
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return e, fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
		}
		if target == n.path {
			return e, kindErrorf(ErrUnsafePath, "hardlink to itself")
		}
		e.link = target
	case tar.TypeFifo:
	case tar.TypeChar, tar.TypeBlock:
		return e, kindErrorf(ErrUnsupported, "device node %d:%d not supported", hdr.Devmajor, hdr.Devminor)
	default:
		return e, kindErrorf(ErrUnsupported, "entry type %q not supported", hdr.Typeflag)
	}
	return e, nil
}

// entryError names the entry hdr in err, as Unpack and Scan report it.
func entryError(hdr *tar.Header, err error) error {
	return fmt.Errorf("entry %q: %w", hdr.Name, err)
}
