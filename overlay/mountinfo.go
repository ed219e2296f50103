package overlay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"minidocker/internal/human"
)

// ErrBadMountinfo is a line of /proc/self/mountinfo that cannot be read.
var ErrBadMountinfo = errors.New("malformed mountinfo line")

// Mount is one line of a mountinfo table (proc_pid_mountinfo(5)), with the
// layers of an overlay mount taken from its superblock options.
type Mount struct {
	ID, Parent   int
	Dev          string // major:minor
	Root         string // the root of the mount within its filesystem
	Point        string // mount point
	Options      string // per-mount options
	FSType       string
	Source       string
	SuperOptions string // as the kernel prints them, still escaped

	// For an overlay mount: the lower layers, top first, as lowerdir lists
	// them (legacy "lowerdir=a:b" or new-API "lowerdir+=" options); the
	// data-only lower layers ("::" or "datadir+="), which the merged view
	// does not show; the upper and work directories ("" when read-only).
	Lower, Data []string
	Upper, Work string
}

// IsOverlay reports whether m is an overlayfs mount.
func (m Mount) IsOverlay() bool { return m.FSType == "overlay" }

// Mounts returns the overlay mounts of this process's mount namespace.
func Mounts() ([]Mount, error) {
	// The calling thread's table: a mount namespace belongs to a thread,
	// and the main thread may sit in another one (a goroutine locked to it
	// that unshared), which /proc/self would show.
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("list overlay mounts: %w", err)
	}
	defer f.Close()
	all, err := ParseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("list overlay mounts: %w", err)
	}
	return slices.DeleteFunc(all, func(m Mount) bool { return !m.IsOverlay() }), nil
}

// ParseMountinfo reads every line of a mountinfo table. Octal escapes (\040
// for a space, \011, \012, \134, and \072 or \054 in overlay layer paths)
// are decoded; in a legacy lowerdir option, "\:" and "\," stand for a colon
// and a comma within one path.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseMountLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

// parseMountLine reads one mountinfo line:
// ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER.
func parseMountLine(line string) (Mount, error) {
	f := strings.Split(line, " ")
	sep := slices.Index(f, "-")
	if sep < 6 || len(f) < sep+4 {
		return Mount{}, fmt.Errorf("%w: %q", ErrBadMountinfo, human.Visible(line))
	}
	id, err1 := strconv.Atoi(f[0])
	parent, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return Mount{}, fmt.Errorf("%w: mount id in %q", ErrBadMountinfo, human.Visible(line))
	}
	m := Mount{
		ID: id, Parent: parent, Dev: f[2],
		Root:         unescapeOctal(f[3]),
		Point:        unescapeOctal(f[4]),
		Options:      f[5],
		FSType:       unescapeOctal(f[sep+1]),
		Source:       unescapeOctal(f[sep+2]),
		SuperOptions: strings.Join(f[sep+3:], " "),
	}
	if m.IsOverlay() {
		overlayOptions(&m)
	}
	return m, nil
}

// overlayOptions fills the layers of an overlay mount from its options.
func overlayOptions(m *Mount) {
	for _, opt := range splitEscaped(m.SuperOptions, ',') {
		key, val, _ := strings.Cut(opt, "=")
		if val == "" {
			continue
		}
		switch key {
		case "lowerdir":
			lower, data := splitLowerdir(unescapeOctal(val))
			m.Lower = append(m.Lower, lower...)
			m.Data = append(m.Data, data...)
		case "lowerdir+":
			m.Lower = append(m.Lower, unescapeOctal(val))
		case "datadir+":
			m.Data = append(m.Data, unescapeOctal(val))
		case "upperdir":
			m.Upper = unescapeBackslash(unescapeOctal(val))
		case "workdir":
			m.Work = unescapeBackslash(unescapeOctal(val))
		}
	}
}

// splitLowerdir splits a legacy lowerdir value, "top:mid::data1::data2",
// into the lower layers and the data-only ones.
func splitLowerdir(v string) (lower, data []string) {
	parts := splitEscaped(v, ':')
	inData := false
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		if p == "" { // "::": the layers from here on are data-only
			inData = true
			continue
		}
		if inData {
			data = append(data, unescapeBackslash(p))
		} else {
			lower = append(lower, unescapeBackslash(p))
		}
	}
	return lower, data
}

// splitEscaped splits s at every sep that no backslash escapes.
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescapeBackslash turns "\x" into "x".
func unescapeBackslash(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unescapeOctal decodes the kernel's \NNN escapes.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Open reads the layers of an overlay mount, never the mount itself, and
// returns their merged view: the lower layers bottom first, then the upper
// layer when there is one. Data-only layers are not part of the view.
func (m Mount) Open() (*Merged, error) {
	if !m.IsOverlay() {
		return nil, fmt.Errorf("open mount %s: %s is not overlay", human.Visible(m.Point), human.Visible(m.FSType))
	}
	for _, d := range append(slices.Clone(m.Lower), m.Upper) {
		if err := CheckReadable(d); err != nil {
			return nil, fmt.Errorf("open mount %s: %w", human.Visible(m.Point), err)
		}
	}
	var trees []*Tree
	for i := len(m.Lower) - 1; i >= 0; i-- {
		t, err := ReadDir(m.Lower[i])
		if err != nil {
			return nil, fmt.Errorf("open mount %s: %w", human.Visible(m.Point), err)
		}
		trees = append(trees, t)
	}
	if m.Upper != "" {
		t, err := ReadDir(m.Upper)
		if err != nil {
			return nil, fmt.Errorf("open mount %s: %w", human.Visible(m.Point), err)
		}
		trees = append(trees, t)
	}
	return Merge(trees), nil
}
