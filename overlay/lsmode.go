package overlay

import "io/fs"

// LsMode returns the mode as ls -l prints it: a type letter (d, l, c, b,
// p, s or -) and nine permission letters, with s/S for setuid and setgid
// and t/T for the sticky bit, such as "lrwxrwxrwx" or "drwxrwxrwt".
// fs.FileMode's own String prints Go's letters instead ("Lrwxrwxrwx",
// "dtrwxrwxrwx"), which no student has seen in a terminal.
func LsMode(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if m&(1<<uint(8-i)) != 0 {
			b[1+i] = rwx[i]
		}
	}
	special(b, 3, m&fs.ModeSetuid != 0, 's')
	special(b, 6, m&fs.ModeSetgid != 0, 's')
	special(b, 9, m&fs.ModeSticky != 0, 't')
	return string(b)
}

// special puts the letter of a setuid, setgid or sticky bit at b[i], where
// the execute letter is: lower case over x, upper case over -.
func special(b []byte, i int, set bool, c byte) {
	if !set {
		return
	}
	if b[i] == 'x' {
		b[i] = c
	} else {
		b[i] = c - 'a' + 'A'
	}
}
