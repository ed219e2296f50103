package buildctx

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"minidocker/internal/human"
)

// maxLinks is how many symlinks one path may go through, as Linux's
// MAXSYMLINKS.
const maxLinks = 40

// cleanRel turns a source path as written in an instruction into a clean
// path relative to the context's root ("." for the root itself). A leading
// "/" stands for the root, as docker reads COPY /a; a ".." that would climb
// above the root is refused (docker's classic builder: "forbidden path
// outside the build context"), even after a leading "/", where a lexical
// clean would silently drop it.
func cleanRel(p string) (string, error) {
	var parts []string
	for _, comp := range strings.Split(p, "/") {
		switch comp {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", fmt.Errorf("source %s: %w", quote(p), ErrOutside)
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, comp)
		}
	}
	if len(parts) == 0 {
		return ".", nil
	}
	return strings.Join(parts, "/"), nil
}

// resolve returns the path that rel (clean, relative) leads to inside the
// context, its symlinks followed, the last component's too. In a build
// context a symlink that leads out of it, by an absolute target or by "..",
// is refused; in a stage's root an absolute target starts again from the
// root and ".." stops there, as if the root were /. A symlink that
// .dockerignore excludes is not there to follow: docker never sends it.
//
// The result holds no symlink, so opening it through c.root, which refuses
// anything that leads out, opens what was resolved; a symlink changed
// meanwhile makes the open fail, never escape.
func (c *Context) resolve(rel string) (string, error) {
	var done []string // resolved components: real directories
	todo := splitRel(rel)
	links := 0
	for len(todo) > 0 {
		comp := todo[0]
		todo = todo[1:]
		if comp == ".." {
			if len(done) == 0 {
				if !c.stage {
					return "", fmt.Errorf("source %s: %w", quote(rel), ErrOutside)
				}
				continue
			}
			done = done[:len(done)-1]
			continue
		}
		cur := strings.Join(append(done, comp), "/")
		fi, err := c.root.Lstat(cur)
		if err != nil {
			return "", c.notFound(rel, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, comp)
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("source %s: too many levels of symbolic links", quote(rel))
		}
		target, err := c.readLink(rel, cur, done)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = done[:0] // only in a stage's root: readLink refuses it elsewhere
		}
		todo = append(splitRel(target), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return strings.Join(done, "/"), nil
}

// readLink reads the symlink cur (a real path, in the directory whose
// components are dir) that resolving rel goes through, refusing in a build
// context one that leads out of it, and one that .dockerignore excludes:
// docker never sends it.
func (c *Context) readLink(rel, cur string, dir []string) (string, error) {
	if !c.visible(cur, false) {
		return "", c.notFound(rel, fs.ErrNotExist)
	}
	target, err := c.root.Readlink(cur)
	if err != nil {
		return "", c.notFound(rel, err)
	}
	if !c.stage && (strings.HasPrefix(target, "/") || climbs(dir, target)) {
		return "", fmt.Errorf("source %s: symlink %s leads to %s: %w", quote(rel), quote(cur), quote(target), ErrOutside)
	}
	return target, nil
}

// climbs reports whether target, a relative symlink target read in the
// directory dir (components), climbs above the root.
func climbs(dir []string, target string) bool {
	depth := len(dir)
	for _, comp := range splitRel(target) {
		switch comp {
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// splitRel splits a slash path into its components, leaving out empty ones
// and ".".
func splitRel(p string) []string {
	var out []string
	for _, comp := range strings.Split(p, "/") {
		if comp != "" && comp != "." {
			out = append(out, comp)
		}
	}
	return out
}

// notFound is docker's error for a source that is not there; other errors
// of the lookup are wrapped as they are.
func (c *Context) notFound(src string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &notFoundError{path: src}
	}
	return fmt.Errorf("source %s: %w", quote(src), err)
}

// notFoundError words a missing source as docker's classic builder does:
// "file not found in build context or excluded by .dockerignore: stat
// a.txt: file does not exist" (the builder puts "COPY failed: " before it).
type notFoundError struct{ path string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("%v: stat %s: file does not exist", ErrNotFound, human.Visible(e.path))
}

func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// quote puts a name from a Dockerfile, a context or an archive in quotes,
// made visible.
func quote(s string) string { return `"` + human.Visible(s) + `"` }

// joinRel joins a name to a clean relative path ("." for the root).
func joinRel(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return path.Join(dir, name)
}

// lineError shows an error on one visible line: the system's and the
// libraries' errors may hold a raw name from a context, an image or an
// archive (this package's own names are quoted and made visible already,
// which Line leaves as they are). errors.Is and errors.As see through it.
type lineError struct{ err error }

func (e *lineError) Error() string { return human.Line(e.err.Error()) }

func (e *lineError) Unwrap() error { return e.err }

// oneLine wraps a non-nil err of an exported function in a lineError.
func oneLine(err error) error {
	if err == nil {
		return nil
	}
	return &lineError{err: err}
}
