package meter_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"minidocker/ui/internal/uitest"
	"minidocker/ui/meter"
	"minidocker/ui/theme"
)

// fakeSource serves one reading, or an error, and counts the reads.
type fakeSource struct {
	r     meter.Reading
	err   error
	reads int
}

func (f *fakeSource) ImageMeter(id string) (meter.Reading, error) {
	f.reads++
	r := f.r
	r.Self, r.SelfUpper = "", 0
	return r, f.err
}

func (f *fakeSource) ContainerMeter(id string) (meter.Reading, error) {
	f.reads++
	return f.r, f.err
}

// three is base:latest with three containers that wrote 30, 60 and 0 kB:
// 7.6 MB of layers once against three full copies.
var three = meter.Reading{Image: "base:latest", Containers: 3, Running: 2,
	Layers: 7_600_000, Uppers: 90_000, Disk: 7_690_000, Copies: 22_890_000, Saved: 15_200_000, Savings: 15_200_000.0 / 22_890_000,
	Self: "web", SelfUpper: 30_000}

// read runs the meter's first read and hands the reading to it.
func read(t *testing.T, m meter.Model) meter.Model {
	t.Helper()
	msg := m.Init()()
	m, cmd := m.Update(msg)
	if cmd == nil {
		t.Fatal("a reading asks for no next one")
	}
	return m
}

func TestMeterGolden(t *testing.T) {
	dark := theme.New(true, false)
	removed := three
	removed.Image, removed.Removed, removed.Self = "0123456789ab", true, ""
	for _, tc := range []struct {
		name      string
		r         meter.Reading
		err       error
		container bool
		width     int
	}{
		{"meter_image_120", three, nil, false, 120},
		{"meter_container_160", three, nil, true, 160},
		{"meter_container_120", three, nil, true, 120},
		{"meter_image_80", three, nil, false, 80},
		{"meter_image_50", three, nil, false, 50},
		{"meter_one_120", meter.Reading{Image: "base:latest", Containers: 1, Layers: 900, Uppers: 100, Disk: 1000, Copies: 1000}, nil, false, 120},
		{"meter_none_120", meter.Reading{Image: "base:latest", Layers: 7_600_000, Disk: 7_600_000}, nil, false, 120},
		{"meter_removed_120", removed, nil, false, 120},
		{"meter_evil_120", meter.Reading{Image: uitest.EvilName, Containers: 1, Layers: 10, Disk: 10, Copies: 10}, nil, false, 120},
		{"meter_error_80", meter.Reading{}, errors.New("read containers: permission denied"), false, 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{r: tc.r, err: tc.err}
			m := read(t, meter.New(context.Background(), dark, src, tc.container, "id").SetWidth(tc.width))
			got := m.View()
			uitest.Golden(t, tc.name, got)
			if strings.Contains(got, "\n") {
				t.Errorf("the meter takes more than a line:\n%s", got)
			}
		})
	}
	src := &fakeSource{r: three}
	m := read(t, meter.New(context.Background(), dark, src, true, "id").SetWidth(160))
	uitest.Golden(t, "meter_container_160.ansi", m.View())
}

// TestMeterGoldenMeasuring: before the first reading the line says so, and
// takes its line already, so that the layers do not move when it comes.
func TestMeterGoldenMeasuring(t *testing.T) {
	m := meter.New(context.Background(), theme.New(true, true), &fakeSource{}, false, "id").SetWidth(80)
	if m.Height() != 1 {
		t.Errorf("height %d before the first reading, want 1", m.Height())
	}
	uitest.Golden(t, "meter_measuring_80", m.View())
	var off meter.Model
	if off.Height() != 0 || off.View() != "" || off.Init() != nil {
		t.Error("the zero meter takes a line or reads")
	}
}

// TestMeterReadings: a reading is kept, an error after it keeps it shown,
// a reading of another meter is ignored, and nothing is read once the
// meter's context has ended.
func TestMeterReadings(t *testing.T) {
	th := theme.New(true, true)
	src := &fakeSource{r: three}
	ctx, cancel := context.WithCancel(context.Background())
	m := read(t, meter.New(ctx, th, src, false, "id").SetWidth(200))
	if !strings.Contains(m.View(), "saved 15.2MB (66%)") {
		t.Errorf("view lacks the saving:\n%s", m.View())
	}
	other := meter.New(ctx, th, &fakeSource{r: meter.Reading{Image: "other", Containers: 1}}, false, "id")
	if _, cmd := m.Update(other.Init()()); cmd != nil {
		t.Error("a reading of another meter asks for a next one")
	}
	if v, _ := m.Update(other.Init()()); v.View() != m.View() {
		t.Errorf("a reading of another meter changed the view:\n%s", v.View())
	}
	src.err = errors.New("gone")
	m, _ = m.Update(m.Init()())
	if !strings.Contains(m.View(), "saved 15.2MB (66%)") {
		t.Errorf("an error after a reading hides it:\n%s", m.View())
	}
	cancel()
	n := src.reads
	if msg := m.Init()(); msg != nil || src.reads != n {
		t.Errorf("read after the context ended: %v", msg)
	}
}
