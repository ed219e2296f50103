package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
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
