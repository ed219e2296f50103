package layers_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/sys/unix"

	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
)

// The busy container of issue 12: a package install changing a directory
// of 10,000 entries 1,000 times a second.
const (
	busyEntries = 10_000
	busyRate    = 1_000 // changes a second
	busyFor     = 5 * time.Second
	writerEnv   = "LAYERS_BUSY_WRITER" // set: the test binary is the writer
)

var busyProfile = flag.String("busyprof", "", "write a CPU profile of BenchmarkLiveBusy's busy spell alone to this file")

func TestMain(m *testing.M) {
	if dir := os.Getenv(writerEnv); dir != "" {
		if err := busyWrite(dir, os.Args[len(os.Args)-1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// busyUpper makes a lower layer of 2,000 files (a small image holding an
// empty /tmp) and an upper directory whose /tmp holds busyEntries files.
func busyUpper(tb testing.TB) (lower, upper string) {
	tb.Helper()
	dir := tb.TempDir()
	lower, upper = filepath.Join(dir, "lower"), filepath.Join(dir, "upper")
	for i := range 20 {
		for j := range 100 {
			write(tb, filepath.Join(lower, "usr/lib", fmt.Sprintf("pkg%d", i), fmt.Sprintf("lib%d.so", j)), "elf")
		}
	}
	if err := os.MkdirAll(filepath.Join(lower, "tmp"), 0o1777); err != nil {
		tb.Fatal(err)
	}
	for i := range busyEntries {
		write(tb, filepath.Join(upper, "tmp", fmt.Sprintf("f%05d", i)), "x")
	}
	return lower, upper
}

// busyWrite is the writer process: for busyFor it changes dir busyRate
// times a second, in turn creating a new file, appending to an existing
// one (from the first up) and removing one (from the last down), so that
// the directory keeps its size and no path changes twice. It then writes
// each change's path and start time (Unix ns) to the file log.
func busyWrite(dir, log string) error {
	type op struct {
		path string
		at   int64
	}
	ops := make([]op, 0, int(busyFor.Seconds()*busyRate)+busyRate)
	start := time.Now()
	for k := 0; ; k++ {
		due := start.Add(time.Duration(k) * time.Second / busyRate)
		if due.Sub(start) >= busyFor {
			break
		}
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		at := time.Now().UnixNano()
		var name string
		var err error
		switch k % 3 {
		case 0:
			name = fmt.Sprintf("n%05d", k/3)
			err = os.WriteFile(filepath.Join(dir, name), []byte("new\n"), 0o644)
		case 1:
			name = fmt.Sprintf("f%05d", k/3)
			err = appendTo(filepath.Join(dir, name))
		case 2:
			name = fmt.Sprintf("f%05d", busyEntries-1-k/3)
			err = os.Remove(filepath.Join(dir, name))
		}
		if err != nil {
			return err
		}
		ops = append(ops, op{"/tmp/" + name, at})
	}
	var b strings.Builder
	for _, o := range ops {
		fmt.Fprintf(&b, "%s %d\n", o.path, o.at)
	}
	return os.WriteFile(log, []byte(b.String()), 0o644)
}

func appendTo(p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("more\n")
	return errors.Join(err, f.Close())
}

// BenchmarkLiveBusy is the live path of a container view while another
// process changes a directory of 10,000 entries 1,000 times a second:
// WatchUpper, and each batch through Update and View as Bubble Tea runs
// them (commands on their own goroutines, a View after every message).
// It reports the CPU this process used as a share of one core
// (cpu-%core), the time from a change to the first frame that shows it
// (p50-ms, p95-ms, max-ms), the batches applied a second, and the heap in
// use at the end (heap-MB).
func BenchmarkLiveBusy(b *testing.B) {
	lower, upper := busyUpper(b)
	for range b.N {
		r := runBusy(b, []string{lower}, upper)
		b.ReportMetric(r.cpu*100, "cpu-%core")
		b.ReportMetric(r.pct(0.50), "p50-ms")
		b.ReportMetric(r.pct(0.95), "p95-ms")
		b.ReportMetric(r.lat[len(r.lat)-1], "max-ms")
		b.ReportMetric(float64(r.batches)/busyFor.Seconds(), "batches/s")
		b.ReportMetric(r.heapMB, "heap-MB")
		if r.missed > 0 {
			b.Errorf("%d of %d changes never reached the view", r.missed, r.missed+len(r.lat))
		}
	}
}

type busyResult struct {
	cpu     float64   // cores
	lat     []float64 // ms, sorted
	missed  int
	batches int
	heapMB  float64
}

func (r busyResult) pct(q float64) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(q*float64(len(r.lat)-1)+0.5))]
}

// runBusy opens the view on the stack, starts the writer, and runs the
// view's messages until the writer is done and the stream is quiet.
func runBusy(b *testing.B, lower []string, upper string) busyResult {
	s, err := layers.ReadStack(lower, upper, nil)
	if err != nil {
		b.Fatal(err)
	}
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := layers.WatchUpper(ctx, upper, lower)
	if err != nil {
		b.Fatal(err)
	}
	log := filepath.Join(b.TempDir(), "ops")
	w := exec.Command(os.Args[0], "-test.run=^$", log)
	w.Env = append(os.Environ(), writerEnv+"="+filepath.Join(upper, "tmp"))
	w.Stderr = os.Stderr
	runtime.GC()
	b.ResetTimer()
	if *busyProfile != "" {
		f, err := os.Create(*busyProfile)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	cpu0, wall0 := cpuTime(), time.Now()
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Wait() }()

	msgs := make(chan tea.Msg, 64)
	run := func(c tea.Cmd) { runCmd(ctx, c, msgs) }
	run(layers.WaitEvents(ch))
	seen := map[string]int64{}
	var batches int
	var cpu float64
	quiet := time.NewTimer(time.Hour)
	for finished := false; ; {
		select {
		case err := <-done:
			if err != nil {
				b.Fatalf("writer: %v", err)
			}
			cpu = (cpuTime() - cpu0).Seconds() / time.Since(wall0).Seconds()
			finished = true
			quiet.Reset(time.Second)
			continue
		case <-quiet.C:
		case msg := <-msgs:
			var cmd tea.Cmd
			m, cmd = m.Update(msg)
			_ = m.View()
			if ev, ok := msg.(layers.EventsMsg); ok {
				batches++
				now := time.Now().UnixNano()
				for _, n := range ev.Nodes {
					if _, ok := seen[n.Path]; !ok {
						seen[n.Path] = now
					}
				}
				if finished {
					quiet.Reset(time.Second)
				}
			}
			run(cmd)
			continue
		}
		break
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r := busyResult{cpu: cpu, batches: batches, heapMB: float64(ms.HeapInuse) / (1 << 20)}
	r.lat, r.missed = latencies(b, log, seen)
	return r
}

// runCmd runs a command as Bubble Tea does, on its own goroutine, and
// sends what it returns; a batch runs each of its commands.
func runCmd(ctx context.Context, c tea.Cmd, msgs chan<- tea.Msg) {
	if c == nil {
		return
	}
	go func() {
		msg := c()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				runCmd(ctx, c, msgs)
			}
			return
		}
		if msg == nil {
			return
		}
		select {
		case msgs <- msg:
		case <-ctx.Done():
		}
	}()
}

// latencies matches the writer's log with the times paths were first
// shown: milliseconds from each change to its frame, sorted, and how many
// changes never showed.
func latencies(b *testing.B, log string, seen map[string]int64) ([]float64, int) {
	f, err := os.Open(log)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var lat []float64
	missed := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p, at, _ := strings.Cut(sc.Text(), " ")
		t, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			b.Fatalf("writer log: %v", err)
		}
		if s, ok := seen[p]; ok && s >= t {
			lat = append(lat, float64(s-t)/1e6)
		} else {
			missed++
		}
	}
	slices.Sort(lat)
	return lat, missed
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
