package lesson

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"minidocker/internal/human"
	"minidocker/overlay"
)

// The places a meter or a view check may look at.
var (
	meterOnly = []Where{Meter}
	viewOnly  = []Where{View}
)

// MeterReader reads the disk meter of the image of the lesson's
// container. The application answers from the meter the lesson view
// draws, so that a check and the line on screen agree.
type MeterReader interface {
	ReadMeter() (MeterReading, error)
}

// MeterReading is one reading of the disk meter, as the meter counts it
// (content bytes: regular files' sizes).
type MeterReading struct {
	// Containers counts the image's containers, the student's included.
	Containers int
	// Layers is the image's layers, each once, shared by every container.
	Layers int64
	// Self is the student's container's upper directory; Others the
	// other containers' upper directories, summed.
	Self, Others int64
	// Savings is what sharing the layers saves, as a fraction of what a
	// full copy of the image per container would take.
	Savings float64
}

// String says the reading in a few words, for a check that fails.
func (r MeterReading) String() string {
	return fmt.Sprintf("%d containers, layers %s, this upper %s, the others %s, saved %.1f%%",
		r.Containers, human.Size(r.Layers), human.Size(r.Self), human.Size(r.Others), 100*r.Savings)
}

// LayerView is what the layer view shows, for the view checks. The UI
// hands each evaluation a copy of its state: the checks run on another
// goroutine than the view.
type LayerView interface {
	// Layer is the lower layer shown alone (0 the bottom), -1 when the
	// lower pane shows every layer merged or is not on screen.
	Layer() int
	// Focus names the pane with the cursor: lower, upper or merged.
	Focus() string
	// Selected is the path under the cursor, "/"-rooted, and its marker,
	// the name of an overlay.DiffKind ("whiteout", "opaque", "added"…);
	// ok is false when the pane is empty.
	Selected() (p, marker string, ok bool)
}

// panes and markers are the words a pane or a marker check may name.
var (
	panes   = []string{"lower", "upper", "merged"}
	markers = func() []string {
		var out []string
		for k := overlay.Unmodified; k.String() != "unknown"; k++ {
			out = append(out, k.String())
		}
		return out
	}()
)

// validatePlace checks the arguments of a meter or a view check.
func (c *Check) validatePlace() error {
	switch c.What {
	case "containers":
		if n, err := strconv.Atoi(c.Args[0]); err != nil || n < 0 {
			return fmt.Errorf("containers %q: want a number", c.Args[0])
		}
	case "saved-at-least":
		if f, err := strconv.ParseFloat(c.Args[0], 64); err != nil || f < 0 || f > 100 {
			return fmt.Errorf("saved-at-least %q: want a percent from 0 to 100", c.Args[0])
		}
	case "upper-at-least", "upper-at-most", "others-at-most":
		if _, err := human.ParseSize(c.Args[0]); err != nil {
			return fmt.Errorf("%s %q: want a size such as 64KB or 20MB", c.What, c.Args[0])
		}
	case "layer":
		if _, ok := layerArg(c.Args[0]); !ok {
			return fmt.Errorf("layer %q: want a layer's number (0 the bottom) or all", c.Args[0])
		}
	case "pane":
		if !slices.Contains(panes, c.Args[0]) {
			return fmt.Errorf("pane %q: want one of %s", c.Args[0], strings.Join(panes, ", "))
		}
	case "selected":
		if !strings.HasPrefix(c.Path, "/") || path.Clean(c.Path) != c.Path {
			return fmt.Errorf("path %q: want an absolute, clean path", c.Path)
		}
	case "marker":
		if !slices.Contains(markers, c.Args[0]) {
			return fmt.Errorf("marker %q: want one of %s", c.Args[0], strings.Join(markers, ", "))
		}
	}
	return nil
}

// layerArg reads a layer check's argument: a number, or -1 for all.
func layerArg(s string) (int, bool) {
	if s == "all" {
		return -1, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// meter evaluates a meter check against one reading.
func (e *evaluator) meter(c Check) (bool, string, error) {
	if e.env.Meter == nil {
		return false, "", errors.New("no disk meter in this lesson")
	}
	r, err := e.env.Meter.ReadMeter()
	if err != nil {
		return false, "", fmt.Errorf("read the disk meter: %w", err)
	}
	var ok bool
	switch c.What {
	case "containers":
		n, _ := strconv.Atoi(c.Args[0])
		ok = r.Containers == n
	case "saved-at-least":
		pct, _ := strconv.ParseFloat(c.Args[0], 64)
		ok = 100*r.Savings >= pct
	default:
		size, _ := human.ParseSize(c.Args[0])
		switch c.What {
		case "upper-at-least":
			ok = r.Self >= size
		case "upper-at-most":
			ok = r.Self <= size
		case "others-at-most":
			ok = r.Others <= size
		}
	}
	return ok, r.String(), nil
}

// layerView evaluates a view check against the view's state.
func (e *evaluator) layerView(c Check) (bool, string, error) {
	v := e.env.View
	if v == nil {
		return false, "", errors.New("no layer view on screen")
	}
	layer, focus := v.Layer(), v.Focus()
	p, marker, sel := v.Selected()
	p = path.Clean("/" + p)
	var ok bool
	switch c.What {
	case "layer":
		want, _ := layerArg(c.Args[0])
		ok = layer == want
	case "pane":
		ok = focus == c.Args[0]
	case "selected":
		ok = sel && p == c.Path
	case "marker":
		ok = sel && marker == c.Args[0]
	}
	shown := "all layers"
	if layer >= 0 {
		shown = fmt.Sprintf("layer %d alone", layer)
	}
	got := fmt.Sprintf("%s, the %s pane, nothing selected", shown, focus)
	if sel {
		got = fmt.Sprintf("%s, the %s pane, %s (%s)", shown, focus, p, marker)
	}
	return ok, got, nil
}

// wasted says whether a lower layer keeps the bytes of p where the
// container's merged view does not show them: what a commit of the
// container would keep in the image, hidden.
func (e *evaluator) wasted(c Check) (bool, string, error) {
	if !e.analyzed {
		e.analyzed = true
		e.eff, e.effErr = Analyze(e.env)
	}
	if e.effErr != nil {
		return false, "", e.effErr
	}
	for _, f := range e.eff.Files {
		if f.Path == c.Path {
			return true, fmt.Sprintf("%s hidden in layer %s", human.Size(f.Wasted), joinInts(f.Layers)), nil
		}
	}
	return false, fmt.Sprintf("nothing of it hidden (%d paths waste %s in all)", len(e.eff.Files), human.Size(e.eff.Wasted)), nil
}

// Analyze is what `minidocker analyze` says of the container of env: the
// efficiency of its image's layers with its upper directory on top, as a
// commit would stack them.
func Analyze(env Env) (overlay.Efficiency, error) {
	if env.Upper == "" {
		return overlay.Efficiency{}, errors.New("no upper directory: is the container made?")
	}
	trees, err := overlay.ReadLayers(append(slices.Clone(env.Lower), env.Upper))
	if err != nil {
		return overlay.Efficiency{}, fmt.Errorf("analyze the container: %w", err)
	}
	return overlay.Merge(trees).Efficiency(), nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
