package app

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/engine"
)

// Usage is one container's row of docker stats.
type Usage struct {
	ID, Name   string  // short ID and name
	CPU        float64 // percent of one CPU since the sample before
	Mem, Limit int64   // bytes; Limit is the host's memory without a limit
	Pids       int64
}

// Sampler reads containers' usage again and again, keeping each reading to
// turn the next one's CPU time into a share of the wall time between them.
type Sampler struct {
	e    *engine.Engine
	prev map[string]sample
}

type sample struct {
	u  engine.Usage
	at time.Time
}

// NewSampler returns a sampler over e's containers.
func NewSampler(e *engine.Engine) *Sampler { return &Sampler{e: e, prev: map[string]sample{}} }

// Sample reads refs, or every running container when there are none (then
// containers that end meanwhile are left out rather than reported).
func (s *Sampler) Sample(refs []string) ([]Usage, error) {
	all := len(refs) == 0
	if all {
		list, err := s.e.List()
		if err != nil {
			return nil, err
		}
		for _, st := range list {
			if st.Status == engine.Running {
				refs = append(refs, st.ID)
			}
		}
	}
	var rows []Usage
	var errs []error
	for _, ref := range refs {
		st, err := s.e.Get(ref)
		var u engine.Usage
		if err == nil {
			u, err = s.e.Stats(st.ID)
		}
		if err != nil {
			if !all {
				errs = append(errs, err)
			}
			continue
		}
		now := time.Now()
		r := Usage{ID: st.ShortID(), Name: st.Name(), Mem: u.MemoryBytes, Limit: u.MemoryLimit, Pids: u.Pids}
		if p, ok := s.prev[st.ID]; ok && now.After(p.at) {
			r.CPU = max(float64(u.CPUNanos-p.u.CPUNanos)/float64(now.Sub(p.at).Nanoseconds())*100, 0)
		}
		if r.Limit == 0 {
			r.Limit = hostMemory()
		}
		s.prev[st.ID] = sample{u, now}
		rows = append(rows, r)
	}
	return rows, errors.Join(errs...)
}

// hostMemory is the machine's memory, the limit of a container without one.
func hostMemory() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
