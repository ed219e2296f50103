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
