package buildctx

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/moby/patternmatcher"
	"golang.org/x/sys/unix"
)

// entry is one file of the context seen by a walk: its name in its
// directory, its path in the context, its lstat, and the .dockerignore
// match state its children start from.
type entry struct {
	name string
	rel  string
	st   unix.Stat_t
	mi   patternmatcher.MatchInfo
}

func (e *entry) isDir() bool { return e.st.Mode&unix.S_IFMT == unix.S_IFDIR }

// visible reports whether .dockerignore leaves the path rel (clean,
// relative; a directory when dir is set) in the context, as docker's walk
// of the context decides it, from the top down: an excluded directory is
// not entered unless an exception may reach beneath it, and is there only
// when one does keep something beneath it (docker sends it then, as the
// parent of what the exception keeps).
func (c *Context) visible(rel string, dir bool) bool {
	if c.ignore == nil || rel == "." {
		return true
	}
	var mi patternmatcher.MatchInfo
	comps := strings.Split(rel, "/")
	for i := range comps {
		p := strings.Join(comps[:i+1], "/")
		excluded, next, err := c.ignore.MatchesUsingParentResults(p, mi)
		if err != nil {
			return false
		}
		mi = next
		last := i == len(comps)-1
		switch {
		case !excluded:
			continue
		case !c.mayKeepBelow(p), last && !dir:
			return false
		case last:
			return c.keepsBelow(rel, mi)
		}
	}
	return true
}

// keepsBelow reports whether anything beneath the excluded directory rel,
// whose match state is mi, is kept.
func (c *Context) keepsBelow(rel string, mi patternmatcher.MatchInfo) bool {
	d, err := c.root.Open(rel)
	if err != nil {
		return false
	}
	defer d.Close()
	kids, err := c.list(d, rel, mi)
	return err == nil && len(kids) > 0
}

// mayKeepBelow reports whether an exception pattern may keep something
// beneath the excluded directory rel. This is the test docker's own walkers
// make (a "!" pattern that starts with the directory's path), so that a
// pattern such as "!**/keep" does not reach into an excluded directory
// here either.
func (c *Context) mayKeepBelow(rel string) bool {
	if !c.ignore.Exclusions() {
		return false
	}
	dirSlash := rel + "/"
	for _, p := range c.ignore.Patterns() {
		if p.Exclusion() && strings.HasPrefix(p.String()+"/", dirSlash) {
			return true
		}
	}
	return false
}

// list returns the entries of the directory d, whose path in the context
// is rel and whose match state is mi, sorted by name, without what
// .dockerignore excludes and without sockets (a context cannot hold them:
// docker's tar leaves them out). An excluded directory that an exception
// reaches into is listed when something beneath it is kept.
func (c *Context) list(d *os.File, rel string, mi patternmatcher.MatchInfo) ([]entry, error) {
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", quote(rel), err)
	}
	slices.Sort(names)
	fd := int(d.Fd())
	es := make([]entry, len(names))
	err = parallel(len(names), 16, func(_, i int) error {
		e := &es[i]
		e.name, e.rel = names[i], joinRel(rel, names[i])
		return fstatat(fd, e.name, &e.st, e.rel)
	})
	if err != nil {
		return nil, err
	}
	out := es[:0]
	for _, e := range es {
		if e.st.Mode&unix.S_IFMT == unix.S_IFSOCK {
			continue
		}
		keep, err := c.keep(fd, &e, mi)
		if err != nil {
			return nil, err
		}
		if keep {
			out = append(out, e)
		}
	}
	return out, nil
}

// parallel calls fn(w, i) for each i below n, on as many goroutines as
// there are processors when there are at least per calls for each (w
// numbers the goroutine, for state of its own), on the caller's otherwise.
// It returns the first error; the calls under way when it happens finish,
// no other starts.
func parallel(n, per int, fn func(w, i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n/per)
	if workers <= 1 {
		for i := range n {
			if err := fn(0, i); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
		errs   = make([]error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(w, i); err != nil {
					errs[w] = err
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// keep decides whether .dockerignore leaves e in the context, and sets the
// match state its children start from.
func (c *Context) keep(dirfd int, e *entry, mi patternmatcher.MatchInfo) (bool, error) {
	if c.ignore == nil {
		return true, nil
	}
	excluded, emi, err := c.ignore.MatchesUsingParentResults(e.rel, mi)
	if err != nil {
		return false, fmt.Errorf("match %s against .dockerignore: %w", quote(e.rel), err)
	}
	e.mi = emi
	if !excluded {
		return true, nil
	}
	if !e.isDir() || !c.mayKeepBelow(e.rel) {
		return false, nil
	}
	sub, err := openDirAt(dirfd, e.name, e.rel)
	if err != nil {
		return false, err
	}
	defer sub.Close()
	kids, err := c.list(sub, e.rel, emi)
	return len(kids) > 0, err
}

// matchInfo returns the match state that the children of rel start from,
// for a walk that begins at rel rather than at the root: matched from the
// top down, one component at a time, as a walk from the root would have.
func (c *Context) matchInfo(rel string) (patternmatcher.MatchInfo, error) {
	var mi patternmatcher.MatchInfo
	if c.ignore == nil || rel == "." {
		return mi, nil
	}
	comps := strings.Split(rel, "/")
	for i := range comps {
		_, next, err := c.ignore.MatchesUsingParentResults(strings.Join(comps[:i+1], "/"), mi)
		if err != nil {
			return mi, fmt.Errorf("match %s against .dockerignore: %w", quote(rel), err)
		}
		mi = next
	}
	return mi, nil
}
