package overlay

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Spec is an overlay mount to make: the lower layers bottom first, as an
// image lists them, the upper and work directories, and the mount point.
// Its JSON form is kept in the engine's state files.
type Spec struct {
	Lower  []string `json:"lower"`
	Upper  string   `json:"upper"`
	Work   string   `json:"work"`
	Target string   `json:"target"`
	// Volatile skips the sync of the upper dir, on every fsync and at
	// unmount: for containers removed when they exit, whose upper dir
	// never needs to survive a crash.
	Volatile bool `json:"volatile,omitempty"`
}

// Option is one fsconfig(2) call: a key with a string value, or a flag
// (FSCONFIG_SET_FLAG) when Flag is set.
type Option struct {
	Key, Value string
	Flag       bool
}

// String returns the option as it reads in mount(2) data: key=value, or key.
func (o Option) String() string {
	if o.Flag {
		return o.Key
	}
	return o.Key + "=" + o.Value
}

// Plan is an overlay mount as data, in both forms the kernel takes. Mount
// performs it; tests check it without root.
type Plan struct {
	Source, FSType, Target string
	// Options are the fsconfig(2) calls of the new mount API, in order:
	// one lowerdir+ per layer, top first, then the upper and work
	// directories and the fixed options.
	Options []Option
	// Dir and Data are the mount(2) form, for kernels before 6.8 that lack
	// lowerdir+: the option string, with each lower layer relative to Dir,
	// their longest common directory, which mount(2) must be run in, since
	// the string is limited to a page.
	Dir, Data string
}

// fixedOptions are the options every overlay is mounted with: no inode
// index, no redirect following and no metacopy, so that an upper dir is a
// plain directory tree that can be read back as a layer.
var fixedOptions = []Option{{Key: "index", Value: "off"}, {Key: "redirect_dir", Value: "nofollow"}, {Key: "metacopy", Value: "off"}}

// Plan returns the mount s asks for. It refuses a spec without layers.
func (s Spec) Plan() (Plan, error) {
	if len(s.Lower) == 0 {
		return Plan{}, fmt.Errorf("plan overlay on %s: %w", s.Target, errNoLayers)
	}
	p := Plan{Source: "overlay", FSType: "overlay", Target: s.Target, Dir: commonDir(s.Lower)}
	// overlayfs.rst: the first lower layer named is the top one, whether
	// named by lowerdir= or appended one by one with lowerdir+.
	var rel []string
	for i := len(s.Lower) - 1; i >= 0; i-- {
		p.Options = append(p.Options, Option{Key: "lowerdir+", Value: s.Lower[i]})
		r, err := filepath.Rel(p.Dir, s.Lower[i])
		if err != nil {
			return Plan{}, fmt.Errorf("plan overlay on %s: layer %s: %w", s.Target, s.Lower[i], err)
		}
		rel = append(rel, r)
	}
	rest := []Option{{Key: "upperdir", Value: s.Upper}, {Key: "workdir", Value: s.Work}}
	rest = append(rest, fixedOptions...)
	if s.Volatile {
		rest = append(rest, Option{Key: "volatile", Flag: true})
	}
	p.Options = append(p.Options, rest...)
	data := []string{"lowerdir=" + strings.Join(rel, ":")}
	for _, o := range rest {
		data = append(data, o.String())
	}
	p.Data = strings.Join(data, ",")
	return p, nil
}

var errNoLayers = errors.New("no lower layers")

// commonDir is the longest directory that holds every path of ps.
func commonDir(ps []string) string {
	base := filepath.Dir(ps[0])
	for _, p := range ps[1:] {
		for base != "/" && base != "." && !strings.HasPrefix(p, base+"/") {
			base = filepath.Dir(base)
		}
	}
	return base
}
