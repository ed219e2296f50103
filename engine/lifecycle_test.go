package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestBadInput(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	if _, err := e.Create(Spec{Name: "taken", Layers: f.layers, Process: Process{Args: []string{"true"}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove("taken", true) })
	tests := []struct {
		name string
		spec Spec
		want error
		msg  string
	}{
		{"no layers", Spec{Process: Process{Args: []string{"true"}}}, ErrInvalid, "no layers"},
		{"missing layer", Spec{Layers: []string{"/nonexistent"}, Process: Process{Args: []string{"true"}}}, ErrInvalid, "/nonexistent"},
		{"no command", Spec{Layers: f.layers}, ErrInvalid, "no command"},
		{"missing host path", Spec{Layers: f.layers, Process: Process{Args: []string{"true"}}, Volumes: []Volume{{Source: "/nonexistent/x", Target: "/x"}}}, ErrInvalid, "/nonexistent/x"},
		{"relative container path", Spec{Layers: f.layers, Process: Process{Args: []string{"true"}}, Volumes: []Volume{{Source: "/tmp", Target: "x"}}}, ErrInvalid, `'x' mount path must be absolute`},
		{"volume at /", Spec{Layers: f.layers, Process: Process{Args: []string{"true"}}, Volumes: []Volume{{Source: "/tmp", Target: "/"}}}, ErrInvalid, `destination can't be '/'`},
		{"volume at /proc", Spec{Layers: f.layers, Process: Process{Args: []string{"true"}}, Volumes: []Volume{{Type: TypeTmpfs, Target: "/proc"}}}, ErrInvalid, `"/proc" cannot be mounted because it is inside /proc`},
		{"two volumes at one target", Spec{Layers: f.layers, Process: Process{Args: []string{"true"}}, Volumes: []Volume{{Source: "/tmp", Target: "/x"}, {Type: TypeTmpfs, Target: "/x/"}}}, ErrInvalid, "Duplicate mount point: /x"},
		{"duplicate name", Spec{Name: "taken", Layers: f.layers, Process: Process{Args: []string{"true"}}}, ErrNameInUse, "taken"},
		{"bad name", Spec{Name: "a/b", Layers: f.layers, Process: Process{Args: []string{"true"}}}, ErrInvalid, "a/b"},
		{"memory below minimum", Spec{Layers: f.layers, Process: Process{Args: []string{"true"}}, Resources: Resources{Memory: 1 << 20}}, ErrInvalid, "memory"},
		{"cpus below minimum", Spec{Layers: f.layers, Process: Process{Args: []string{"true"}}, Resources: Resources{CPUs: 0.001}}, ErrInvalid, "cpus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Create(tt.spec)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line with %q wrapping %v", err, tt.msg, tt.want)
			}
		})
	}
	t.Run("command not found", func(t *testing.T) {
		st, err := e.Create(Spec{Layers: f.layers, Process: Process{Args: []string{"nosuch"}}})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Remove(st.ID, true)
		_, err = e.Start(st.ID, true)
		var se *StartError
		if !errors.As(err, &se) || se.Code != 127 || !errors.Is(err, ErrCommandNotFound) || !strings.Contains(err.Error(), "nosuch") {
			t.Fatalf("got %v, want a code 127 StartError naming nosuch", err)
		}
		if s, _ := e.Get(st.ID); s.Status != Exited || s.ExitCode != 127 {
			t.Errorf("state %s %d, want exited 127", s.Status, s.ExitCode)
		}
	})
	l := t.TempDir()
	os.Symlink("/", filepath.Join(l, "proc"))
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("image /proc is a symlink, tty %v", tty), func(t *testing.T) {
			st, err := e.Create(Spec{Layers: append([]string{}, f.layers[0], f.layers[1], l), Process: Process{Args: []string{"true"}, Tty: tty}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Remove(st.ID, true)
			_, err = e.Start(st.ID, false)
			if err == nil || !strings.Contains(err.Error(), ErrProcSymlink.Error()) {
				t.Errorf("got %v, want %v", err, ErrProcSymlink)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	st, err := e.Create(Spec{Name: "life", Layers: f.layers, Process: Process{Args: []string{"sh", "-c", "trap 'echo term; exit 4' TERM; echo up; while true; do sleep 0.05; done"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	if _, err := e.Start("life", false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Start("life", false); !errors.Is(err, ErrRunning) {
		t.Errorf("second start: %v, want ErrRunning", err)
	}
	if _, err := e.Remove("life", false); !errors.Is(err, ErrRunning) {
		t.Errorf("rm of a running container: %v, want ErrRunning", err)
	}
	waitLogs(t, e, "life", "up\n") // the trap is set
	u, err := e.Stats(st.ID[:12])
	if err != nil || u.Pids < 1 || u.MemoryBytes <= 0 {
		t.Errorf("stats: %+v, %v", u, err)
	}
	got, err := e.Stop("life", 5*time.Second)
	if err != nil || got.Status != Exited || got.ExitCode != 4 {
		t.Errorf("stop: %s %d, %v; want exited 4", got.Status, got.ExitCode, err)
	}
	var logs strings.Builder
	if err := e.Logs(t.Context(), "life", false, &logs); err != nil {
		t.Error(err)
	}
	if logs.String() != "up\nterm\n" {
		t.Errorf("logs %q", logs.String())
	}
	if _, err := e.Start("life", false); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if err := e.Kill("life", unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Wait("life", 5*time.Second); got.ExitCode != 137 {
		t.Errorf("after SIGKILL: code %d, want 137", got.ExitCode)
	}
	if err := e.Kill("life", unix.SIGKILL); !errors.Is(err, ErrNotRunning) {
		t.Errorf("kill of a stopped container: %v", err)
	}
}

// TestMonitorOutlivesStarter starts a container from a process that then
// exits, as the CLI does.
func TestMonitorOutlivesStarter(t *testing.T) {
	if os.Getenv("ENGINE_TEST_STARTER") != "" {
		e, err := Open(testOptions(os.Getenv("ENGINE_TEST_STARTER")))
		if err == nil {
			_, err = e.Start("outlive", false)
		}
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	f := newFixture(t)
	e := f.open(t)
	// The container prints once told to, after the starter is gone: its
	// output logged shows the monitor still at work.
	vol := t.TempDir()
	st, err := e.Create(Spec{Name: "outlive", Layers: f.layers, Volumes: []Volume{{Source: vol, Target: "/v"}},
		Process: Process{Args: []string{"sh", "-c", "while [ ! -e /v/go ]; do sleep 0.01; done; echo after; exec sleep 1000"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	cmd := exec.Command(os.Args[0], "-test.run=^TestMonitorOutlivesStarter$")
	cmd.Env = append(os.Environ(), "ENGINE_TEST_STARTER="+f.root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("starter: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(vol, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitLogs(t, e, "outlive", "after\n")
	if s, _ := e.Get("outlive"); s.Status != Running {
		t.Errorf("after the starter exited: %s", s.Status)
	}
	// A monitor killed by force: reconcile marks the container exited and
	// releases its cgroup.
	s, _ := e.Get("outlive")
	unix.Kill(s.MonitorPid, unix.SIGKILL)
	waitFor(t, "exited after its monitor died", hasStatus(e, "outlive", Exited))
}

func TestParallel(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := e.Create(Spec{Layers: f.layers, Resources: Resources{Memory: 64 << 20, Pids: 20},
				Process: Process{Args: []string{"sh", "-c", fmt.Sprintf("echo %d > /tmp/n; cat /tmp/n", i)}}})
			if err != nil {
				errs <- err
				return
			}
			defer func() {
				if _, err := e.Remove(st.ID, true); err != nil {
					errs <- err
				}
			}()
			sess, err := e.Start(st.ID, true)
			if err != nil {
				errs <- err
				return
			}
			var out strings.Builder
			code, err := sess.Wait(&out, &out)
			if err != nil || code != 0 || out.String() != fmt.Sprintf("%d\n", i) {
				errs <- fmt.Errorf("container %d: %q code %d, %v", i, out.String(), code, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestManyLayers(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	layers := []string{f.layers[0]}
	base := filepath.Join(t.TempDir(), "many")
	for i := range 130 {
		l := filepath.Join(base, fmt.Sprintf("layer-with-a-long-name-to-fill-the-option-page-%03d", i))
		os.MkdirAll(filepath.Join(l, "n"), 0o755)
		os.WriteFile(filepath.Join(l, "n", fmt.Sprint(i)), nil, 0o644)
		os.WriteFile(filepath.Join(l, "top"), []byte(fmt.Sprint(i)), 0o644)
		layers = append(layers, l)
	}
	r := f.run(t, e, Spec{Layers: layers, Process: Process{Args: []string{"sh", "-c", "ls /n | wc -l; cat /top"}}}, "")
	if r.out != "130\n129" {
		t.Errorf("got %q, want 130 files and the top layer's /top", r.out)
	}
}

func TestDiff(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	r := f.run(t, e, sh("echo x > /etc/shadowed; rm /etc/lowerfile; mkdir -p /new/dir; touch /new/dir/f"), "")
	got, err := e.Diff(r.st.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{Changed, "/etc"}, {Deleted, "/etc/lowerfile"}, {Changed, "/etc/shadowed"},
		{Added, "/new"}, {Added, "/new/dir"}, {Added, "/new/dir/f"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}

// TestDiffOpaque removes a directory of the image and makes it again: the
// kernel marks it opaque in the upper directory, and docker diff reports
// it changed and its vanished lower children deleted.
func TestDiffOpaque(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	d := filepath.Join(t.TempDir(), "d")
	for _, p := range []string{"d/a", "d/b/c", "d/keep"} {
		os.MkdirAll(filepath.Join(d, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(d, p), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.layers = append(f.layers, d)
	r := f.run(t, e, sh("rm -rf /d && mkdir /d && echo d/keep > /d/keep && touch /d/new"), "")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.out)
	}
	buf := make([]byte, 8)
	if n, err := unix.Lgetxattr(filepath.Join(r.st.Rootfs.Upper, "d"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Fatalf("upper/d is not opaque: %q, %v", buf[:n], err)
	}
	got, err := e.Diff(r.st.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{Changed, "/d"}, {Deleted, "/d/a"}, {Deleted, "/d/b"}, {Changed, "/d/keep"}, {Added, "/d/new"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}

// waitLogs waits until a container has logged want.
func waitLogs(t *testing.T, e *Engine, ref, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var b strings.Builder
		e.Logs(t.Context(), ref, false, &b)
		if strings.Contains(b.String(), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs %q never held %q", b.String(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConcurrentStart(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	st, err := e.Create(Spec{Layers: f.layers, Process: Process{Args: []string{"sleep", "1000"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := e.Start(st.ID, false)
			errs <- err
		}()
	}
	var ok, running int
	for range 4 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, ErrRunning):
			running++
		default:
			t.Error(err)
		}
	}
	if ok != 1 || running != 3 {
		t.Errorf("%d starts succeeded and %d found it running, want 1 and 3", ok, running)
	}
}

// TestUnusedMonitor checks that a monitor never given a container exits
// and takes its early init and cgroup with it.
func TestUnusedMonitor(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	m, err := e.NewMonitor()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an early cgroup while the monitor waits", func() bool { return len(cgroupTree(e.Cgroups())) > 0 })
	m.Close()
	waitFor(t, "the monitor's end once closed", func() bool { return !alive(m.pid, m.start) })
}

// TestCgroupMembership checks that the command is in its container's
// cgroup in every hierarchy, as a whole process: the init moves itself
// there before its execve (spawn_cgo.go), thread by thread on v1.
func TestCgroupMembership(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	r := f.run(t, e, sh("sleep 0.01 & cat /proc/self/cgroup; wait"), "")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.out)
	}
	want := "/" + e.Cgroups().parent() + "/" + r.st.ID
	var in []string
	for line := range strings.SplitSeq(strings.TrimSpace(r.out), "\n") {
		// hierarchy-id:controllers:path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[2] == want {
			in = append(in, parts[1])
		}
	}
	got := len(in)
	if e.Cgroups().Unified != "" {
		if got != 1 {
			t.Errorf("in %d cgroups named %s, want the unified one:\n%s", got, want, r.out)
		}
		return
	}
	for _, ctl := range []string{"memory", "cpu", "cpuacct", "pids"} {
		if !slices.ContainsFunc(in, func(c string) bool { return slices.Contains(strings.Split(c, ","), ctl) }) {
			t.Errorf("not in the %s cgroup %s:\n%s", ctl, want, r.out)
		}
	}
}

// TestAutoRemove checks that the monitor removes a container run with
// AutoRemove once it exits, before the exit code reaches the caller, and
// that CreateFor's claim lets StartWith start it.
func TestAutoRemove(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	m, err := e.NewMonitor()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, err := e.CreateFor(m, Spec{Layers: f.layers, AutoRemove: true, Process: Process{Args: []string{"sh", "-c", "echo bye; exit 7"}}})
	if err != nil {
		t.Fatal(err)
	}
	if st.MonitorPid == 0 {
		t.Error("CreateFor recorded no monitor")
	}
	sess, err := e.StartWith(m, st.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var out bytes.Buffer
	code, err := sess.Wait(&out, &out)
	if err != nil || code != 7 || out.String() != "bye\n" {
		t.Errorf("exit %d, %v, output %q; want 7 and \"bye\\n\"", code, err, out.String())
	}
	if _, err := os.Stat(st.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("container directory after the exit: %v, want it gone", err)
	}
	if _, err := e.Get(st.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after the exit: %v, want ErrNotFound", err)
	}
}

// TestStopAutoRemove checks that stopping a container run with AutoRemove
// succeeds although its monitor removes it during the call, as docker's
// stop of a --rm container does, and so does a forced remove.
func TestStopAutoRemove(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	tests := []struct {
		name string
		stop func(id string) (State, error)
	}{
		{"stop", func(id string) (State, error) { return e.Stop(id, 5*time.Second) }},
		{"remove with force", func(id string) (State, error) { return e.Remove(id, true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := e.Create(Spec{Layers: f.layers, AutoRemove: true,
				Process: Process{Args: []string{"sh", "-c", "trap 'exit 3' TERM; echo up; while true; do sleep 0.05; done"}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Remove(st.ID, true) })
			if _, err := e.Start(st.ID, false); err != nil {
				t.Fatal(err)
			}
			waitLogs(t, e, st.ID, "up\n") // the trap is set
			got, err := tt.stop(st.ID)
			if err != nil {
				t.Fatalf("%s: %v, want success", tt.name, err)
			}
			if got.ID != st.ID || got.Status == Running {
				t.Errorf("%s: state %.12s %s, want %s not running", tt.name, got.ID, got.Status, st.ShortID())
			}
			if _, err := e.Get(st.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after %s: %v, want ErrNotFound", tt.name, err)
			}
		})
	}
}
