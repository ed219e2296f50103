package cli

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"minidocker/engine"
	"minidocker/images"
)

// waitExec waits until the shell command cmd succeeds in the container.
func waitExec(t *testing.T, root, ctr, cmd string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, _, _ := cli(t, root, "exec", ctr, "sh", "-c", cmd); code == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s never succeeded", ctr, cmd)
		}
	}
}

// frozen reports whether the kernel has the cgroup frozen, by whichever
// freezer it has: v1's freezer.state or cgroup v2's cgroup.events.
func frozen(cg engine.Cgroup) bool {
	for _, d := range append(slices.Clone(cg.Dirs), cg.BPF) {
		if b, err := os.ReadFile(filepath.Join(d, "freezer.state")); err == nil && strings.TrimSpace(string(b)) == "FROZEN" {
			return true
		}
		if b, err := os.ReadFile(filepath.Join(d, "cgroup.events")); err == nil && strings.Contains(string(b), "frozen 1") {
			return true
		}
	}
	return false
}

// watchFrozen watches the cgroup until the returned function is called,
// which reports whether it was ever seen frozen meanwhile.
func watchFrozen(cg engine.Cgroup) func() bool {
	done := make(chan struct{})
	saw := make(chan bool)
	go func() {
		seen := false
		for {
			select {
			case <-done:
				saw <- seen
				return
			default:
			}
			seen = seen || frozen(cg)
			time.Sleep(time.Millisecond)
		}
	}()
	return func() bool { close(done); return <-saw }
}

// TestCommitRunning commits a running container that wrote 10,000 files
// and goes on appending to one: frozen while its upper directory is read
// (docker's --pause=true), never with --pause=false, running after; the
// layer holds every file. A container paused before is left paused.
func TestCommitRunning(t *testing.T) {
	root := commitRoot(t)
	removeAtEnd(t, root, "busy", "calm")
	// The loop forks nothing: a shell that vforks a sleep can be caught
	// by the cgroup v1 freezer with its child frozen before exec and
	// itself waiting for it, never frozen, and the pause fails (see the
	// report of this test's branch). bash's read -t on a fifo nobody
	// writes waits without a child.
	mdOK(t, root, "run", "-d", "--name", "busy", "base", "bash", "-c", `mkdir /many; cd /many
i=0; while [ $i -lt 10000 ]; do i=$((i+1)); echo $i > f$i; done
busybox mkfifo /dev/shm/wait; exec 9<>/dev/shm/wait
while :; do echo x >> /log; read -t 0.01 -u 9; done`)
	// A small container for the paused one: every file a commit writes
	// is a file to unlink at the end, slow on a busy disk.
	mdOK(t, root, "run", "-d", "--name", "calm", "base", "sh", "-c", "echo c > /calm; exec sleep 600")
	waitExec(t, root, "busy", "test -s /log")
	waitExec(t, root, "calm", "test -s /calm")
	e, err := engine.Open(engine.Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ctr string
		flags     []string
		paused    bool // before the commit, and so after it
		frozen    bool // seen frozen during the commit
	}{
		{"pause", "busy", nil, false, true},
		{"pause=false", "busy", []string{"--pause=false"}, false, false},
		{"paused before", "calm", nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := e.Get(tc.ctr)
			if err != nil {
				t.Fatal(err)
			}
			if tc.paused {
				mdOK(t, root, "pause", tc.ctr)
				defer cli(t, root, "unpause", tc.ctr)
			}
			stop := watchFrozen(st.Cgroup)
			mdOK(t, root, append(append([]string{"commit"}, tc.flags...), tc.ctr, "committed:1")...)
			if saw := stop(); saw != tc.frozen {
				t.Errorf("frozen during the commit: %v, want %v", saw, tc.frozen)
			}
			if frozen(st.Cgroup) != tc.paused {
				t.Fatalf("frozen after the commit: %v, want %v", !tc.paused, tc.paused)
			}
			var out []struct {
				Status string `json:"status"`
				Paused bool   `json:"paused"`
			}
			if err := json.Unmarshal([]byte(mdOK(t, root, "inspect", tc.ctr)), &out); err != nil || len(out) != 1 ||
				out[0].Status != "running" || out[0].Paused != tc.paused {
				t.Errorf("inspect after the commit: %+v (%v), want running, paused %v", out, err, tc.paused)
			}
			if tc.ctr == "busy" {
				checkGrows(t, filepath.Join(st.Rootfs.Upper, "log"))
				checkManyFiles(t, root, "committed:1")
			}
		})
	}
}

// checkGrows checks that the file grows: the container writing it runs.
func checkGrows(t *testing.T, p string) {
	t.Helper()
	size := func() int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	was := size()
	for deadline := time.Now().Add(5 * time.Second); size() == was; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s stays at %d bytes: the container does not run", p, was)
		}
	}
}

// checkManyFiles counts the files of /many in the image's top layer, as
// stored: 10,000, each holding its number.
func checkManyFiles(t *testing.T, root, name string) {
	t.Helper()
	s, err := images.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.OpenBlob(img.Manifest.Layers[len(img.Manifest.Layers)-1].Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	n := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		num, ok := strings.CutPrefix(hdr.Name, "many/f")
		if !ok || hdr.Typeflag != tar.TypeReg {
			continue
		}
		n++
		if b, err := io.ReadAll(tr); err != nil || string(b) != num+"\n" {
			t.Fatalf("%s holds %q (%v), want %q", hdr.Name, b, err, num+"\n")
		}
	}
	if n != 10000 {
		t.Errorf("the layer holds %d files in /many, want 10000", n)
	}
}

// TestCommitErrors checks the commits that fail: each says why in one
// line, with docker's exit code, and leaves the store as it was and the
// container running, not paused. The container holds a file named like a
// whiteout, which no layer can hold: that commit fails halfway through
// writing the layer.
func TestCommitErrors(t *testing.T) {
	root := commitRoot(t)
	removeAtEnd(t, root, "errc")
	mdOK(t, root, "run", "-d", "--name", "errc", "base", "sh", "-c", "echo x > /kept; touch /.wh.x; exec sleep 60")
	waitExec(t, root, "errc", "test -e /.wh.x")
	before := storeState(t, root)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"nosuch"}, 1, "container nosuch: no such container"},
		{[]string{"errc", "Bad Name"}, 1, `image name "Bad Name"`},
		{[]string{"errc", "ok:1"}, 1, `entry "/.wh.x": name spelled like a whiteout`},
		{[]string{"-c", "RUN true", "errc", "ok:1"}, 125, `--change "RUN true": RUN cannot be a change`},
		{[]string{"-c", "FROB x", "errc", "ok:1"}, 125, "unknown instruction: FROB"},
		{[]string{"-c", "ENV", "errc", "ok:1"}, 125, "ENV requires at least one argument"},
		{[]string{"--compression", "lz4", "errc", "ok:1"}, 125, `--compression "lz4": want gzip or zstd`},
		{[]string{"--timestamp", "-1", "errc", "ok:1"}, 125, "--timestamp must not be negative"},
		{nil, 125, "want CONTAINER and an optional NAME[:TAG]"},
		{[]string{"errc", "ok:1", "extra"}, 125, "want CONTAINER and an optional NAME[:TAG]"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := cli(t, root, append([]string{"commit"}, tc.args...)...)
			if code != tc.code || stdout != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, stdout, tc.code)
			}
			if !strings.HasPrefix(stderr, "minidocker: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q: want one line naming %q", stderr, tc.msg)
			}
			if after := storeState(t, root); after != before {
				t.Errorf("the store changed:\n%s\nwas\n%s", after, before)
			}
			var out []struct {
				Status string `json:"status"`
				Paused bool   `json:"paused"`
			}
			if err := json.Unmarshal([]byte(mdOK(t, root, "inspect", "errc")), &out); err != nil || len(out) != 1 ||
				out[0].Status != "running" || out[0].Paused {
				t.Errorf("inspect after: %+v (%v), want running, not paused", out, err)
			}
		})
	}
}
