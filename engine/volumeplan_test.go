package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// TestVolumePlan checks the mounts the volumes add to the plan: in depth
// order, a bind at /dev that only binds (its nodes are made in the
// container's own tmpfs alone), propagation, seeding, tmpfs options.
func TestVolumePlan(t *testing.T) {
	vols := []Volume{
		{Type: TypeBind, Source: "/srv/a", Target: "/data/sub", Propagation: "rslave"},
		{Type: TypeBind, Source: "/host/dev", Target: "/dev"},
		{Type: TypeVolume, Name: "web", Source: "/r/volumes/web/_data", Target: "/data", Seed: true, ReadOnly: true},
		{Type: TypeTmpfs, Target: "/run", Options: []string{"noexec", "nosuid", "nodev", "ro", "size=64m", "mode=1777", "rshared"}},
	}
	plan := rootfsPlan("/c", vols, nil, false)
	var devs []string
	for _, m := range plan {
		if m.Dev {
			devs = append(devs, m.Source+" on "+m.Target)
		}
	}
	if diff := cmp.Diff([]string{"tmpfs on /dev"}, devs); diff != "" {
		t.Errorf("mounts that get /dev's nodes (-want +got):\n%s", diff)
	}
	want := []Mount{
		{Source: "/host/dev", Target: "/dev", Flags: unix.MS_BIND | unix.MS_REC},
		{Source: "/r/volumes/web/_data", Target: "/data", Flags: unix.MS_BIND | unix.MS_REC, ReadOnly: true, Seed: true},
		{Source: "tmpfs", Target: "/run", FSType: "tmpfs", Flags: unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_RDONLY,
			Data: "size=64m,mode=1777", Propagation: unix.MS_SHARED | unix.MS_REC},
		{Source: "/srv/a", Target: "/data/sub", Flags: unix.MS_BIND | unix.MS_REC, Propagation: unix.MS_SLAVE | unix.MS_REC},
	}
	if diff := cmp.Diff(want, plan[len(plan)-len(want):]); diff != "" {
		t.Errorf("volume mounts (-want +got):\n%s", diff)
	}
	if got := rootPropagation(plan); got != unix.MS_REC|unix.MS_SLAVE {
		t.Errorf("root propagation %#x with a slave volume, want MS_REC|MS_SLAVE", got)
	}
	if got := rootPropagation(rootfsPlan("/c", vols[1:2], nil, false)); got != unix.MS_REC|unix.MS_PRIVATE {
		t.Errorf("root propagation %#x without one, want MS_REC|MS_PRIVATE", got)
	}
}

func TestVolumeMode(t *testing.T) {
	tests := []struct {
		v    Volume
		want string
	}{
		{Volume{}, ""},
		{Volume{ReadOnly: true, Label: "Z", Propagation: "rslave"}, "ro,Z,rslave"},
		{Volume{Type: TypeVolume, NoCopy: true}, "nocopy"},
		{Volume{Type: TypeTmpfs, Options: []string{"noexec", "size=1m"}}, "noexec,size=1m"},
	}
	for _, tt := range tests {
		if got := tt.v.Mode(); got != tt.want {
			t.Errorf("%+v: mode %q, want %q", tt.v, got, tt.want)
		}
	}
}
