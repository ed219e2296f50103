package engine

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// TraceEnv names a file to which every step of a container's start and end
// is appended as "<CLOCK_MONOTONIC microseconds> <step>", by the CLI, the
// monitor and the init alike, so that the lines of the three processes make
// one timeline: where the time of a run goes (make bench prints it). Unset,
// Trace does nothing.
const TraceEnv = "MINIDOCKER_TRACE"

var traceFile = sync.OnceValue(func() *os.File {
	p := os.Getenv(TraceEnv)
	if p == "" {
		return nil
	}
	// O_CLOEXEC (os.OpenFile's default): a container's command never
	// inherits it.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil
	}
	return f
})

// Trace records that step is reached, when TraceEnv is set.
func Trace(step string) {
	f := traceFile()
	if f == nil {
		return
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	// One write(2) with O_APPEND: lines of several processes never mix.
	f.WriteString(fmt.Sprintf("%d %s\n", ts.Sec*1_000_000+ts.Nsec/1000, step))
}

// traceEnviron is the TraceEnv entry to hand a re-executed minidocker.
func traceEnviron() []string {
	if p := os.Getenv(TraceEnv); p != "" {
		return []string{TraceEnv + "=" + p}
	}
	return nil
}
