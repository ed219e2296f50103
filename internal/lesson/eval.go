package lesson

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"minidocker/internal/human"
	"minidocker/overlay"
)

// Env is where a lesson's container keeps its files, as its checks read
// them.
type Env struct {
	// Upper is the container's upper directory; Lower its image's layer
	// directories, bottom first.
	Upper string
	Lower []string
	// Root is a directory that shows the container's merged view:
	// /proc/PID/root of its process, or an overlay's mount point.
	Root string
	// Volumes maps each volume's path in the container to its host
	// directory.
	Volumes map[string]string
	// MountPoints are what the engine mounted over the root, which a
	// commit leaves out (overlay.PackOptions).
	MountPoints []string
	// Reset says the container was made again since the step began.
	Reset bool
	// Meter reads the disk meter of the container's image; View is the
	// layer view on screen when the checks are evaluated. Either may be
	// nil: the checks on it then fail, saying so.
	Meter MeterReader
	View  LayerView
	// Pid is the host's PID of the container's first process, its PID 1;
	// 0 when it is not running.
	Pid int
}

// Result is a check's outcome: whether it holds, and what the place
// shows, in a few words, when it does not.
type Result struct {
	OK  bool
	Got string
}

// Eval evaluates the step's checks, in order. It reads only the paths the
// checks name (a few stat(2) calls each), and the upper directory whole
// once when a check is about the commit.
func (s Step) Eval(env Env) []Result {
	e := &evaluator{env: env}
	defer e.close()
	out := make([]Result, len(s.Checks))
	for i, c := range s.Checks {
		out[i] = e.check(c)
	}
	return out
}

// Done reports whether every result holds.
func Done(rs []Result) bool {
	return len(rs) > 0 && !slices.ContainsFunc(rs, func(r Result) bool { return !r.OK })
}

// Eval evaluates one check.
func (c Check) Eval(env Env) Result {
	e := &evaluator{env: env}
	defer e.close()
	return e.check(c)
}

// evaluator evaluates the checks of one step against one Env, opening
// each place once.
type evaluator struct {
	env     Env
	roots   map[string]*os.Root
	pack    []overlay.PackEntry
	packed  bool
	packErr error
	// eff is the analysis of the container's layers and upper directory,
	// made once for the wasted checks.
	eff      overlay.Efficiency
	analyzed bool
	effErr   error
}

func (e *evaluator) close() {
	for _, r := range e.roots {
		r.Close()
	}
}

func (e *evaluator) check(c Check) Result {
	ok, got, err := e.eval(c)
	if err != nil {
		return Result{Got: human.Line(err.Error())}
	}
	if c.Not {
		ok = !ok
	}
	return Result{OK: ok, Got: human.Visible(got)}
}

// eval says whether the check's statement holds (before not) and what was
// found; err when the place cannot be read at all.
func (e *evaluator) eval(c Check) (bool, string, error) {
	switch c.Where {
	case Container:
		if c.What == "process" {
			return e.process(c.Args[0])
		}
		if e.env.Reset {
			return true, "made again", nil
		}
		return false, "the same container", nil
	case Commit:
		if c.What == "wasted" {
			return e.wasted(c)
		}
		return e.commitEntry(c)
	case Meter:
		return e.meter(c)
	case View:
		return e.layerView(c)
	}
	v, rel, err := e.view(c.Where, c.Path)
	if err != nil {
		return false, "", err
	}
	ok, err := e.holds(c, v, rel)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		ok, err = false, nil
	}
	if err != nil || ok != c.Not {
		return ok, "", err // what is there is shown only for a check that fails
	}
	return ok, describe(v, rel), nil
}

// view opens the place a check looks at, and gives the path in it.
func (e *evaluator) view(w Where, p string) (view, string, error) {
	rel := strings.TrimPrefix(p, "/")
	switch w {
	case Upper:
		return layersView{[]string{e.env.Upper}}, rel, nil
	case Lower:
		return layersView{e.env.Lower}, rel, nil
	case Merged:
		r, err := e.root(e.env.Root, "the container's root")
		return rootView{r}, rel, err
	}
	// Volume: the longest target that holds p.
	best := ""
	for t := range e.env.Volumes {
		if (p == t || strings.HasPrefix(p, strings.TrimSuffix(t, "/")+"/")) && len(t) > len(best) {
			best = t
		}
	}
	if best == "" {
		return nil, "", fmt.Errorf("no volume holds %s", p)
	}
	r, err := e.root(e.env.Volumes[best], "volume "+best)
	rel = strings.TrimPrefix(strings.TrimPrefix(p, best), "/")
	return rootView{r}, rel, err
}

func (e *evaluator) root(dir, what string) (*os.Root, error) {
	if r, ok := e.roots[dir]; ok {
		return r, nil
	}
	if dir == "" {
		return nil, fmt.Errorf("%s is not available: is the container running?", what)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	if e.roots == nil {
		e.roots = map[string]*os.Root{}
	}
	e.roots[dir] = r
	return r, nil
}

// holds evaluates a file check in view v.
func (e *evaluator) holds(c Check, v view, rel string) (bool, error) {
	fi, err := v.lstat(rel)
	if c.What == "missing" {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return true, nil
		}
		return false, err
	}
	if err != nil {
		return false, err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	whiteout := fi.Mode()&fs.ModeCharDevice != 0 && st != nil && st.Rdev == 0
	switch c.What {
	case "exists":
		return true, nil
	case "file":
		return fi.Mode().IsRegular() && !whiteout, nil
	case "dir":
		return fi.IsDir(), nil
	case "symlink":
		if fi.Mode()&fs.ModeSymlink == 0 {
			return false, nil
		}
		t, err := v.readlink(rel)
		return len(c.Args) == 0 || t == c.Args[0], err
	case "contains":
		if !fi.Mode().IsRegular() {
			return false, nil
		}
		b, err := v.readFile(rel)
		return bytes.Contains(b, []byte(c.Args[0])), err
	case "line":
		if !fi.Mode().IsRegular() {
			return false, nil
		}
		b, err := v.readFile(rel)
		return hasLine(b, c.Args[0]), err
	case "mode":
		want, _ := strconv.ParseUint(c.Args[0], 8, 32)
		return st != nil && uint64(st.Mode&0o7777) == want, nil
	case "size":
		want, _ := strconv.ParseInt(c.Args[0], 10, 64)
		return fi.Size() == want, nil
	case "nlink":
		want, _ := strconv.ParseUint(c.Args[0], 10, 64)
		return st != nil && uint64(st.Nlink) == want, nil
	case "same-inode":
		fi2, err := v.lstat(strings.TrimPrefix(c.Args[0], "/"))
		if err != nil {
			return false, err
		}
		return os.SameFile(fi, fi2), nil
	case "entries":
		if !fi.IsDir() {
			return false, nil
		}
		names, err := v.readDir(rel)
		want := slices.Sorted(slices.Values(c.Args))
		return slices.Equal(names, want), err
	}
	return e.upperHolds(c, v, rel, fi, whiteout)
}

// upperHolds evaluates the checks only an upper directory answers.
func (e *evaluator) upperHolds(c Check, v view, rel string, fi fs.FileInfo, whiteout bool) (bool, error) {
	switch c.What {
	case "whiteout":
		return whiteout || isWhiteout(path.Join(e.env.Upper, rel), fi), nil
	case "opaque":
		return fi.IsDir() && v.xattr(rel, xattrOpaque) == "y", nil
	case "redirect":
		return fi.IsDir() && v.xattr(rel, xattrRedirect) != "", nil
	}
	if whiteout {
		return false, nil
	}
	lower := layersView{e.env.Lower}
	lfi, err := lower.lstat(rel)
	inLower := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
		return false, err
	}
	// Below an opaque directory of the upper directory the lower layers
	// show nothing: what is there was made, not copied up.
	if r, err := walkTo(e.env.Upper, rel); err != nil {
		return false, err
	} else if r.opaque {
		inLower = false
	}
	switch c.What {
	case "copied-up":
		return inLower, nil
	case "new":
		return !inLower, nil
	case "same-as-lower":
		if !inLower || !fi.Mode().IsRegular() || !lfi.Mode().IsRegular() || fi.Size() != lfi.Size() {
			return false, nil
		}
		a, err := v.readFile(rel)
		if err != nil {
			return false, err
		}
		b, err := lower.readFile(rel)
		return bytes.Equal(a, b), err
	}
	return false, fmt.Errorf("check %s: not known", c.What)
}

// commitEntry looks for an entry in the layer a commit would write.
func (e *evaluator) commitEntry(c Check) (bool, string, error) {
	if !e.packed {
		e.packed = true
		e.pack, e.packErr = overlay.PackList(e.env.Upper, overlay.PackOptions{Lower: e.env.Lower, MountPoints: e.env.MountPoints})
	}
	if e.packErr != nil {
		return false, "", e.packErr
	}
	for _, p := range e.pack {
		if strings.TrimSuffix(p.TarName, "/") != strings.TrimSuffix(c.Path, "/") {
			continue
		}
		got := "a " + p.Kind.String() + " entry"
		if p.Overlay != "" {
			got += ", from " + p.Overlay + " in upper"
		}
		return len(c.Args) == 0 || p.Kind.String() == c.Args[0], got, nil
	}
	return false, fmt.Sprintf("no such entry (%d entries)", len(e.pack)), nil
}
