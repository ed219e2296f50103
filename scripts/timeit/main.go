// Command timeit runs whole commands over and over, interleaved, and prints
// the median and spread of their wall-clock times, start to exit, as a
// shell's time would see them. make bench uses it to set minidocker run
// beside crun and runc in the same run.
//
//	timeit [-n 31] [-warmup 3] [-gap 50ms] [-trace] NAME 'COMMAND' [NAME 'COMMAND']...
//
// With -trace, each run of a command gets MINIDOCKER_TRACE (see
// engine.TraceEnv) and timeit prints, for the commands that wrote to it, the
// median time from the start of the command to each step: where the time
// goes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

type job struct {
	name  string
	argv  []string
	times []time.Duration
	steps map[string][]float64 // ms from the start, one per run
	order []string
}

func main() {
	n := flag.Int("n", 21, "timed runs of each command")
	warmup := flag.Int("warmup", 2, "untimed runs of each command first")
	trace := flag.Bool("trace", false, "collect MINIDOCKER_TRACE steps")
	gap := flag.Duration("gap", 0, "pause before each run, so that what the last one left to the kernel (a network namespace's teardown, writeback) is done")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 || len(args)%2 != 0 {
		fmt.Fprintln(os.Stderr, "usage: timeit [-n N] [-warmup N] [-gap D] [-trace] NAME 'COMMAND' [NAME 'COMMAND']...")
		os.Exit(2)
	}
	var jobs []*job
	for i := 0; i < len(args); i += 2 {
		jobs = append(jobs, &job{name: args[i], argv: strings.Fields(args[i+1]), steps: map[string][]float64{}})
	}
	tmp, err := os.MkdirTemp("", "timeit")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	traceFile := ""
	if *trace {
		traceFile = filepath.Join(tmp, "trace")
	}
	for range *warmup {
		for _, j := range jobs {
			j.run(traceFile, false)
		}
	}
	// Interleaved, so that a busy moment of the machine falls on all of them.
	for range *n {
		for _, j := range jobs {
			time.Sleep(*gap)
			j.run(traceFile, true)
		}
	}
	fmt.Printf("%-12s %8s %8s %8s %8s  (%d runs, ms)\n", "", "median", "p10", "p90", "min", *n)
	for _, j := range jobs {
		slices.Sort(j.times)
		q := func(p float64) time.Duration { return j.times[int(p*float64(len(j.times)-1)+0.5)] }
		fmt.Printf("%-12s %8.1f %8.1f %8.1f %8.1f\n", j.name, ms(q(0.5)), ms(q(0.1)), ms(q(0.9)), ms(j.times[0]))
	}
	for _, j := range jobs {
		if len(j.order) == 0 {
			continue
		}
		fmt.Printf("\n%s, median ms from the start of the command to each step:\n", j.name)
		meds := map[string]float64{}
		for _, s := range j.order {
			meds[s] = median(j.steps[s])
		}
		slices.SortStableFunc(j.order, func(a, b string) int {
			switch {
			case meds[a] < meds[b]:
				return -1
			case meds[a] > meds[b]:
				return 1
			}
			return 0
		})
		for _, s := range j.order {
			fmt.Printf("  %7.2f  %s\n", meds[s], s)
		}
	}
}

// run runs the command once and, when keep is set, records its time and
// the steps it traced.
func (j *job) run(traceFile string, keep bool) {
	cmd := exec.Command(j.argv[0], j.argv[1:]...)
	cmd.Stderr = os.Stderr
	if traceFile != "" {
		os.Remove(traceFile)
		cmd.Env = append(os.Environ(), "MINIDOCKER_TRACE="+traceFile)
	}
	start := monotonicMicros()
	t := time.Now()
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("%s: %w", j.name, err))
	}
	d := time.Since(t)
	if !keep {
		return
	}
	j.times = append(j.times, d)
	if traceFile == "" {
		return
	}
	f, err := os.Open(traceFile)
	if err != nil {
		return // the command traces nothing
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		at, step, ok := strings.Cut(sc.Text(), " ")
		us, err := strconv.ParseInt(at, 10, 64)
		if !ok || err != nil {
			continue
		}
		if _, seen := j.steps[step]; !seen {
			j.order = append(j.order, step)
		}
		j.steps[step] = append(j.steps[step], float64(us-start)/1000)
	}
	if _, seen := j.steps["(exit)"]; !seen {
		j.order = append(j.order, "(exit)")
	}
	j.steps["(exit)"] = append(j.steps["(exit)"], ms(d))
}

func monotonicMicros() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Sec*1_000_000 + ts.Nsec/1000
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "timeit:", err)
	os.Exit(1)
}
