package lesson

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"minidocker/internal/human"
)

// kind is one word of the check vocabulary: where it may look, and what
// follows it.
type kind struct {
	where []Where
	// path says the kind takes a path; args how many words follow it
	// (-1: any number), optional whether the last may be left out.
	path     bool
	args     int
	optional bool
	usage    string
}

// The places a file check may look at.
var (
	anyFS     = []Where{Upper, Lower, Merged, Volume}
	upperOnly = []Where{Upper}
)

// kinds is the vocabulary of checks, as the package comment lists it:
// where each may look, and what follows it.
var kinds = map[string]kind{
	"exists":     {where: anyFS, path: true, usage: "PATH"},
	"missing":    {where: anyFS, path: true, usage: "PATH"},
	"file":       {where: anyFS, path: true, usage: "PATH"},
	"dir":        {where: anyFS, path: true, usage: "PATH"},
	"symlink":    {where: anyFS, path: true, args: 1, optional: true, usage: "PATH [TARGET]"},
	"contains":   {where: anyFS, path: true, args: 1, usage: "PATH TEXT"},
	"line":       {where: anyFS, path: true, args: 1, usage: "PATH TEXT"},
	"mode":       {where: anyFS, path: true, args: 1, usage: "PATH OCTAL"},
	"size":       {where: anyFS, path: true, args: 1, usage: "PATH BYTES"},
	"nlink":      {where: anyFS, path: true, args: 1, usage: "PATH COUNT"},
	"same-inode": {where: anyFS, path: true, args: 1, usage: "PATH OTHER-PATH"},
	"entries":    {where: anyFS, path: true, args: -1, usage: "PATH [NAME…]"},

	// What only an upper directory holds: the kernel's own marks and how
	// an entry relates to the layers below.
	"whiteout":      {where: upperOnly, path: true, usage: "PATH"},
	"opaque":        {where: upperOnly, path: true, usage: "PATH"},
	"copied-up":     {where: upperOnly, path: true, usage: "PATH"},
	"new":           {where: upperOnly, path: true, usage: "PATH"},
	"same-as-lower": {where: upperOnly, path: true, usage: "PATH"},
	"redirect":      {where: upperOnly, path: true, usage: "PATH"},

	"entry":  {where: []Where{Commit}, path: true, args: 1, optional: true, usage: "TAR-NAME [KIND]"},
	"wasted": {where: []Where{Commit}, path: true, usage: "PATH"},
	"reset":  {where: []Where{Container}, usage: ""},

	// The disk meter and the layer view (places.go).
	"containers":     {where: meterOnly, args: 1, usage: "COUNT"},
	"saved-at-least": {where: meterOnly, args: 1, usage: "PERCENT"},
	"upper-at-least": {where: meterOnly, args: 1, usage: "SIZE"},
	"upper-at-most":  {where: meterOnly, args: 1, usage: "SIZE"},
	"others-at-most": {where: meterOnly, args: 1, usage: "SIZE"},
	"layer":          {where: viewOnly, args: 1, usage: "N|all"},
	"pane":           {where: viewOnly, args: 1, usage: "lower|upper|merged"},
	"selected":       {where: viewOnly, path: true, usage: "PATH"},
	"marker":         {where: viewOnly, args: 1, usage: "KIND"},

	// A process of the container's PID namespace, by its command name.
	"process": {where: []Where{Container}, args: 1, usage: "NAME"},
}

// packKinds are the kinds a commit entry may name, as overlay.PackKind
// spells them.
var packKinds = []string{"file", "dir", "symlink", "hardlink", "char", "block", "fifo", "whiteout", "opaque"}

// parseCheck reads one line of a check block.
func parseCheck(line string) (Check, error) {
	words, err := splitWords(line)
	if err != nil {
		return Check{}, err
	}
	var c Check
	if len(words) > 0 && words[0] == "not" {
		c.Not, words = true, words[1:]
	}
	if len(words) < 2 {
		return Check{}, errors.New("want [not] WHERE WHAT [PATH] [ARGS]")
	}
	w := slices.Index(whereNames[:], words[0])
	if w < 0 {
		return Check{}, fmt.Errorf("unknown place %q (want one of %s)", words[0], strings.Join(whereNames[:], ", "))
	}
	c.Where, c.What = Where(w), words[1]
	k, ok := kinds[c.What]
	if !ok {
		return Check{}, fmt.Errorf("unknown check %q (want one of %s)", c.What, strings.Join(kindNames(), ", "))
	}
	if !slices.Contains(k.where, c.Where) {
		return Check{}, fmt.Errorf("%s %s: %s is checked only in %s", c.Where, c.What, c.What, wheres(k.where))
	}
	rest := words[2:]
	if k.path {
		if len(rest) == 0 {
			return Check{}, fmt.Errorf("%s %s: want %s", c.Where, c.What, k.usage)
		}
		c.Path, rest = rest[0], rest[1:]
	}
	if n := len(rest); k.args >= 0 && (n > k.args || n < k.args && !(k.optional && n == k.args-1)) {
		return Check{}, fmt.Errorf("%s %s: want %s", c.Where, c.What, k.usage)
	}
	if len(rest) > 0 {
		c.Args = rest
	}
	return c, c.validate()
}

// validate checks the path and the arguments of a parsed check.
func (c *Check) validate() error {
	for _, w := range append([]string{c.Path}, c.Args...) {
		if strings.ContainsFunc(w, human.NeedsEscape) {
			return fmt.Errorf("%q: a control or invisible character", w)
		}
	}
	if c.Where == Meter || c.Where == View {
		return c.validatePlace()
	}
	if c.Where == Commit && c.What == "entry" {
		if strings.HasPrefix(c.Path, "/") || path.Clean(c.Path) != strings.TrimSuffix(c.Path, "/") || strings.HasPrefix(c.Path, "..") {
			return fmt.Errorf("commit entry %q: want a name as the layer tar holds it, such as app/.wh.x", c.Path)
		}
		if len(c.Args) == 1 && !slices.Contains(packKinds, c.Args[0]) {
			return fmt.Errorf("commit entry kind %q: want one of %s", c.Args[0], strings.Join(packKinds, ", "))
		}
		return nil
	}
	if c.Path != "" {
		if !strings.HasPrefix(c.Path, "/") || path.Clean(c.Path) != c.Path {
			return fmt.Errorf("path %q: want an absolute, clean path", c.Path)
		}
	}
	switch c.What {
	case "mode":
		if _, err := strconv.ParseUint(c.Args[0], 8, 32); err != nil {
			return fmt.Errorf("mode %q: want octal permission bits, such as 600", c.Args[0])
		}
	case "size", "nlink":
		if n, err := strconv.ParseInt(c.Args[0], 10, 64); err != nil || n < 0 {
			return fmt.Errorf("%s %q: want a number", c.What, c.Args[0])
		}
	case "same-inode":
		if !strings.HasPrefix(c.Args[0], "/") || path.Clean(c.Args[0]) != c.Args[0] {
			return fmt.Errorf("path %q: want an absolute, clean path", c.Args[0])
		}
	case "process":
		return validProcessName(c.Args[0])
	case "entries":
		for _, n := range c.Args {
			if strings.Contains(n, "/") || n == "." || n == ".." {
				return fmt.Errorf("entry name %q: want a name, not a path", n)
			}
		}
	}
	return nil
}

// String returns the check as a lesson file writes it.
func (c Check) String() string {
	words := []string{c.Where.String(), c.What}
	if c.Not {
		words = append([]string{"not"}, words...)
	}
	if c.Path != "" {
		words = append(words, c.Path)
	}
	for _, a := range c.Args {
		if a == "" || strings.ContainsAny(a, " \t\"") {
			a = strconv.Quote(a)
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// splitWords splits a line at spaces; a word in double quotes may hold
// spaces and Go's escapes.
func splitWords(line string) ([]string, error) {
	var words []string
	s := strings.TrimSpace(line)
	for s != "" {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("unterminated quote in %q", s)
			}
			w, _ := strconv.Unquote(q)
			words = append(words, w)
			s = s[len(q):]
			if s != "" && s[0] != ' ' && s[0] != '\t' {
				return nil, fmt.Errorf("quote not followed by a space in %q", line)
			}
		} else {
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			words = append(words, s[:end])
			s = s[end:]
		}
		s = strings.TrimLeft(s, " \t")
	}
	return words, nil
}

func kindNames() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func wheres(ws []Where) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = w.String()
	}
	return strings.Join(s, ", ")
}
