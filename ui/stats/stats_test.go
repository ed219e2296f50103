package stats_test

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	_ "minidocker/ui/internal/uitest" // the -update flag, so go test ./ui/... -update works
	"minidocker/ui/stats"
	"minidocker/ui/theme"
)

func TestCPUShareAndPlot(t *testing.T) {
	t0 := time.Unix(0, 0)
	m := stats.New(theme.New(true, true)).SetSize(10, 9)
	m = m.Add(stats.Sample{At: t0, Memory: 1 << 20, CPUNanos: 0, Pids: 1})
	m = m.Add(stats.Sample{At: t0.Add(time.Second), Memory: 2 << 20, MemoryLimit: 4 << 20, CPUNanos: 5e8, Pids: 2})
	got := ansi.Strip(m.View())
	for _, want := range []string{"memory 2MiB of 4MiB", "cpu 50.0%", "pids 2", " █\n██"} {
		if !strings.Contains(got, want) {
			t.Errorf("view lacks %q:\n%s", want, got)
		}
	}
}

// TestEnd checks the plots say when no more readings come, with or
// without readings before.
func TestEnd(t *testing.T) {
	m := stats.New(theme.New(true, true)).SetSize(10, 9)
	const why = "stopped: nothing more to read"
	if got := ansi.Strip(m.End(why).View()); got != why {
		t.Errorf("ended with no reading: %q", got)
	}
	m = m.Add(stats.Sample{At: time.Unix(0, 0), Memory: 1 << 20, Pids: 1}).End(why)
	lines := strings.Split(ansi.Strip(m.View()), "\n")
	if len(lines) > 9 || lines[len(lines)-1] != why || !strings.HasPrefix(lines[0], "memory 1MiB") {
		t.Errorf("ended after a reading: %q", lines)
	}
	if m = m.End(""); m.Ended() || strings.Contains(ansi.Strip(m.View()), why) {
		t.Error("End(\"\") did not take the end back")
	}
}
