package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestVolumes(t *testing.T) {
	f := newFixture(t)
	// A symbolic link in the image pointing at a host directory: a volume
	// under it must land inside the rootfs.
	host := t.TempDir()
	if err := os.Symlink(host, filepath.Join(f.layers[1], "escape")); err != nil {
		t.Fatal(err)
	}
	rw, ro := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(ro, "keep"), []byte("ro\n"), 0o644)
	file := filepath.Join(t.TempDir(), "one")
	os.WriteFile(file, []byte("file volume\n"), 0o644)
	e := f.open(t)
	r := f.run(t, e, Spec{
		Volumes: []Volume{{Source: rw, Target: "/data"}, {Source: ro, Target: "/ro", ReadOnly: true},
			{Source: file, Target: "/etc/one"}, {Source: rw, Target: "/escape/sub"}},
		Process: Process{Args: []string{"sh", "-c",
			"exec 2>&1; echo written > /data/new; cat /ro/keep; echo x > /ro/new; rm /ro/keep; cat /etc/one; ls /escape/sub"}},
	}, "")
	want := "ro\nsh: can't create /ro/new: Read-only file system\nrm: can't remove '/ro/keep': Read-only file system\nfile volume\nnew\n"
	if diff := cmp.Diff(want, r.out); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if b, err := os.ReadFile(filepath.Join(rw, "new")); err != nil || string(b) != "written\n" {
		t.Errorf("rw volume: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(host, "sub")); err == nil {
		t.Errorf("a volume under an image symlink made %s on the host", filepath.Join(host, "sub"))
	}
	if _, err := e.Remove(r.st.ID, false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(rw, "new"), filepath.Join(ro, "keep"), file} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after rm, volume file: %v", err)
		}
	}
}

// TestReadonlyVolumeWithSubmount checks that :ro reaches mounts below the
// volume's host directory, which a plain remount would leave writable.
func TestReadonlyVolumeWithSubmount(t *testing.T) {
	f := newFixture(t)
	e := f.open(t) // checks the mount table at the end: registered before the submount
	src := t.TempDir()
	sub := filepath.Join(src, "sub")
	os.Mkdir(sub, 0o755)
	if err := mount("tmpfs", sub, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmount(sub, 0) })
	r := f.run(t, e, Spec{Volumes: []Volume{{Source: src, Target: "/ro", ReadOnly: true}},
		Process: Process{Args: []string{"sh", "-c", "touch /ro/x /ro/sub/x 2>&1; awk '$5 ~ \"^/ro\" && $6 ~ \"^ro\"' /proc/self/mountinfo | wc -l"}}}, "")
	want := "touch: /ro/x: Read-only file system\ntouch: /ro/sub/x: Read-only file system\n2\n"
	if diff := cmp.Diff(want, r.out); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// listing describes every entry under dir: path, mode, owner, size.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %o %d:%d %d\n", strings.TrimPrefix(p, dir), st.Mode, st.Uid, st.Gid, st.Size)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// parsed is a volume as -v, --mount or --tmpfs gives it.
func parsed(t *testing.T, parse func(string) (Volume, error), s string) Volume {
	t.Helper()
	v, err := parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDevVolume checks that a directory bound at /dev is shown as it is
// and never written to: /dev's nodes go in the container's own tmpfs only.
// runc does the same: its /dev nodes are made for a tmpfs at /dev alone.
func TestDevVolume(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mine"), []byte("x"), 0o600)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	before := listing(t, dir)
	r := f.run(t, e, Spec{Volumes: []Volume{parsed(t, ParseVolume, dir+":/dev")}, Process: Process{Args: []string{"sh", "-c", "ls /dev"}}}, "")
	if diff := cmp.Diff("mine\nsub\n", r.out); diff != "" {
		t.Errorf("the container's /dev (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, listing(t, dir)); diff != "" {
		t.Errorf("the host directory changed (-before +after):\n%s", diff)
	}
}

// TestHostDevVolume runs docker's -v /dev:/dev: the host's /dev, as it
// is, and nothing made in it.
func TestHostDevVolume(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	var before unix.Stat_t
	unix.Stat("/dev", &before)
	r := f.run(t, e, Spec{Volumes: []Volume{parsed(t, ParseVolume, "/dev:/dev")},
		Process: Process{Args: []string{"sh", "-c", "test -c /dev/null && test -e /dev/" + hostOnlyDev(t) + " && echo host"}}}, "")
	if r.out != "host\n" || r.code != 0 {
		t.Errorf("got %q, exit %d; want the host's /dev", r.out, r.code)
	}
	var after unix.Stat_t
	unix.Stat("/dev", &after)
	if after.Mtim != before.Mtim {
		t.Error("the host's /dev was written to")
	}
}

// hostOnlyDev names an entry of the host's /dev that a container's own
// /dev lacks.
func hostOnlyDev(t *testing.T) string {
	ents, _ := os.ReadDir("/dev")
	for _, e := range ents {
		if !slices.ContainsFunc(devices, func(d device) bool { return filepath.Base(d.Path) == e.Name() }) &&
			!slices.Contains([]string{"pts", "shm", "mqueue", "fd", "stdin", "stdout", "stderr", "ptmx", "console"}, e.Name()) {
			return e.Name()
		}
	}
	t.Skip("the host's /dev has nothing a container's lacks")
	return ""
}

// TestVolumePropagation checks that rslave and rshared reach the mount
// (the shared:/master: fields of mountinfo) and that a mount made on the
// host under an rslave volume's source appears in the running container.
func TestVolumePropagation(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	src := t.TempDir()
	// The source a mount point of its own, shared: a peer group for the
	// container's copies to be slaves of.
	if err := mount(src, src, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unmount(src, unix.MNT_DETACH) })
	if err := mount("", src, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(src, "sub")
	os.Mkdir(sub, 0o755)
	done := make(chan error, 1)
	go func() {
		// Once the container is up, mount a tmpfs under the source.
		ready := filepath.Join(src, "ready")
		for i := 0; i < 1000; i++ {
			if _, err := os.Stat(ready); err == nil {
				err := mount("tmpfs", sub, "tmpfs", 0, "size=1m")
				if err == nil {
					err = os.WriteFile(filepath.Join(sub, "marker"), []byte("from the host\n"), 0o644)
				}
				done <- err
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		done <- errors.New("the container never got ready")
	}()
	t.Cleanup(func() { unmount(sub, unix.MNT_DETACH) })
	script := `awk '$5=="/slave" || $5=="/shared" {s=$5; for (i=7; $i!="-"; i++) { f=$i; sub(/:.*/, ":", f); s=s" "f }; print s}' /proc/self/mountinfo
touch /slave/ready
for i in $(seq 200); do test -e /slave/sub/marker && break; sleep 0.05; done
cat /slave/sub/marker`
	r := f.run(t, e, Spec{Volumes: []Volume{parsed(t, ParseVolume, src+":/slave:rslave"), parsed(t, ParseVolume, src+":/shared:rshared")},
		Process: Process{Args: []string{"sh", "-c", script}}}, "")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := "/slave master:\n/shared shared: master:\nfrom the host\n"
	if diff := cmp.Diff(want, r.out); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestTmpfsVolume checks that --tmpfs and --mount type=tmpfs mount a tmpfs
// with their options and docker's defaults.
func TestTmpfsVolume(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	r := f.run(t, e, Spec{Volumes: []Volume{parsed(t, ParseTmpfs, "/run:size=1m,mode=1770,exec"), parsed(t, ParseMount, "type=tmpfs,dst=/ro,tmpfs-size=2m,readonly")},
		Process: Process{Args: []string{"sh", "-c", `stat -c %a /run; awk '$5=="/run" || $5=="/ro" {print $5, $6, $9, $NF}' /proc/self/mountinfo; touch /ro/x 2>&1`}}}, "")
	want := "1770\n/run rw,nosuid,nodev,relatime tmpfs rw,size=1024k,mode=1770\n/ro ro,nosuid,nodev,noexec,relatime tmpfs ro,size=2048k\ntouch: /ro/x: Read-only file system\n"
	if diff := cmp.Diff(want, r.out); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestNamedVolume checks docker's named volume: seeded from the image on
// first use with owners and modes kept, kept across containers, not
// removable while a container (even a stopped one) has it, and nocopy.
func TestNamedVolume(t *testing.T) {
	f := newFixture(t)
	data := filepath.Join(f.layers[1], "data")
	os.MkdirAll(filepath.Join(data, "dir"), 0o750)
	os.Chmod(data, 0o751)
	os.WriteFile(filepath.Join(data, "seed"), []byte("from the image\n"), 0o640)
	os.Chown(filepath.Join(data, "seed"), 1000, 1001)
	os.Symlink("/etc/passwd", filepath.Join(data, "link"))
	e := f.open(t)
	r := f.run(t, e, Spec{Volumes: []Volume{parsed(t, ParseVolume, "web:/data")},
		Process: Process{Args: []string{"sh", "-c", "cat /data/seed; echo kept > /data/new"}}}, "")
	if r.out != "from the image\n" {
		t.Errorf("first container: %q", r.out)
	}
	if _, err := e.Remove(r.st.ID, false); err != nil {
		t.Fatal(err)
	}
	v, err := e.Volume("web")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(f.root, "volumes", "web", "_data"); v.Mountpoint != want {
		t.Errorf("mount point %s, want %s", v.Mountpoint, want)
	}
	got := listing(t, v.Mountpoint)
	want := " 40751 0:0 4096\n/dir 40750 0:0 4096\n/link 120777 0:0 11\n/new 100644 0:0 5\n/seed 100640 1000:1001 15\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the volume's files (-want +got):\n%s", diff)
	}
	// A second container sees what the first wrote; the image is not
	// copied again.
	os.WriteFile(filepath.Join(data, "seed"), []byte("changed image\n"), 0o640)
	st, err := e.Create(Spec{Layers: f.layers, Volumes: []Volume{parsed(t, ParseMount, "src=web,dst=/data")}, Process: Process{Args: []string{"cat", "/data/new", "/data/seed"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	err = e.RemoveVolume("web", false)
	if !errors.Is(err, ErrVolumeInUse) || err.Error() != "remove web: volume is in use - ["+st.ID+"]" {
		t.Errorf("removing a volume in use: %v", err)
	}
	sess, err := e.Start(st.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sess.Wait(&out, &out)
	sess.Close()
	if out.String() != "kept\nfrom the image\n" {
		t.Errorf("second container: %q", out.String())
	}
	if _, err := e.Remove(st.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveVolume("web", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(f.root, "volumes", "web")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after volume rm: %v", err)
	}
	r = f.run(t, e, Spec{Volumes: []Volume{parsed(t, ParseVolume, "bare:/data:nocopy")}, Process: Process{Args: []string{"ls", "-a", "/data"}}}, "")
	if r.out != ".\n..\n" {
		t.Errorf("nocopy volume holds %q", r.out)
	}
}

// TestAnonymousVolume checks -v PATH: a volume of its own, removed with
// the container when asked (rm -v).
func TestAnonymousVolume(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	st, err := e.Create(Spec{Layers: f.layers, Volumes: []Volume{parsed(t, ParseVolume, "/etc")}, Process: Process{Args: []string{"true"}}})
	if err != nil {
		t.Fatal(err)
	}
	v := st.Spec.Volumes[0]
	if !v.Anonymous || !IsID(v.Name) || !v.Seed {
		t.Fatalf("anonymous volume %+v", v)
	}
	if _, err := e.Start(st.ID, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "exit", hasStatus(e, st.ID, Exited))
	if b, err := os.ReadFile(filepath.Join(v.Source, "lowerfile")); string(b) != "from l1\n" {
		t.Errorf("seeded from the image: %q, %v", b, err)
	}
	if _, err := e.Remove(st.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveAnonymousVolumes(st); err != nil {
		t.Fatal(err)
	}
	if vols, err := e.Volumes(); err != nil || len(vols) != 0 {
		t.Errorf("volumes after rm -v: %v, %v", vols, err)
	}
}
