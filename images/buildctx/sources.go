package buildctx

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
)

// Source is one file or directory that COPY or ADD copies.
type Source struct {
	// Path is the source as written, cleaned and relative to the context's
	// root, or as a wildcard matched it. Its base name names a copied file.
	Path string
	// Rel is what Path leads to, its symlinks followed, relative to the
	// context's root ("." for the root).
	Rel string
	// Dir is set for a directory, whose contents are copied.
	Dir bool
}

// Sources resolves the sources of a COPY or ADD, in order: a path names a
// file or directory of the context, a leading "/" standing for the
// context's root; a path with wildcards (filepath.Match's *, ? and [...])
// names whatever it matches, each component matched against one directory
// level as docker does, in sorted order. Symlinks on the way are followed,
// and a source that is a symlink stands for what it leads to; what
// .dockerignore excludes is not there.
//
// A path that names nothing is docker's error "file not found in build
// context or excluded by .dockerignore: stat a.txt: file does not exist"
// (ErrNotFound; the builder writes "COPY failed: " before it). A wildcard
// that matches nothing is no error unless no source at all is left
// (ErrNoSources, docker's "no source files were specified"). A path that
// climbs out of the context or leads out of it through a symlink is refused
// (ErrOutside), naming it.
func (c *Context) Sources(patterns []string) ([]Source, error) {
	srcs, err := c.sources(patterns)
	return srcs, oneLine(err)
}

func (c *Context) sources(patterns []string) ([]Source, error) {
	var out []Source
	for _, p := range patterns {
		rel, err := cleanRel(p)
		if err != nil {
			return nil, err
		}
		if !hasWildcards(rel) {
			s, err := c.source(rel)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			continue
		}
		matches, err := c.glob(rel)
		if err != nil {
			return nil, err
		}
		out = append(out, matches...)
	}
	if len(out) == 0 {
		return nil, ErrNoSources
	}
	return out, nil
}

// source resolves one path (clean, relative, no wildcards).
func (c *Context) source(rel string) (Source, error) {
	to, err := c.resolve(rel)
	if err != nil {
		return Source{}, err
	}
	fi, err := c.root.Lstat(to)
	if err != nil {
		return Source{}, c.notFound(rel, err)
	}
	if fi.Mode()&fs.ModeSocket != 0 || !c.visible(to, fi.IsDir()) {
		return Source{}, c.notFound(rel, fs.ErrNotExist)
	}
	return Source{Path: rel, Rel: to, Dir: fi.IsDir()}, nil
}

// glob expands a path with wildcards as BuildKit does: the components
// before the first wildcard are a directory, symlinks followed; beneath it,
// each later component is matched against one level of real directories
// (a symlink to a directory is matched but not descended into), and each
// match then stands for what it leads to.
func (c *Context) glob(rel string) ([]Source, error) {
	comps := strings.Split(rel, "/")
	i := 0
	for !hasWildcards(comps[i]) {
		i++
	}
	for _, comp := range comps[i:] {
		if _, err := filepath.Match(comp, ""); err != nil {
			return nil, fmt.Errorf("source %s: %w", quote(rel), err)
		}
	}
	base := "."
	if i > 0 {
		base = strings.Join(comps[:i], "/")
	}
	dir, err := c.resolve(base)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var paths []string
	if err := c.match(dir, base, comps[i:], &paths); err != nil {
		return nil, err
	}
	var out []Source
	for _, p := range paths {
		s, err := c.source(p)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// match adds to paths the entries beneath the real directory dir that
// comps matches, each written as beneath shown (the path as the
// instruction wrote it).
func (c *Context) match(dir, shown string, comps []string, paths *[]string) error {
	d, err := c.root.Open(dir)
	if err != nil {
		return nil // not a directory, or gone: nothing matches beneath
	}
	defer d.Close()
	if fi, err := d.Stat(); err != nil || !fi.IsDir() {
		return nil
	}
	mi, err := c.matchInfo(dir)
	if err != nil {
		return err
	}
	es, err := c.list(d, dir, mi)
	if err != nil {
		return err
	}
	for _, e := range es {
		if ok, _ := filepath.Match(comps[0], e.name); !ok {
			continue
		}
		p := joinRel(shown, e.name)
		switch {
		case len(comps) == 1:
			*paths = append(*paths, p)
		case e.isDir():
			if err := c.match(e.rel, p, comps[1:], paths); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasWildcards reports whether p holds a wildcard that is not escaped with
// a backslash, as docker tells a pattern from a plain path.
func hasWildcards(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// base returns the name a copied file of s takes.
func (s Source) base() string { return path.Base(s.Path) }
