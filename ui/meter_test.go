package ui

import (
	"strings"
	"testing"

	"minidocker/ui/internal/uitest"
	"minidocker/ui/meter"
)

// fakeMeter serves base:latest's meter: its two containers, web and old.
type fakeMeter struct{ ids []string }

func (f *fakeMeter) ImageMeter(id string) (meter.Reading, error) {
	f.ids = append(f.ids, "image "+id)
	return meter.Reading{Image: "base:latest", Containers: 2, Running: 1, Layers: 12_300_000, Uppers: 48_000,
		Disk: 12_348_000, Copies: 24_648_000, Saved: 12_300_000, Savings: 12_300_000.0 / 24_648_000}, nil
}

func (f *fakeMeter) ContainerMeter(id string) (meter.Reading, error) {
	r, _ := f.ImageMeter(id)
	f.ids[len(f.ids)-1] = "container " + id
	r.Self, r.SelfUpper = "web", 36_000
	return r, nil
}

// TestMeterGoldenViews: the meter is a line over the layers of an image's
// and a container's view, under the container's mounts, read at once for
// the item opened; the layers give it their line.
func TestMeterGoldenViews(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		w, h       int
		keys       []string
	}{
		{"image_meter", "image sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90", 120, 40, []string{"enter"}},
		{"container_meter", "container c0ffee0123456789", 120, 40, []string{"2", "enter"}},
		{"container_meter_80x24", "container c0ffee0123456789", 80, 24, []string{"2", "enter"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, _ := newTest(t, tc.w, tc.h, false)
			fm := &fakeMeter{}
			m.src.Meter = fm
			m = press(t, m, tc.keys...)
			got := m.render()
			uitest.Golden(t, tc.name, got)
			if len(fm.ids) == 0 || fm.ids[0] != tc.want {
				t.Errorf("meter read for %q, want %q first", fm.ids, tc.want)
			}
			if n := strings.Count(got, "\n") + 1; n != tc.h {
				t.Errorf("screen of %d lines, want %d", n, tc.h)
			}
		})
	}
}
