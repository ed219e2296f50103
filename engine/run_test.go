package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// TestIsolation runs one container per case and checks what it sees.
func TestIsolation(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	tests := []struct {
		name   string
		spec   Spec
		want   string
		code   int
		verify func(t *testing.T, r result)
	}{
		{name: "output and exit code", spec: sh("echo hi; exit 3"), want: "hi\n", code: 3},
		{name: "pid 1 is the command", spec: sh("echo $$; cat /proc/1/cmdline | tr '\\0' ' '"), want: "1\n/bin/sh -c echo $$; cat /proc/1/cmdline | tr '\\0' ' ' "},
		{name: "hostname", spec: Spec{Hostname: "box", Process: Process{Args: []string{"sh", "-c", "hostname; cat /etc/hostname"}}}, want: "box\nbox\n",
			verify: func(t *testing.T, r result) {
				// The root's mount point and the /etc files live in the
				// init's scratch tmpfs, not on the host's disk.
				ents, _ := os.ReadDir(r.st.Dir)
				for _, e := range ents {
					if n := e.Name(); n == scratchRoot || n == hostnameFile || n == resolvConfFile {
						t.Errorf("%s is in the container's directory on the host", n)
					}
				}
			}},
		{name: "environment is only the container's", spec: Spec{Hostname: "h", Process: Process{Args: []string{"env"}, Env: []string{"A=1"}}},
			want: "A=1\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nHOSTNAME=h\nHOME=/root\n"},
		{name: "working directory is made", spec: Spec{Process: Process{Args: []string{"sh", "-c", "pwd"}, Cwd: "/w/d"}}, want: "/w/d\n"},
		{name: "root is the overlay and every mount point is the plan's",
			spec: sh("awk '{print $5, $(NF-2)}' /proc/self/mountinfo"),
			verify: func(t *testing.T, r result) {
				lines := strings.Split(strings.TrimSpace(r.out), "\n")
				if lines[0] != "/ overlay" {
					t.Errorf("root mount %q, want an overlay", lines[0])
				}
				planned := map[string]bool{"/": true}
				for _, m := range r.st.Mounts {
					planned[m.Target] = true
				}
				for _, l := range lines {
					if mp, _, _ := strings.Cut(l, " "); !planned[mp] {
						t.Errorf("mount point %s is not in the plan", mp)
					}
				}
			}},
		{name: "host is unreachable", spec: sh("for p in /oldroot /work /tmp/T* /proc/1/root/work /proc/1/root/../work /proc/1/cwd/../../work; do test -e $p && echo reachable $p; done; ls /proc/1/root/.. | tr '\\n' ' '"),
			want: "bin dev etc proc root sys tmp "},
		{name: "/proc/sys is read-only", spec: sh("echo 1 > /proc/sys/kernel/ns_last_pid"), want: "/bin/sh: can't create /proc/sys/kernel/ns_last_pid: Read-only file system\n", code: 1},
		{name: "/sys is read-only", spec: sh("mkdir /sys/x"), want: "mkdir: can't create directory '/sys/x': Read-only file system\n", code: 1},
		{name: "masked /proc paths are empty", spec: sh("for p in " + strings.Join(maskedPaths, " ") + "; do if [ -d $p ]; then ls -A $p; elif [ -e $p ]; then cat $p; fi; done | wc -c"), want: "0\n"},
		{name: "/dev has only the allowed nodes", spec: sh("ls /dev | tr '\\n' ' '; stat -c '%t:%T' /dev/null /dev/tty; readlink /dev/ptmx"),
			want: "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero 1:3\n5:0\npts/ptmx\n"},
		{name: "loopback only, and up", spec: sh("ls /sys/class/net; cat /sys/class/net/lo/operstate"), want: "lo\nunknown\n"},
		{name: "docker's capabilities, no_new_privs off and seccomp", spec: sh("grep -E 'Cap|NoNewPrivs|Seccomp:' /proc/self/status"),
			want: "CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2\n"},
		{name: "fds above 2 are closed", spec: sh("ls /proc/self/fd | tr '\\n' ' '"), want: "0 1 2 3 "},
		{name: "upper layer shadows lower", spec: sh("cat /etc/shadowed"), want: "upper layer\n"},
		{name: "write to a lower file lands in upper", spec: sh("echo new > /etc/shadowed; cat /etc/shadowed"), want: "new\n",
			verify: func(t *testing.T, r result) {
				b, err := os.ReadFile(filepath.Join(r.st.Rootfs.Upper, "etc", "shadowed"))
				if err != nil || string(b) != "new\n" {
					t.Errorf("upper/etc/shadowed = %q, %v; want \"new\\n\"", b, err)
				}
				b, _ = os.ReadFile(filepath.Join(f.layers[1], "etc", "shadowed"))
				if string(b) != "upper layer\n" {
					t.Errorf("layer changed: %q", b)
				}
			}},
		{name: "rm of a lower file leaves a whiteout", spec: sh("rm /etc/lowerfile; ls /etc/lowerfile"), code: 1,
			want: "ls: /etc/lowerfile: No such file or directory\n",
			verify: func(t *testing.T, r result) {
				var st unix.Stat_t
				err := unix.Lstat(filepath.Join(r.st.Rootfs.Upper, "etc", "lowerfile"), &st)
				if err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
					t.Errorf("upper/etc/lowerfile: mode %o rdev %d, %v; want a 0:0 character device", st.Mode, st.Rdev, err)
				}
				if _, err := os.Stat(filepath.Join(f.layers[1], "etc", "lowerfile")); err != nil {
					t.Errorf("layer changed: %v", err)
				}
			}},
		{name: "memory hog is OOM-killed", spec: Spec{Resources: Resources{Memory: 16 << 20},
			Process: Process{Args: []string{"awk", "BEGIN { s = \"x\"; while (1) s = s s }"}}}, code: 137,
			verify: func(t *testing.T, r result) {
				if !r.st.OOMKilled {
					t.Errorf("state does not say OOM-killed: %+v", r.st)
				}
			}},
		{name: "fork bomb stops at the pids limit", spec: Spec{Resources: Resources{Pids: 10},
			Process: Process{Args: []string{"sh", "-c", "for i in $(seq 50); do sleep 30 & done; echo all forked"}}}, code: 2,
			verify: func(t *testing.T, r result) {
				if !strings.Contains(r.out, "can't fork") {
					t.Errorf("output %q does not say it could not fork", r.out)
				}
			}},
		{name: "cpu quota is set", spec: Spec{Resources: Resources{CPUs: 0.5}, Process: Process{Args: []string{"true"}}},
			verify: func(t *testing.T, r result) {
				want := []Setting{{filepath.Join(r.st.Cgroup.dirFor("cpu"), "cpu.cfs_period_us"), "100000"},
					{filepath.Join(r.st.Cgroup.dirFor("cpu"), "cpu.cfs_quota_us"), "50000"}}
				if r.st.Cgroup.Unified {
					want = []Setting{{filepath.Join(r.st.Cgroup.dirFor("cpu"), "cpu.max"), "50000 100000"}}
				}
				// The device cgroup's settings follow: not this test's.
				got := slices.DeleteFunc(slices.Clone(r.st.Settings), func(s Setting) bool { return strings.HasPrefix(filepath.Base(s.File), "devices.") })
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("settings (-want +got):\n%s", diff)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := f.run(t, e, tt.spec, "")
			if tt.want != "" {
				if diff := cmp.Diff(tt.want, r.out); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
			} else {
				t.Logf("output: %s", r.out)
			}
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d (output %q)", r.code, tt.code, r.out)
			}
			if tt.verify != nil {
				tt.verify(t, r)
			}
		})
	}
}

// TestWorkdirThroughSymlink runs with a working directory beneath a
// symbolic link of the image that leads to a directory not made yet: the
// link is followed inside the container's root and the directory made
// there, as docker does, never on the host.
func TestWorkdirThroughSymlink(t *testing.T) {
	f := newFixture(t)
	top := filepath.Join(filepath.Dir(f.layers[1]), "l2")
	if err := os.MkdirAll(top, 0o755); err != nil {
		t.Fatal(err)
	}
	// Absolute, as images have them: on the host it would lead to /data.
	if err := os.Symlink("/data/w", filepath.Join(top, "w")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../escape", filepath.Join(top, "up")); err != nil {
		t.Fatal(err)
	}
	f.layers = append(f.layers, top)
	e := f.open(t)
	for _, tc := range []struct{ cwd, want string }{
		{"/w/newdir", "/data/w/newdir\n"},
		{"/up/d", "/escape/d\n"},
	} {
		r := f.run(t, e, Spec{Process: Process{Args: []string{"sh", "-c", "cd -P . && pwd"}, Cwd: tc.cwd}}, "")
		if r.code != 0 || r.out != tc.want {
			t.Errorf("-w %s: exit %d, output %q; want %q", tc.cwd, r.code, r.out, tc.want)
		}
	}
	if _, err := os.Lstat("/data/w"); err == nil {
		t.Error("the working directory was made on the host")
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(f.root), "escape")); err == nil {
		t.Error("a relative link led the working directory out of the root")
	}
}
