package buildctx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"minidocker/internal/human"
)

// The kinds of error of this package, to be checked with errors.Is.
var (
	// ErrNotFound is a source that names nothing in the context, or only
	// what .dockerignore excludes.
	ErrNotFound = errors.New("file not found in build context or excluded by .dockerignore")
	// ErrOutside is a source path that climbs out of the context, or
	// reaches out of it through a symlink.
	ErrOutside = errors.New("path outside the build context")
	// ErrNoSources is an instruction whose wildcards all matched nothing.
	ErrNoSources = errors.New("no source files were specified")
)

// maxIgnoreBytes bounds a .dockerignore file: it is read whole.
const maxIgnoreBytes = 1 << 20

// Context is a directory that COPY and ADD read from. It is not safe for
// concurrent use: the .dockerignore matcher keeps state between calls.
type Context struct {
	dir    string
	root   *os.Root
	ignore *patternmatcher.PatternMatcher // nil when nothing is excluded
	// stage is set for a stage's root (OpenDir): symlinks resolve as if
	// dir were /, and copies keep their owners, as BuildKit's COPY --from.
	stage bool
	cache *HashCache // nil: Hash reads every file
}

// Open opens the build context dir for a build of dockerfile (a host path;
// "" for none). The ignore file is dockerfile+".dockerignore" beside the
// Dockerfile when that exists, as BuildKit reads it, and dir/.dockerignore
// otherwise. Close releases the context.
func Open(dir, dockerfile string) (*Context, error) {
	c, err := openDir(dir)
	if err != nil {
		return nil, oneLine(err)
	}
	patterns, err := c.readIgnore(dockerfile)
	if err == nil && len(patterns) > 0 {
		c.ignore, err = newMatcher(patterns)
		if err != nil {
			err = fmt.Errorf("build context %s: .dockerignore: %w", human.Visible(dir), err)
		}
	}
	if err != nil {
		return nil, oneLine(errors.Join(err, c.Close()))
	}
	return c, nil
}

// OpenDir opens dir, a stage's root filesystem, as the context of COPY
// --from: no .dockerignore, symlinks followed as if dir were / (never out
// of it), and copies keep the owners of their sources unless --chown says
// otherwise.
func OpenDir(dir string) (*Context, error) {
	c, err := openDir(dir)
	if err != nil {
		return nil, oneLine(err)
	}
	c.stage = true
	return c, nil
}

func openDir(dir string) (*Context, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", human.Visible(dir), err)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", human.Visible(dir), err)
	}
	return &Context{dir: abs, root: r}, nil
}

// Close releases the context's directory.
func (c *Context) Close() error { return c.root.Close() }

// SetHashCache makes Hash take the content digests of files that have not
// changed from hc, and remember those it reads there.
func (c *Context) SetHashCache(hc *HashCache) { c.cache = hc }

// Dir returns the context's directory, absolute.
func (c *Context) Dir() string { return c.dir }

// Excludes returns the .dockerignore patterns in force, as the matcher
// reads them ("!" before an exception).
func (c *Context) Excludes() []string {
	if c.ignore == nil {
		return nil
	}
	var out []string
	for _, p := range c.ignore.Patterns() {
		s := p.String()
		if p.Exclusion() {
			s = "!" + s
		}
		out = append(out, s)
	}
	return out
}

// newMatcher returns the matcher of .dockerignore's patterns, each one
// checked first. The matcher compiles a pattern when it first matches a
// path against it, and finds only some bad ones before (a "[" left open
// after a "*"); a bad pattern would then fail the build halfway, or not,
// by the order of the files. Here it fails the opening, named.
func newMatcher(patterns []string) (*patternmatcher.PatternMatcher, error) {
	for _, p := range patterns {
		one, err := patternmatcher.New([]string{strings.TrimPrefix(p, "!")})
		if err == nil {
			_, err = one.MatchesOrParentMatches("x")
		}
		if err != nil {
			return nil, fmt.Errorf("pattern %s: %w", quote(p), err)
		}
	}
	return patternmatcher.New(patterns)
}

// readIgnore returns the patterns of the ignore file that applies: the
// Dockerfile's own beside it, else the context's.
func (c *Context) readIgnore(dockerfile string) ([]string, error) {
	if dockerfile != "" {
		own := dockerfile + ".dockerignore"
		f, err := os.Open(own)
		if err == nil {
			defer f.Close()
			return readPatterns(f, own)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w", human.Visible(own), err)
		}
	}
	f, err := c.root.Open(".dockerignore")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", human.Visible(filepath.Join(c.dir, ".dockerignore")), err)
	}
	defer f.Close()
	return readPatterns(f, filepath.Join(c.dir, ".dockerignore"))
}

// readPatterns reads an ignore file with the ecosystem's own reader.
func readPatterns(f *os.File, name string) ([]string, error) {
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", human.Visible(name))
	}
	b, err := io.ReadAll(io.LimitReader(f, maxIgnoreBytes+1))
	if err == nil && len(b) > maxIgnoreBytes {
		err = fmt.Errorf("over %d bytes", maxIgnoreBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", human.Visible(name), err)
	}
	patterns, err := ignorefile.ReadAll(strings.NewReader(string(b)))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", human.Visible(name), err)
	}
	return patterns, nil
}

// place names the context in messages.
func (c *Context) place() string {
	if c.stage {
		return "the stage's root"
	}
	return "the build context"
}
