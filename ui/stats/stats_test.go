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
