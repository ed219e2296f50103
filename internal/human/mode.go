package human

import "io/fs"

// Mode writes a file mode as ls -l does: a type letter (- d l c b p s, ?
// for anything else) and nine permission letters, where setuid and setgid
// show as s in the owner's and group's x place (S without x) and the
// sticky bit as t in the others' (T without x). Go's FileMode.String
// writes the same modes differently (Lrwxrwxrwx, dtrwxrwxrwx,
// Dcrw-rw-rw-), which people who know ls misread.
func Mode(m fs.FileMode) string {
	var b [10]byte
	b[0] = modeType(m)
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		b[1+i] = '-'
		if m&(1<<uint(8-i)) != 0 {
			b[1+i] = rwx[i]
		}
	}
	special(&b[3], m&fs.ModeSetuid != 0, 's')
	special(&b[6], m&fs.ModeSetgid != 0, 's')
	special(&b[9], m&fs.ModeSticky != 0, 't')
	return string(b[:])
}

// special writes a setuid, setgid or sticky bit over an x place: lower
// case when x is set, upper case when it is not.
func special(c *byte, set bool, letter byte) {
	if !set {
		return
	}
	if *c == 'x' {
		*c = letter
	} else {
		*c = letter - 'a' + 'A'
	}
}

func modeType(m fs.FileMode) byte {
	switch {
	case m.IsDir():
		return 'd'
	case m&fs.ModeSymlink != 0:
		return 'l'
	case m&fs.ModeCharDevice != 0:
		return 'c'
	case m&fs.ModeDevice != 0:
		return 'b'
	case m&fs.ModeNamedPipe != 0:
		return 'p'
	case m&fs.ModeSocket != 0:
		return 's'
	case m.IsRegular():
		return '-'
	}
	return '?'
}

// TypeWord names the type of a mode in a sentence: "directory",
// "symlink", "fifo", "character device"…; "file" for a regular file.
func TypeWord(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "file"
}
