package ui

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"

	"minidocker/internal/lesson"
	"minidocker/ui/meter"
)

// layerViewState is the lesson container's layer view as it is on
// screen, copied for the view checks (lesson.LayerView): they run on
// another goroutine, so they get values, never the model.
type layerViewState struct {
	layer        int
	focus        string
	path, marker string
	selected     bool
}

func (s layerViewState) Layer() int                       { return s.layer }
func (s layerViewState) Focus() string                    { return s.focus }
func (s layerViewState) Selected() (string, string, bool) { return s.path, s.marker, s.selected }

// lessonLayerView copies what the lesson container's layer view shows;
// nil while it is not read, or on a tab that does not draw it. The lower
// pane is drawn only on the Layers tab: elsewhere no layer is shown.
func (m Model) lessonLayerView() lesson.LayerView {
	d := m.detail
	if d == nil || !d.loaded || d.current() != "Layers" && d.current() != "Shell" {
		return nil
	}
	s := layerViewState{layer: -1, focus: d.layers.SelectedPane()}
	if d.current() == "Layers" {
		s.layer = d.layers.Layer()
	}
	if n, ok := d.layers.Selected(); ok {
		s.path, s.marker, s.selected = n.Path, n.Mark().String(), true
	}
	return s
}

// lessonEvaluate evaluates the step's checks against what the container
// holds and what the screen shows now.
func (m Model) lessonEvaluate() (Model, tea.Cmd) {
	if m.learn == nil {
		return m, nil
	}
	v := *m.learn
	v.layerView = m.lessonLayerView()
	v.now = m.now()
	cmd := v.evaluate()
	m.learn = &v
	return m, cmd
}

// lessonRoute gives a key or the pointer to the lesson container's view,
// then evaluates the step's checks: moving in the layer view may be what
// a view check waits for.
func (m Model) lessonRoute(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := m.routeDetail(msg)
	m2, eval := next.(Model).lessonEvaluate()
	return m2, tea.Batch(cmd, eval)
}

// startMeter turns the disk meter on over the lesson's container view
// when the lesson runs several containers: it reads the meter of the
// container id's image until ctx ends (the container's view closes).
func (v *learnView) startMeter(m Model, ctx context.Context, id string) tea.Cmd {
	v.meter = meter.Model{}
	if v.l.Containers < 2 || m.src.Meter == nil {
		return nil
	}
	v.meter = meter.New(ctx, m.th, m.src.Meter, true, id).SetWidth(m.width)
	return v.meter.Init()
}

// meterRead takes a reading of the lesson's meter; ok is false for
// another meter's, which the container's view takes.
func (v *learnView) meterRead(msg meter.ReadMsg) (tea.Cmd, bool) {
	mm, cmd := v.meter.Update(msg)
	if cmd == nil {
		return nil, false
	}
	v.meter = mm
	return cmd, true
}

// lessonMeterHeight is the line the meter takes under the lesson's panel.
func (m Model) lessonMeterHeight() int {
	if m.learn == nil || m.learn.l == nil {
		return 0
	}
	return m.learn.meter.Height()
}

// solutionText is a step's solution as the hint shows it: commands, and
// keys by their names.
func solutionText(lines []string, resetKey string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		switch {
		case l == "@reset":
			out[i] = resetKey
		case strings.HasPrefix(l, "@keys "):
			out[i] = "keys " + strings.TrimPrefix(l, "@keys ")
		default:
			out[i] = l
		}
	}
	return strings.Join(out, "; ")
}
