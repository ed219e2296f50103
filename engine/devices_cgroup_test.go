package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// hostNodesScript makes nodes of host devices a container must not use
// (a hwrng, loop-control, fuse, tty1, loop0) and opens them, then opens
// the nodes of its /dev it may use: what issue 10 found open.
const hostNodesScript = `for n in 'hwrng c 10 183' 'loop-control c 10 237' 'fuse c 10 229' 'tty1 c 4 1' 'loop0 b 7 0'; do
	set -- $n
	busybox mknod /dev/$1 $2 $3 $4 && echo "mknod $1"
	(exec 3<>/dev/$1) 2>&1 && echo "open $1"
done
for d in null zero full random urandom ptmx tty; do (exec 3<>/dev/$d) 2>&1 && echo "open $d"; done`

// hostNodesDenied is hostNodesScript's output under docker's device rules:
// every mknod allowed (c *:* m, b *:* m), every host device refused, the
// container's own nodes opened (/dev/tty is allowed: ENXIO is its having
// no controlling terminal, not the cgroup).
const hostNodesDenied = `mknod hwrng
/bin/sh: can't create /dev/hwrng: Operation not permitted
mknod loop-control
/bin/sh: can't create /dev/loop-control: Operation not permitted
mknod fuse
/bin/sh: can't create /dev/fuse: Operation not permitted
mknod tty1
/bin/sh: can't create /dev/tty1: Operation not permitted
mknod loop0
/bin/sh: can't create /dev/loop0: Operation not permitted
open null
open zero
open full
open random
open urandom
open ptmx
/bin/sh: can't create /dev/tty: No such device or address
`

// devicePaths are engine options for each way this host can filter
// devices: "v1" with the devices controller, "bpf" with a program in a
// cgroup2 (pure v2's, or a hybrid host's empty one, the engine being
// shown a mount table without the v1 devices hierarchy).
func devicePaths(t testing.TB) map[string]func(root string) Options {
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
		paths["bpf"] = testOptions
	}
	if h.V1["devices"] != "" {
		paths["v1"] = testOptions
		var kept []string
		for _, l := range strings.Split(mi, "\n") {
			if !strings.HasSuffix(l, " - cgroup cgroup rw,devices") && !strings.Contains(l, " "+h.V1["devices"]+" ") {
				kept = append(kept, l)
			}
		}
		if hh, err := DetectCgroups(strings.Join(kept, "\n"), "/sys/fs/cgroup"); err == nil && hh.Hybrid != "" {
			paths["bpf"] = func(root string) Options {
				o := testOptions(root)
				o.Mountinfo = strings.Join(kept, "\n")
				return o
			}
		}
	}
	return paths
}

// openPath opens an engine on f with the options of a device path.
func (f fixture) openPath(t testing.TB, opts func(string) Options) *Engine {
	t.Helper()
	testutil.CheckMounts(t)
	e, err := Open(opts(f.root))
	if err != nil {
		t.Fatal(err)
	}
	checkCgroups(t, e.Cgroups())
	return e
}

// TestDeviceCgroup runs containers under the device cgroup, on each path
// this host has: host devices refused, the container's own allowed,
// --device letting one in with its permissions, exec under the same
// rules, a privileged container under none.
func TestDeviceCgroup(t *testing.T) {
	testutil.RequireTool(t, "busybox")
	for name, opts := range devicePaths(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			e := f.openPath(t, opts)
			t.Run("host devices refused", func(t *testing.T) {
				r := f.run(t, e, sh(hostNodesScript), "")
				if diff := cmp.Diff(hostNodesDenied, r.out); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
				if name == "bpf" && r.st.Cgroup.BPF == "" {
					t.Errorf("no device program's cgroup in %+v", r.st.Cgroup)
				}
			})
			t.Run("--device", func(t *testing.T) {
				devs := []Device{
					{Host: "/dev/loop-control", Path: "/dev/lc-r", Permissions: "r"},
					{Host: "/dev/loop-control", Path: "/dev/lc-w", Permissions: "w"},
					{Host: "/dev/loop-control", Path: "/dev/sub/lc", Permissions: "rwm"},
				}
				var want strings.Builder
				fi := hostNode(t, "/dev/loop-control")
				// A rule allows its device's accesses to every node of it:
				// r and w together, as on the host.
				want.WriteString(fi + "\nread /dev/lc-r\nwrite /dev/lc-r\n")
				want.WriteString(fi + "\nread /dev/lc-w\nwrite /dev/lc-w\n")
				want.WriteString(fi + "\nread /dev/sub/lc\nwrite /dev/sub/lc\n")
				script := `for d in /dev/lc-r /dev/lc-w /dev/sub/lc; do
	stat -c '%F %t:%T %a %u:%g' $d
	(exec 3<$d) 2>&1 && echo "read $d"
	(exec 3>$d) 2>&1 && echo "write $d"
done`
				r := f.run(t, e, Spec{Devices: devs, Process: Process{Args: []string{"/bin/sh", "-c", script}}}, "")
				if diff := cmp.Diff(want.String(), r.out); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
				// Alone, each permission is what it says.
				for _, tt := range []struct{ perm, want string }{
					{"r", "read\n/bin/sh: can't create /dev/lc: Operation not permitted\n"},
					{"w", "/bin/sh: can't open /dev/lc: Operation not permitted\nwrite\n"},
					{"rw", "read\nwrite\n"},
				} {
					r := f.run(t, e, Spec{Devices: []Device{{Host: "/dev/loop-control", Path: "/dev/lc", Permissions: tt.perm}},
						Process: Process{Args: []string{"/bin/sh", "-c", "(exec 3</dev/lc) 2>&1 && echo read; (exec 3>/dev/lc) 2>&1 && echo write"}}}, "")
					if diff := cmp.Diff(tt.want, r.out); diff != "" {
						t.Errorf("--device /dev/loop-control:/dev/lc:%s (-want +got):\n%s", tt.perm, diff)
					}
				}
			})
			t.Run("privileged uses every device", func(t *testing.T) {
				r := f.run(t, e, Spec{Privileged: true, Process: Process{Args: []string{"/bin/sh", "-c",
					"busybox mknod /dev/lc c 10 237 && (exec 3<>/dev/lc) 2>&1 && echo open"}}}, "")
				if r.out != "open\n" {
					t.Errorf("output %q, want open", r.out)
				}
			})
			t.Run("exec", func(t *testing.T) { testDeviceExec(t, f, e, name) })
		})
	}
}

// hostNode is stat's line for a host node, as hostNodesScript prints it.
func hostNode(t *testing.T, p string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		testutil.Unavailable(t, err.Error())
	}
	return fmt.Sprintf("character special file %x:%x %o %d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev), st.Mode&0o7777, st.Uid, st.Gid)
}

// testDeviceExec checks the rules of a running container: in its cgroup
// (devices.list on v1, the program attached on cgroup v2) and on a
// process exec'd into it.
func testDeviceExec(t *testing.T, f fixture, e *Engine, path string) {
	st, err := e.Create(Spec{Layers: f.layers, Process: Process{Args: []string{"sleep", "1000"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	if _, err := e.Start(st.ID, false); err != nil {
		t.Fatal(err)
	}
	if path == "v1" {
		d, _ := st.Cgroup.v1Dir("devices")
		b, err := os.ReadFile(filepath.Join(d, "devices.list"))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Fields(strings.ReplaceAll(string(b), " ", "_"))
		slices.Sort(got)
		want := []string{"b_*:*_m", "c_*:*_m", "c_136:*_rwm", "c_1:3_rwm", "c_1:5_rwm", "c_1:7_rwm", "c_1:8_rwm", "c_1:9_rwm", "c_5:0_rwm", "c_5:1_rwm", "c_5:2_rwm"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("devices.list (-want +got):\n%s", diff)
		}
	} else {
		if n := attachedDevicePrograms(t, st.Cgroup.BPF); n != 1 {
			t.Errorf("%d device programs attached to %s, want 1", n, st.Cgroup.BPF)
		}
	}
	var out syncBuffer
	code, err := e.Exec(st.ID, Process{Args: []string{"/bin/sh", "-c", hostNodesScript}}, Stdio{Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hostNodesDenied, out.String()); diff != "" || code != 1 {
		t.Errorf("exec: exit %d, output (-want +got):\n%s", code, diff)
	}
}

// attachedDevicePrograms counts the device programs attached to dir.
func attachedDevicePrograms(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	res, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Programs)
}

// TestDeviceCgroupLikeOCIRuntimes runs hostNodesScript under runc's and
// crun's default spec (with CAP_MKNOD added, which docker's set has and
// theirs lacks), where they are installed, and expects what a container
// of ours gives on each path.
func TestDeviceCgroupLikeOCIRuntimes(t *testing.T) {
	testutil.RequireTool(t, "busybox")
	paths := devicePaths(t)
	for _, rt := range []string{"runc", "crun"} {
		t.Run(rt, func(t *testing.T) {
			if _, err := exec.LookPath(rt); err != nil {
				t.Skipf("%s is not installed", rt)
			}
			theirs := runOCI(t, rt, hostNodesScript)
			if diff := cmp.Diff(hostNodesDenied, theirs); diff != "" {
				t.Errorf("%s (-ours +theirs):\n%s", rt, diff)
			}
			for name, opts := range paths {
				f := newFixture(t)
				e := f.openPath(t, opts)
				ours := f.run(t, e, sh(hostNodesScript), "").out
				if diff := cmp.Diff(theirs, ours); diff != "" {
					t.Errorf("%s path (-%s +ours):\n%s", name, rt, diff)
				}
			}
		})
	}
}

// runOCI runs script in a busybox container of runtime rt's default spec
// and returns its output.
func runOCI(t *testing.T, rt, script string) string {
	t.Helper()
	bundle := t.TempDir()
	busyboxLayer(t, filepath.Join(bundle, "rootfs"))
	if out, err := exec.Command(rt, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		t.Fatalf("%s spec: %v: %s", rt, err, out)
	}
	cfgPath := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("minidocker-test-%s-%d", rt, os.Getpid())
	proc := cfg["process"].(map[string]any)
	proc["args"], proc["terminal"] = []string{"/bin/sh", "-c", script}, false
	caps := proc["capabilities"].(map[string]any)
	for k, v := range caps {
		caps[k] = append(v.([]any), "CAP_MKNOD")
	}
	cgroupsPath := "/" + id
	cfg["linux"].(map[string]any)["cgroupsPath"] = cgroupsPath
	if b, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command(rt, "delete", "--force", id).Run()
		// Their cgroups are theirs to remove; check they did.
		ms, _ := filepath.Glob("/sys/fs/cgroup/*" + cgroupsPath)
		if m2, _ := filepath.Glob("/sys/fs/cgroup" + cgroupsPath); len(m2) > 0 {
			ms = append(ms, m2...)
		}
		if len(ms) > 0 {
			t.Errorf("%s left cgroups %v", rt, ms)
		}
	})
	// Debian's crun refuses a hybrid host's cgroup2 beside v1
	// controllers: it runs in a mount namespace of its own without it, as
	// scripts/run-figures.sh runs it.
	cmd := exec.CommandContext(t.Context(), "unshare", "-m", "sh", "-c",
		`if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi; exec "$@"`,
		"sh", rt, "run", "--bundle", bundle, id)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%s run: %v: %s", rt, err, out)
	}
	return string(out)
}

// TestConsole: with a tty, /dev/console is the container's terminal, as
// docker makes it; without, there is none.
func TestConsole(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	script := "if [ -e /dev/console ]; then stat -c '%t:%T %F' /dev/console; tty; stat -c '%t:%T' $(tty); echo hi > /dev/console; else echo none; fi"
	r := f.run(t, e, Spec{Process: Process{Args: []string{"/bin/sh", "-c", script}, Tty: true}}, "")
	if want := "88:0 character special file\r\n/dev/pts/0\r\n88:0\r\nhi\r\n"; r.out != want {
		t.Errorf("with a tty: %q, want %q", r.out, want)
	}
	r = f.run(t, e, sh(script), "")
	if r.out != "none\n" {
		t.Errorf("without a tty: %q, want none", r.out)
	}
}

// BenchmarkRunTrueDevicePaths is BenchmarkRunTrue on each device path:
// v1's devices.allow writes, or the program loaded and attached.
func BenchmarkRunTrueDevicePaths(b *testing.B) {
	for name, opts := range devicePaths(b) {
		b.Run(name, func(b *testing.B) {
			f := newFixture(b)
			runTrue(b, f, f.openPath(b, opts))
		})
	}
}

// BenchmarkDeviceCgroup is the device cgroup's own cost in a start, on
// each path: v1's settings written to a fresh cgroup, or the program
// built, loaded and attached to one (the cgroup's mkdir and rmdir not
// counted).
func BenchmarkDeviceCgroup(b *testing.B) {
	for name, opts := range devicePaths(b) {
		b.Run(name, func(b *testing.B) {
			e, err := Open(opts(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			spec := Spec{Process: Process{Args: []string{"true"}}}
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				c := e.Cgroups().Cgroup(fmt.Sprintf("bench-%d", i))
				if err := c.Create(nil); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if name == "v1" {
					err = c.Apply(c.deviceSettings(deviceRules(spec)))
				} else {
					var p *devicePolicy
					if p, err = loadDevicePolicy(c, spec); err == nil {
						err = p.attach(c.BPF)
					}
				}
				b.StopTimer()
				if err = errors.Join(err, c.Remove()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// TestExecTtyMakesNoConsole: an exec's terminal is not the container's
// console.
func TestExecTtyMakesNoConsole(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	st, err := e.Create(Spec{Layers: f.layers, Process: Process{Args: []string{"sleep", "1000"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	if _, err := e.Start(st.ID, false); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	if _, err := e.Exec(st.ID, Process{Args: []string{"sh", "-c", "test -e /dev/console && echo console || echo none"}, Tty: true}, Stdio{Stdout: &out, Stderr: &out}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "none\r\n" {
		t.Errorf("exec -t: %q, want none", out.String())
	}
}
