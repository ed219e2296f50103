package engine

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// freezerPaths are engine options for each way this host can freeze a
// container: "v1" with the freezer controller, "v2" with cgroup.freeze
// (pure v2's cgroup, or a hybrid host's empty cgroup2, the engine being
// shown a mount table without the v1 freezer and devices hierarchies).
func freezerPaths(t *testing.T) map[string]func(root string) Options {
	t.Helper()
	testutil.RequireRoot(t)
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	mi := string(b)
	h, err := DetectCgroups(mi, "/sys/fs/cgroup")
	if err != nil {
		testutil.Unavailable(t, err.Error())
	}
	paths := map[string]func(string) Options{}
	if h.Unified != "" {
		paths["v2"] = testOptions
	}
	if h.V1["freezer"] != "" {
		paths["v1"] = testOptions
		var kept []string
		for _, l := range strings.Split(mi, "\n") {
			if !strings.Contains(l, " "+h.V1["freezer"]+" ") && (h.V1["devices"] == "" || !strings.Contains(l, " "+h.V1["devices"]+" ")) {
				kept = append(kept, l)
			}
		}
		if hh, err := DetectCgroups(strings.Join(kept, "\n"), "/sys/fs/cgroup"); err == nil && hh.Hybrid != "" {
			paths["v2"] = func(root string) Options {
				o := testOptions(root)
				o.Mountinfo = strings.Join(kept, "\n")
				return o
			}
		}
	}
	if len(paths) == 0 {
		testutil.Unavailable(t, "no cgroup freezer on this host")
	}
	return paths
}

// counter appends a line to /tmp/n every 10 ms, a forked sleep each time.
const counter = "i=0; while :; do i=$((i+1)); echo $i >> /tmp/n; sleep 0.01; done"

// startCounter starts counter in a container named name and waits for its
// first lines.
func startCounter(t *testing.T, e *Engine, f fixture, name string) State {
	t.Helper()
	st, err := e.Create(Spec{Name: name, Layers: f.layers, Process: Process{Args: []string{"sh", "-c", counter}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := e.Remove(st.ID, true); err != nil && !errors.Is(err, ErrNotFound) {
			t.Errorf("remove: %v", err)
		}
	})
	if _, err := e.Start(st.ID, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "counter started", func() bool { return countOf(st) > 2 })
	return st
}

// countOf is the size of the counter's file, in the container's upper
// directory.
func countOf(st State) int64 {
	fi, err := os.Stat(filepath.Join(st.Rootfs.Upper, "tmp", "n"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// freezerState is what the kernel's own file says of st's cgroup.
func freezerState(t *testing.T, st State) string {
	t.Helper()
	f, err := st.Cgroup.freezer()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(f.dir, "cgroup.events")
	if f.v1 {
		file = filepath.Join(f.dir, "freezer.state")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if f.v1 {
		return strings.TrimSpace(string(b))
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "frozen ") {
			return l
		}
	}
	t.Fatalf("%s has no frozen line:\n%s", file, b)
	return ""
}

// frozenWord is what the kernel's file of a freezer path says of a cgroup
// frozen, or thawed.
func frozenWord(path string, frozen bool) string {
	switch {
	case path == "v1" && frozen:
		return "FROZEN"
	case path == "v1":
		return "THAWED"
	case frozen:
		return "frozen 1"
	}
	return "frozen 0"
}

// TestPause pauses a counting container on each freezer path: the count
// stands still while it is paused and moves again once unpaused, the
// kernel's file says frozen, and pause, unpause and exec are refused in
// docker's words where docker refuses them.
func TestPause(t *testing.T) {
	testutil.RequireTool(t, "busybox")
	for name, opts := range freezerPaths(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			e := f.openPath(t, opts)
			st := startCounter(t, e, f, "counter")
			if err := e.Pause("counter"); err != nil {
				t.Fatal(err)
			}
			want := frozenWord(name, true)
			if got := freezerState(t, st); got != want {
				t.Errorf("paused: the cgroup's file says %q, want %q", got, want)
			}
			if p, err := e.Paused("counter"); err != nil || !p {
				t.Errorf("Paused: %v, %v; want true", p, err)
			}
			if s, _ := e.Get("counter"); s.Status != Running || !s.Paused {
				t.Errorf("state %s paused %v, want running and paused", s.Status, s.Paused)
			}
			before := countOf(st)
			time.Sleep(200 * time.Millisecond) // twenty lines' worth, were it running
			if after := countOf(st); after != before {
				t.Errorf("paused, the count went from %d to %d bytes", before, after)
			}
			err := e.Pause("counter")
			if !errors.Is(err, ErrPaused) || err.Error() != "container counter is already paused" {
				t.Errorf("second pause: %v, want ErrPaused in docker's words", err)
			}
			_, err = e.Exec("counter", Process{Args: []string{"true"}}, Stdio{})
			if !errors.Is(err, ErrPaused) || !strings.Contains(err.Error(), "unpause the container before exec") {
				t.Errorf("exec while paused: %v, want ErrPaused", err)
			}
			if err := e.Unpause("counter"); err != nil {
				t.Fatal(err)
			}
			want = frozenWord(name, false)
			if got := freezerState(t, st); got != want {
				t.Errorf("unpaused: the cgroup's file says %q, want %q", got, want)
			}
			waitFor(t, "the count moving again", func() bool { return countOf(st) > before })
			err = e.Unpause("counter")
			if !errors.Is(err, ErrNotPaused) || err.Error() != "container counter is not paused" {
				t.Errorf("second unpause: %v, want ErrNotPaused in docker's words", err)
			}
		})
	}
}

// TestPauseNotRunning: a created and an exited container cannot be
// paused, nor unpaused, and an unknown one is not found.
func TestPauseNotRunning(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	created, err := e.Create(Spec{Name: "created", Layers: f.layers, Process: Process{Args: []string{"true"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(created.ID, true) })
	exited := f.run(t, e, Spec{Name: "exited", Layers: f.layers, Process: Process{Args: []string{"true"}}}, "").st
	for _, st := range []State{created, exited} {
		err := e.Pause(st.ID)
		if !errors.Is(err, ErrNotRunning) || err.Error() != "container "+st.Name()+" is not running" {
			t.Errorf("pause %s: %v, want ErrNotRunning in docker's words", st.Name(), err)
		}
		if err := e.Unpause(st.ID); !errors.Is(err, ErrNotPaused) {
			t.Errorf("unpause %s: %v, want ErrNotPaused", st.Name(), err)
		}
	}
	if err := e.Pause("nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("pause nosuch: %v, want ErrNotFound", err)
	}
}

// TestPausedEnds ends paused containers every way there is, on each
// freezer path: stop (whose SIGTERM the container handles once thawed,
// as docker has it), kill, remove with force, and a SIGKILL sent from
// outside the engine, which on cgroup v1 leaves a frozen process that
// only a thaw lets die. None may hang or leave a cgroup behind.
func TestPausedEnds(t *testing.T) {
	testutil.RequireTool(t, "busybox")
	for name, opts := range freezerPaths(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			e := f.openPath(t, opts)
			tests := []struct {
				name     string
				end      func(st State) (State, error)
				wantCode int
			}{
				{"stop", func(st State) (State, error) { return e.Stop(st.ID, 10*time.Second) }, 3},
				{"kill", func(st State) (State, error) {
					if err := e.Kill(st.ID, unix.SIGKILL); err != nil {
						return st, err
					}
					return e.Wait(st.ID, 10*time.Second)
				}, 137},
				{"remove with force", func(st State) (State, error) { return e.Remove(st.ID, true) }, -1},
				{"SIGKILL from outside, then remove with force", func(st State) (State, error) {
					if err := unix.Kill(st.Pid, unix.SIGKILL); err != nil {
						return st, err
					}
					return e.Remove(st.ID, true)
				}, -1},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					st, err := e.Create(Spec{Layers: f.layers,
						Process: Process{Args: []string{"sh", "-c", "trap 'exit 3' TERM; echo up; while :; do sleep 0.05; done"}}})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { e.Remove(st.ID, true) })
					if _, err := e.Start(st.ID, false); err != nil {
						t.Fatal(err)
					}
					waitLogs(t, e, st.ID, "up\n")
					if err := e.Pause(st.ID); err != nil {
						t.Fatal(err)
					}
					st, _ = e.Get(st.ID)
					got, err := tt.end(st)
					if err != nil {
						t.Fatalf("%s: %v", tt.name, err)
					}
					if got.Status == Running || got.Paused {
						t.Errorf("after %s: %s, paused %v; want ended, not paused", tt.name, got.Status, got.Paused)
					}
					if tt.wantCode >= 0 && got.ExitCode != tt.wantCode {
						t.Errorf("after %s: exit code %d, want %d", tt.name, got.ExitCode, tt.wantCode)
					}
					for _, d := range st.Cgroup.Dirs {
						if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
							t.Errorf("after %s: cgroup %s is still there (%v)", tt.name, d, err)
						}
					}
				})
			}
		})
	}
}

// TestRemoveThawsFrozenCgroup removes a frozen cgroup whose process was
// killed, as a monitor's teardown or reconcile may find it: Remove thaws
// it, or on cgroup v1 the process would never exit and the cgroup stay.
func TestRemoveThawsFrozenCgroup(t *testing.T) {
	for name, opts := range freezerPaths(t) {
		t.Run(name, func(t *testing.T) {
			e, err := Open(opts(t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			checkCgroups(t, e.Cgroups())
			c := e.Cgroups().Cgroup("frozen-" + name)
			if err := c.Create(nil); err != nil {
				t.Fatal(err)
			}
			p, err := os.StartProcess(testutil.RequireTool(t, "busybox"), []string{"sleep", "60"}, &os.ProcAttr{})
			if err != nil {
				c.Remove()
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := p.Wait(); done <- err }()
			if err := c.Join(p.Pid); err != nil {
				p.Kill()
				<-done
				c.Remove()
				t.Fatal(err)
			}
			if err := c.freeze(); err != nil {
				t.Error(err)
			}
			if ok, err := c.frozen(); err != nil || !ok {
				t.Errorf("frozen: %v, %v; want true", ok, err)
			}
			p.Kill()
			if err := c.Remove(); err != nil {
				t.Errorf("remove of a frozen cgroup: %v", err)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the killed process did not exit")
			}
		})
	}
}

// TestMountPoints lists the top-level mount points of a plan with
// volumes: nested ones left out, /etc/hosts only when the engine made it.
func TestMountPoints(t *testing.T) {
	vols := []Volume{{Source: "/srv/a", Target: "/data"}, {Source: "/srv/b", Target: "/data/sub"}, {Type: TypeTmpfs, Target: "/run/x/"}}
	base := []string{"/data", "/dev", "/etc/hostname", "/etc/resolv.conf", "/proc", "/run/x", "/sys"}
	tests := []struct {
		name         string
		upper, lower []string // files made in each
		ownHosts     bool
		want         []string
	}{
		{"never started", nil, nil, false, base},
		{"the engine made /etc/hosts", []string{"etc/hosts"}, nil, false, append([]string{"/etc/hosts"}, base...)},
		{"the image's /etc/hosts, changed", []string{"etc/hosts"}, []string{"etc/hosts"}, false, base},
		{"extra hosts: always mounted", nil, []string{"etc/hosts"}, true, append([]string{"/etc/hosts"}, base...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			st := State{Rootfs: Overlay{Upper: filepath.Join(dir, "upper"), Lower: []string{filepath.Join(dir, "lower")}}}
			for _, l := range []struct {
				dir   string
				files []string
			}{{st.Rootfs.Upper, tt.upper}, {st.Rootfs.Lower[0], tt.lower}} {
				for _, p := range l.files {
					os.MkdirAll(filepath.Join(l.dir, filepath.Dir(p)), 0o755)
					if err := os.WriteFile(filepath.Join(l.dir, p), nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			etc := map[string]string{hostnameFile: "h\n", resolvConfFile: "", hostsFile: ""}
			st.Mounts = rootfsPlan(dir, vols, etc, tt.ownHosts)
			want := append([]string(nil), tt.want...)
			slices.Sort(want)
			if diff := cmp.Diff(want, st.MountPoints()); diff != "" {
				t.Errorf("MountPoints (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMountPointsAreMounted runs a container with a volume over an image
// without /etc/hosts: MountPoints lists the volume's target and the
// engine's /etc/hosts, and each path it lists is a mount point in the
// container.
func TestMountPointsAreMounted(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	r := f.run(t, e, Spec{Volumes: []Volume{{Source: t.TempDir(), Target: "/vol"}},
		Process: Process{Args: []string{"cat", "/proc/self/mountinfo"}}}, "")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.out)
	}
	mounted := map[string]bool{}
	for _, l := range strings.Split(r.out, "\n") {
		if fs := strings.Fields(l); len(fs) > 4 {
			mounted[fs[4]] = true
		}
	}
	got := r.st.MountPoints()
	for _, p := range []string{"/vol", "/etc/hosts", "/proc", "/dev"} {
		if !slices.Contains(got, p) {
			t.Errorf("MountPoints %q lack %s", got, p)
		}
	}
	for _, p := range got {
		if !mounted[p] {
			t.Errorf("MountPoints lists %s, not a mount point in the container:\n%s", p, r.out)
		}
	}
}

// BenchmarkPauseUnpause is what --pause adds to a commit of a container
// running a shell and a sleep: a freeze, waited for, and a thaw.
func BenchmarkPauseUnpause(b *testing.B) {
	testutil.RequireTool(b, "busybox")
	f := newFixture(b)
	e := f.open(b)
	st, err := e.Create(Spec{Layers: f.layers, Process: Process{Args: []string{"sh", "-c", "while :; do sleep 1; done"}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Remove(st.ID, true) })
	if _, err := e.Start(st.ID, false); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := e.Pause(st.ID); err != nil {
			b.Fatal(err)
		}
		if err := e.Unpause(st.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPauseForkLoop pauses, again and again, a shell that runs a program
// in a loop: on v1 a freeze can catch the shell in vfork(2), waiting for a
// child frozen first, and stay FREEZING for good unless it is thawed and
// asked again (8 pauses in 20 failed here before it was).
func TestPauseForkLoop(t *testing.T) {
	testutil.RequireTool(t, "busybox")
	for name, opts := range freezerPaths(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			e := f.openPath(t, opts)
			// dash, as Debian's /bin/sh, runs a program with vfork(2);
			// busybox's sh forks.
			layer := hostProgramsLayer(t, filepath.Join(t.TempDir(), "dash"), "/bin/dash", "/bin/true")
			st, err := e.Create(Spec{Name: "forks", Layers: []string{layer}, Process: Process{Args: []string{"/bin/dash", "-c", "while :; do /bin/true; done"}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Remove(st.ID, true) })
			if _, err := e.Start(st.ID, false); err != nil {
				t.Fatal(err)
			}
			for i := range 20 {
				if err := e.Pause("forks"); err != nil {
					t.Fatalf("pause %d: %v", i+1, err)
				}
				if err := e.Unpause("forks"); err != nil {
					t.Fatalf("unpause %d: %v", i+1, err)
				}
			}
		})
	}
}

// hostProgramsLayer makes a layer at dir of the host's programs and the
// shared libraries ldd finds for them.
func hostProgramsLayer(t *testing.T, dir string, progs ...string) string {
	t.Helper()
	testutil.RequireTool(t, "ldd")
	out, err := exec.Command("ldd", progs...).Output()
	if err != nil {
		t.Fatalf("ldd %v: %v", progs, err)
	}
	files := slices.Clone(progs)
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") && !strings.HasSuffix(f, ":") {
			files = append(files, f)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			testutil.Unavailable(t, fmt.Sprintf("host program %s: %v", f, err))
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
