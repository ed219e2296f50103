package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"minidocker/engine"
	"minidocker/internal/testutil"

	"golang.org/x/sys/unix"
)

// TestMain lets the test binary be a container's init, monitor and exec
// helper, as main does, and, with cliEnv set, minidocker itself.
func TestMain(m *testing.M) {
	if engine.IsInit() {
		engine.Init() // never returns
	}
	if os.Getenv(cliEnv) != "" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cliEnv makes the test binary run as the minidocker command.
const cliEnv = "MINIDOCKER_TEST_CLI"

// TestCLIOutputEndsWithIt runs minidocker as a process whose stdout and
// stderr are pipes, and checks that both reach EOF as soon as it exits:
// no process it starts (monitor, init, container) may hold them, or what
// such a process writes would reach the terminal after the command
// returned, in the middle of the next one's output.
func TestCLIOutputEndsWithIt(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	checkCgroups(t)
	root := filepath.Join(t.TempDir(), "store")
	// Every process these commands start, monitors and inits included,
	// inherits the trace setting (engine.TraceEnv), which tells them from
	// other tests'.
	mark := engine.TraceEnv + "=" + filepath.Join(t.TempDir(), "trace")
	md := func(args ...string) (code int, stdout, stderr string) {
		t.Helper()
		outR, outW, _ := os.Pipe()
		errR, errW, _ := os.Pipe()
		p, err := os.StartProcess(os.Args[0], append([]string{"minidocker", "--root", root}, args...), &os.ProcAttr{
			Env: append(os.Environ(), cliEnv+"=1", mark), Files: []*os.File{nil, outW, errW}})
		outW.Close()
		errW.Close()
		if err != nil {
			t.Fatal(err)
		}
		ps, err := p.Wait()
		if err != nil {
			t.Fatal(err)
		}
		read := func(r *os.File) string {
			defer r.Close()
			r.SetReadDeadline(time.Now().Add(2 * time.Second))
			b, err := io.ReadAll(r)
			if err != nil {
				t.Errorf("minidocker %s: output still open after it exited: %v", strings.Join(args, " "), err)
			}
			return string(b)
		}
		return ps.ExitCode(), read(outR), read(errR)
	}
	if code, _, stderr := md("image", "create-base"); code != 0 {
		t.Fatalf("create-base: %d %s", code, stderr)
	}
	code, stdout, stderr := md("run", "--rm", "base", "nosuchcmd")
	if code != 127 || stdout != "" || stderr != "minidocker: exec \"nosuchcmd\": executable file not found in $PATH\n" {
		t.Errorf("run nosuchcmd: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = md("run", "--rm", "base", "sh", "-c", "echo hi; echo err >&2; exit 3")
	if code != 3 || stdout != "hi\n" || stderr != "err\n" {
		t.Errorf("run sh: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// A run that fails before its container exists, or whose flags are
	// wrong, leaves no process behind: the monitor forked before the Go
	// runtime started (engine.PreforkedMonitor) goes with its init.
	for _, args := range [][]string{{"run", "--rm", "nosuchimage", "true"}, {"run", "--bogus", "base"}} {
		if code, _, _ := md(args...); code == 0 {
			t.Errorf("%s: exit 0", strings.Join(args, " "))
		}
		if left := marked(mark, 2*time.Second); len(left) > 0 {
			t.Errorf("%s: processes left behind: %v", strings.Join(args, " "), left)
		}
	}
	// A container left running: its monitor and it outlive the command.
	code, stdout, stderr = md("run", "-d", "--name", "bg", "base", "sleep", "1000")
	t.Cleanup(func() { md("rm", "-f", "bg") })
	if code != 0 || len(strings.TrimSpace(stdout)) != 64 {
		t.Fatalf("run -d: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// Its monitor is the preforked one, a fork of the command with its
	// environment (one started by NewMonitor has only its own): named as a
	// monitor, in a session of its own, its stdin and stdout /dev/null, its
	// stderr the monitors' log.
	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.Get("bg")
	if err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(st.MonitorPid)
	if b, _ := os.ReadFile("/proc/" + pid + "/cmdline"); !strings.HasPrefix(string(b), "minidocker-monitor "+st.ShortID()+"\x00") {
		t.Errorf("monitor's command line %q, want minidocker-monitor %s", b, st.ShortID())
	}
	if env, _ := os.ReadFile("/proc/" + pid + "/environ"); !bytes.Contains(env, []byte(cliEnv+"=1\x00")) {
		t.Errorf("monitor's environment has no %s: not the preforked monitor", cliEnv)
	}
	if sid, err := unix.Getsid(st.MonitorPid); err != nil || sid != st.MonitorPid {
		t.Errorf("monitor's session %d (%v), want its own", sid, err)
	}
	for fd, want := range []string{"/dev/null", "/dev/null", filepath.Join(root, "containers", "monitor.log")} {
		if l, _ := os.Readlink("/proc/" + pid + "/fd/" + strconv.Itoa(fd)); l != want {
			t.Errorf("monitor's fd %d is %q, want %s", fd, l, want)
		}
	}
}

// marked waits up to timeout for the processes whose environment holds
// mark to be gone, and returns the command lines of those left.
func marked(mark string, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		var left []string
		ents, _ := os.ReadDir("/proc")
		for _, ent := range ents {
			if _, err := strconv.Atoi(ent.Name()); err != nil {
				continue
			}
			env, err := os.ReadFile("/proc/" + ent.Name() + "/environ")
			if err != nil || !bytes.Contains(env, []byte(mark+"\x00")) {
				continue
			}
			b, _ := os.ReadFile("/proc/" + ent.Name() + "/stat")
			if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
				continue // a zombie: gone but for its parent's wait
			}
			cmd, _ := os.ReadFile("/proc/" + ent.Name() + "/cmdline")
			left = append(left, ent.Name()+" "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunOutputBeforeExit runs containers through the whole command line
// and checks that everything they wrote, and a failed start's error, is in
// the buffers when run returns — not written later by a process still
// running behind it.
func TestRunOutputBeforeExit(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	checkCgroups(t)
	root := filepath.Join(t.TempDir(), "store")
	if code, _, stderr := cli(t, root, "image", "create-base"); code != 0 {
		t.Fatalf("create-base: %d %s", code, stderr)
	}
	for _, tc := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"output and exit code", []string{"sh", "-c", "echo hi; echo err >&2; exit 3"}, 3, "hi\n", "err\n"},
		{"command not found", []string{"nosuchcmd"}, 127, "",
			"minidocker: exec \"nosuchcmd\": executable file not found in $PATH\n"},
		{"much output", []string{"sh", "-c", "seq 20000; seq 3 >&2"}, 0, seqLines(20000), "1\n2\n3\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 15 {
				code, stdout, stderr := cli(t, root, append([]string{"run", "--rm", "base"}, tc.args...)...)
				if code != tc.code || stdout != tc.stdout || stderr != tc.stderr {
					t.Fatalf("run %d: exit %d, stdout %q, stderr %q; want %d, %q, %q", i, code, stdout, stderr,
						tc.code, tc.stdout, tc.stderr)
				}
			}
		})
	}
	if code, stdout, _ := cli(t, root, "ps", "-a", "-q"); code != 0 || strings.TrimSpace(stdout) != "" {
		t.Errorf("containers left after run --rm: %q", stdout)
	}
	if holds, _ := os.ReadDir(filepath.Join(root, "holds")); len(holds) != 0 {
		t.Errorf("image holds left after run --rm: %v", holds)
	}
	// Detached, the container is removed by its monitor when it exits;
	// its hold on the image goes with the next command.
	code, stdout, stderr := cli(t, root, "run", "-d", "--rm", "base", "true")
	if code != 0 {
		t.Fatalf("run -d --rm: exit %d: %s", code, stderr)
	}
	dir := filepath.Join(root, "containers", strings.TrimSpace(stdout))
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("run -d --rm: the container's directory is still there: %v", err)
	}
	if code, stdout, _ := cli(t, root, "ps", "-a", "-q"); code != 0 || strings.TrimSpace(stdout) != "" {
		t.Errorf("containers left after run -d --rm: %q", stdout)
	}
	if holds, _ := os.ReadDir(filepath.Join(root, "holds")); len(holds) != 0 {
		t.Errorf("image holds left after run -d --rm and ps: %v", holds)
	}
}

// TestStats checks stats once and streaming, on a container with a memory
// limit and one without.
func TestStats(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	checkCgroups(t)
	root := filepath.Join(t.TempDir(), "store")
	for _, args := range [][]string{{"--name", "limited", "-m", "64m", "--pids-limit", "20"}, {"--name", "free"}} {
		args = append(append([]string{"run", "-d"}, args...), "base", "sh", "-c", "sleep 1000 & sleep 1000")
		if code, _, stderr := cli(t, root, args...); code != 0 {
			t.Fatalf("run: %d %s", code, stderr)
		}
	}
	t.Cleanup(func() { cli(t, root, "rm", "-f", "limited", "free") })
	code, stdout, stderr := cli(t, root, "stats", "--no-stream")
	if code != 0 {
		t.Fatalf("stats: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	row := regexp.MustCompile(`^[0-9a-f]{12} +(limited|free) +\d+\.\d\d% +[0-9.]+(B|KiB|MiB) / ([0-9.]+(MiB|GiB)) +\d+\.\d\d% +3$`)
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "CONTAINER ID   NAME ") {
		t.Fatalf("stats: want a header and two rows, got\n%s", stdout)
	}
	for _, l := range lines[1:] {
		m := row.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("row %q: not a stats row", l)
		} else if m[1] == "limited" && m[3] != "64MiB" {
			t.Errorf("row %q: limit %s, want 64MiB", l, m[3])
		}
	}
	if code, _, stderr := cli(t, root, "stats", "--no-stream", "nosuch"); code != 1 || !strings.Contains(stderr, "no such container") {
		t.Errorf("stats nosuch: %d %q", code, stderr)
	}

	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 350*time.Millisecond)
	defer cancel()
	var b strings.Builder
	if err := streamStats(ctx, e, []string{"limited"}, &b, true, 100*time.Millisecond, true); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\x1b[2J\x1b[H"); n < 2 || n != strings.Count(b.String(), "limited") {
		t.Errorf("streamed %d tables, want several each clearing the screen:\n%q", n, b.String())
	}
}

// checkCgroups fails the test if it leaves behind a cgroup of ours with
// no process in it. Other users of the machine may run containers under
// the same parent meanwhile: theirs have processes, or go away soon.
func checkCgroups(t *testing.T) {
	t.Helper()
	e, err := engine.Open(engine.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h := e.Cgroups()
	var roots []string
	if h.Unified != "" {
		roots = append(roots, filepath.Join(h.Unified, "minidocker"))
	}
	for _, mp := range h.V1 {
		roots = append(roots, filepath.Join(mp, "minidocker"))
	}
	list := func() map[string]bool {
		dirs := map[string]bool{}
		for _, r := range roots {
			ents, _ := os.ReadDir(r)
			for _, ent := range ents {
				if ent.IsDir() {
					dirs[filepath.Join(r, ent.Name())] = true
				}
			}
		}
		return dirs
	}
	before := list()
	t.Cleanup(func() {
		var left []string
		for range 20 {
			left = left[:0]
			for d := range list() {
				if b, err := os.ReadFile(filepath.Join(d, "cgroup.procs")); !before[d] && err == nil && len(b) == 0 {
					left = append(left, d)
				}
			}
			if len(left) == 0 {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Errorf("empty cgroups left behind: %q", left)
	})
}

// seqLines is what seq n prints.
func seqLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintln(&b, i)
	}
	return b.String()
}
