package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

func TestRootfsPlan(t *testing.T) {
	etc := map[string]string{"hostname": "box\n", "resolv.conf": "nameserver 192.0.2.1\n", "hosts": "127.0.0.1\tlocalhost\n"}
	plan := rootfsPlan("/c", []Volume{{Source: "/srv/data", Target: "/data", ReadOnly: true}, {Source: "/etc/hosts", Target: "/etc/hosts", File: true}}, etc, false)
	var targets []string
	for _, m := range plan {
		targets = append(targets, m.Target)
	}
	want := []string{"/proc", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys",
		"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/acpi", "/sys/firmware",
		"/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/etc/hostname", "/etc/resolv.conf", "/data", "/etc/hosts"}
	if diff := cmp.Diff(want, targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	tests := []struct {
		target string
		want   Mount
	}{
		{"/proc", Mount{Source: "proc", Target: "/proc", FSType: "proc", Flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV}},
		{"/proc/sys", Mount{Target: "/proc/sys", Flags: unix.MS_BIND | unix.MS_REC, ReadOnly: true, Optional: true}},
		{"/sys", Mount{Source: "sysfs", Target: "/sys", FSType: "sysfs", Flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY}},
		{"/proc/kcore", Mount{Target: "/proc/kcore", Mask: true, Optional: true}},
		{"/dev/pts", Mount{Source: "devpts", Target: "/dev/pts", FSType: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"}},
		{"/data", Mount{Source: "/srv/data", Target: "/data", Flags: unix.MS_BIND | unix.MS_REC, ReadOnly: true}},
		{"/etc/hostname", Mount{Source: "/c/hostname", Target: "/etc/hostname", Flags: unix.MS_BIND, File: true, Content: "box\n"}},
		{"/etc/resolv.conf", Mount{Source: "/c/resolv.conf", Target: "/etc/resolv.conf", Flags: unix.MS_BIND, File: true, Content: "nameserver 192.0.2.1\n"}},
		{"/etc/hosts", Mount{Source: "/etc/hosts", Target: "/etc/hosts", Flags: unix.MS_BIND | unix.MS_REC, File: true}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			for _, m := range plan {
				if m.Target == tt.target {
					if diff := cmp.Diff(tt.want, m); diff != "" {
						t.Errorf("(-want +got):\n%s", diff)
					}
					return
				}
			}
			t.Errorf("no mount on %s", tt.target)
		})
	}
}

const hybridMountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`

const comountedMountinfo = `31 23 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw shared:10 - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw shared:11 - cgroup cgroup rw,pids`

const v2Mountinfo = `30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate`

func TestDetectCgroups(t *testing.T) {
	tests := []struct {
		name      string
		mountinfo string
		root      string
		want      Hierarchies
		cgroup    Cgroup
		settings  []Setting
		wantErr   bool
	}{
		{name: "hybrid", mountinfo: hybridMountinfo, root: "/sys/fs/cgroup",
			want: Hierarchies{V1: map[string]string{"cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct",
				"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids", "devices": "/sys/fs/cgroup/devices"}},
			cgroup: Cgroup{Dirs: []string{"/sys/fs/cgroup/memory/minidocker/c1", "/sys/fs/cgroup/cpu/minidocker/c1",
				"/sys/fs/cgroup/cpuacct/minidocker/c1", "/sys/fs/cgroup/pids/minidocker/c1", "/sys/fs/cgroup/devices/minidocker/c1"}},
			settings: []Setting{{"/sys/fs/cgroup/memory/minidocker/c1/memory.limit_in_bytes", "268435456"},
				{"/sys/fs/cgroup/cpu/minidocker/c1/cpu.cfs_period_us", "100000"}, {"/sys/fs/cgroup/cpu/minidocker/c1/cpu.cfs_quota_us", "50000"},
				{"/sys/fs/cgroup/pids/minidocker/c1/pids.max", "100"}}},
		{name: "hybrid without v1 devices: the device program in its cgroup2", root: "/sys/fs/cgroup",
			mountinfo: strings.ReplaceAll(hybridMountinfo, "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n", ""),
			want: Hierarchies{V1: map[string]string{"cpu": "/sys/fs/cgroup/cpu", "cpuacct": "/sys/fs/cgroup/cpuacct",
				"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"}, Hybrid: "/sys/fs/cgroup/unified"},
			cgroup: Cgroup{Dirs: []string{"/sys/fs/cgroup/memory/minidocker/c1", "/sys/fs/cgroup/cpu/minidocker/c1",
				"/sys/fs/cgroup/cpuacct/minidocker/c1", "/sys/fs/cgroup/pids/minidocker/c1", "/sys/fs/cgroup/unified/minidocker/c1"},
				BPF: "/sys/fs/cgroup/unified/minidocker/c1"},
			settings: []Setting{{"/sys/fs/cgroup/memory/minidocker/c1/memory.limit_in_bytes", "268435456"},
				{"/sys/fs/cgroup/cpu/minidocker/c1/cpu.cfs_period_us", "100000"}, {"/sys/fs/cgroup/cpu/minidocker/c1/cpu.cfs_quota_us", "50000"},
				{"/sys/fs/cgroup/pids/minidocker/c1/pids.max", "100"}}},
		{name: "v1 with cpu and cpuacct together", mountinfo: comountedMountinfo, root: "/sys/fs/cgroup",
			want: Hierarchies{V1: map[string]string{"cpu": "/sys/fs/cgroup/cpu,cpuacct", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct",
				"memory": "/sys/fs/cgroup/memory", "pids": "/sys/fs/cgroup/pids"}},
			cgroup: Cgroup{Dirs: []string{"/sys/fs/cgroup/memory/minidocker/c1", "/sys/fs/cgroup/cpu,cpuacct/minidocker/c1", "/sys/fs/cgroup/pids/minidocker/c1"}},
			settings: []Setting{{"/sys/fs/cgroup/memory/minidocker/c1/memory.limit_in_bytes", "268435456"},
				{"/sys/fs/cgroup/cpu,cpuacct/minidocker/c1/cpu.cfs_period_us", "100000"}, {"/sys/fs/cgroup/cpu,cpuacct/minidocker/c1/cpu.cfs_quota_us", "50000"},
				{"/sys/fs/cgroup/pids/minidocker/c1/pids.max", "100"}}},
		{name: "v2", mountinfo: v2Mountinfo, root: "/sys/fs/cgroup",
			want:   Hierarchies{Unified: "/sys/fs/cgroup"},
			cgroup: Cgroup{Dirs: []string{"/sys/fs/cgroup/minidocker/c1"}, Unified: true, BPF: "/sys/fs/cgroup/minidocker/c1"},
			settings: []Setting{{"/sys/fs/cgroup/minidocker/c1/memory.max", "268435456"},
				{"/sys/fs/cgroup/minidocker/c1/cpu.max", "50000 100000"}, {"/sys/fs/cgroup/minidocker/c1/pids.max", "100"}}},
		{name: "other root", mountinfo: hybridMountinfo, root: "/elsewhere", wantErr: true},
		{name: "hybrid's empty cgroup2 alone", mountinfo: `41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw`, root: "/sys/fs/cgroup", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := DetectCgroups(tt.mountinfo, tt.root)
			if tt.wantErr {
				if err == nil {
					t.Errorf("got %+v, want an error", h)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, h); diff != "" {
				t.Errorf("hierarchies (-want +got):\n%s", diff)
			}
			c := h.Cgroup("c1")
			if diff := cmp.Diff(tt.cgroup, c); diff != "" {
				t.Errorf("cgroup (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.settings, c.Settings(Resources{Memory: 256 << 20, CPUs: 0.5, Pids: 100})); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookPathErrors(t *testing.T) {
	tests := []struct {
		cmd, path string
		code      int
	}{
		{"nosuch", "/nonexistent:/also", 127},
		{"/nonexistent/x", "", 127},
		{"/etc", "", 126},
		{"passwd", "/etc", 126},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			_, err := lookPath(tt.cmd, tt.path)
			se, ok := err.(*StartError)
			if !ok || se.Code != tt.code {
				t.Errorf("got %v, want code %d", err, tt.code)
			}
		})
	}
}

// TestSpreadSubdirs checks that the containers' directory is marked as the
// top of unrelated trees where the file system knows the flag (ext4 does).
func TestSpreadSubdirs(t *testing.T) {
	e, err := Open(Options{Root: t.TempDir(), Mountinfo: "36 25 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw"})
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(e.dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		testutil.Unavailable(t, fmt.Sprintf("the file system of %s has no inode flags: %v", e.dir, err))
	}
	if flags&0x00020000 == 0 {
		t.Errorf("flags of %s are %#x, without FS_TOPDIR_FL", e.dir, flags)
	}
}
