package app

import (
	"minidocker/ui/meter"
)

// uiMeter reads the TUI's disk meter from one Metering, which keeps the
// readings of the upper directories between refreshes.
type uiMeter struct{ m *Metering }

func (u uiMeter) ImageMeter(id string) (meter.Reading, error) {
	mt, err := u.m.Image(id)
	return reading(mt, ""), err
}

func (u uiMeter) ContainerMeter(id string) (meter.Reading, error) {
	mt, err := u.m.Container(id)
	return reading(mt, id), err
}

// reading is mt as the meter draws it, with the container self (an ID)
// picked out when it is one of mt's; every figure is Meter's own.
func reading(mt Meter, self string) meter.Reading {
	r := meter.Reading{Image: mt.Name, Removed: mt.Removed, Containers: mt.N(),
		Layers: mt.Layers, Uppers: mt.Uppers(), Disk: mt.Disk(), Copies: mt.Copies(), Saved: mt.Saved(), Savings: mt.Savings()}
	for _, c := range mt.Containers {
		if c.Running {
			r.Running++
		}
		if self != "" && c.ID == self {
			r.Self, r.SelfUpper = c.Name, c.Upper
		}
	}
	return r
}
