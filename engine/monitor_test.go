package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// fsImmutable is FS_IMMUTABLE_FL of ioctl_iflags(2): no file of the
// directory can be made, renamed or removed, even by root.
const fsImmutable = 0x10

// setImmutable sets or clears a directory's immutable flag.
func setImmutable(t *testing.T, dir string, on bool) {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		testutil.Unavailable(t, "the file system of "+dir+" has no inode flags: "+err.Error())
	}
	if on {
		flags |= fsImmutable
	} else {
		flags &^= fsImmutable
	}
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags)); err != nil {
		t.Fatalf("set the flags of %s: %v", dir, err)
	}
}

// TestMonitorExitUnrecorded checks that a monitor that cannot record its
// container's exit says so in monitor.log, and that the container is found
// exited once its record can be written again.
func TestMonitorExitUnrecorded(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	vol := t.TempDir()
	st, err := e.Create(Spec{Layers: f.layers, Volumes: []Volume{{Source: vol, Target: "/v"}},
		Process: Process{Args: []string{"sh", "-c", "while [ ! -e /v/go ]; do sleep 0.01; done; exit 5"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	if _, err := e.Start(st.ID, false); err != nil {
		t.Fatal(err)
	}
	s, err := e.Get(st.ID)
	if err != nil || s.Status != Running {
		t.Fatalf("after the start: %s, %v", s.Status, err)
	}
	setImmutable(t, st.Dir, true)
	t.Cleanup(func() { setImmutable(t, st.Dir, false) }) // before the remove
	if err := os.WriteFile(filepath.Join(vol, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the monitor's end", func() bool { return !alive(s.MonitorPid, s.MonitorStart) })
	b, err := os.ReadFile(filepath.Join(filepath.Dir(st.Dir), monitorLog))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	want := "container " + st.ShortID() + ": record exit 5: write container state: "
	if !strings.Contains(string(b), want) {
		t.Errorf("monitor.log %q holds no %q", b, want)
	}
	setImmutable(t, st.Dir, false)
	if s, err := e.Get(st.ID); err != nil || s.Status != Exited {
		t.Errorf("once the record can be written: %s, %v; want exited", s.Status, err)
	}
}
