package overlay

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestParseMountinfo(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Mount
	}{
		{"ext4 with a space", `36 35 98:0 / /mnt/my\040disk rw,noatime master:1 - ext4 /dev/root rw,errors=continue`, Mount{
			ID: 36, Parent: 35, Dev: "98:0", Root: "/", Point: "/mnt/my disk", Options: "rw,noatime",
			FSType: "ext4", Source: "/dev/root", SuperOptions: "rw,errors=continue",
		}},
		{"legacy overlay with escapes", `46 27 0:49 / /tmp/m rw,relatime - overlay overlay rw,lowerdir=/l/lo\040w3:/l/lo\134\054w2:/l/a\134:b,upperdir=/l/up\134\054p,workdir=/l/wo\040rk,uuid=on`, Mount{
			ID: 46, Parent: 27, Dev: "0:49", Root: "/", Point: "/tmp/m", Options: "rw,relatime", FSType: "overlay", Source: "overlay",
			SuperOptions: `rw,lowerdir=/l/lo\040w3:/l/lo\134\054w2:/l/a\134:b,upperdir=/l/up\134\054p,workdir=/l/wo\040rk,uuid=on`,
			Lower:        []string{"/l/lo w3", "/l/lo,w2", "/l/a:b"}, Upper: "/l/up,p", Work: "/l/wo rk",
		}},
		{"data-only lowers", `47 27 0:50 / /m rw - overlay none ro,lowerdir=/l1:/l2::/d1::/d2,redirect_dir=on`, Mount{
			ID: 47, Parent: 27, Dev: "0:50", Root: "/", Point: "/m", Options: "rw", FSType: "overlay", Source: "none",
			SuperOptions: "ro,lowerdir=/l1:/l2::/d1::/d2,redirect_dir=on",
			Lower:        []string{"/l1", "/l2"}, Data: []string{"/d1", "/d2"},
		}},
		{"new-API layers", `48 27 0:51 / /m rw shared:5 - overlay none ro,lowerdir+=/a\072b,lowerdir+=/c\054d,datadir+=/e`, Mount{
			ID: 48, Parent: 27, Dev: "0:51", Root: "/", Point: "/m", Options: "rw", FSType: "overlay", Source: "none",
			SuperOptions: `ro,lowerdir+=/a\072b,lowerdir+=/c\054d,datadir+=/e`,
			Lower:        []string{"/a:b", "/c,d"}, Data: []string{"/e"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMountinfo(strings.NewReader(tc.line + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]Mount{tc.want}, got); diff != "" {
				t.Errorf("ParseMountinfo (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMountinfoErrors(t *testing.T) {
	for _, line := range []string{"garbage", "1 2 3 4 5 6 7", "x 1 0:1 / /m rw - ext4 a b"} {
		t.Run(line, func(t *testing.T) {
			if _, err := ParseMountinfo(strings.NewReader(line)); !errors.Is(err, ErrBadMountinfo) {
				t.Errorf("ParseMountinfo(%q): %v, want ErrBadMountinfo", line, err)
			}
		})
	}
}

// TestMountsFindsOverlay mounts an overlay by hand, with layer names that
// need escaping, through the legacy mount(2) options and through
// fsopen/fsconfig with lowerdir+ and datadir+, then finds it with Mounts and
// checks that Open shows what the kernel shows.
func TestMountsFindsOverlay(t *testing.T) {
	requireOverlayRoot(t)
	tests := []struct {
		name   string
		newAPI bool
	}{{"legacy", false}, {"fsconfig", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			lowerOps := [][]layerOp{{file("a", "a"), file("d/x", "x")}, {whiteout("a"), file("d/y", "y")}}
			dirs, _ := buildStack(t, base, lowerOps)
			// Rename the layers to names that need escaping.
			names := []string{"low,er 0", "low:er 1"}
			for i := range dirs {
				to := filepath.Join(base, names[i])
				if err := os.Rename(dirs[i], to); err != nil {
					t.Fatal(err)
				}
				dirs[i] = to
			}
			data := filepath.Join(base, "data only")
			upper, work, mnt := filepath.Join(base, "up,per"), filepath.Join(base, "work"), filepath.Join(base, "m nt")
			for _, d := range []string{data, upper, work, mnt} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := buildLayer(upper, []layerOp{file("u", "upper"), whiteout("d/x")}); err != nil {
				t.Fatal(err)
			}
			if tc.newAPI {
				mountNewAPI(t, mnt, []string{dirs[1], dirs[0]}, []string{data}, upper, work)
			} else {
				esc := func(s string) string { return strings.NewReplacer(`:`, `\:`, `,`, `\,`).Replace(s) }
				opts := "lowerdir=" + esc(dirs[1]) + ":" + esc(dirs[0]) + "::" + esc(data) + ",upperdir=" + esc(upper) + ",workdir=" + esc(work)
				if err := unix.Mount("overlay", mnt, "overlay", 0, opts); err != nil {
					t.Fatalf("mount overlay on %s: %v", mnt, err)
				}
				t.Cleanup(func() { unmount(t, mnt) })
			}
			ms, err := Mounts()
			if err != nil {
				t.Fatal(err)
			}
			var found *Mount
			for i := range ms {
				if ms[i].Point == mnt {
					found = &ms[i]
				}
			}
			if found == nil {
				t.Fatalf("Mounts did not list %q among %d overlay mounts", mnt, len(ms))
			}
			t.Logf("the kernel prints: %s", found.SuperOptions)
			want := Mount{Lower: []string{dirs[1], dirs[0]}, Data: []string{data}, Upper: upper, Work: work}
			got := Mount{Lower: found.Lower, Data: found.Data, Upper: found.Upper, Work: found.Work}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("layers (-want +got):\n%s\nsuper options: %s", diff, found.SuperOptions)
			}
			m, err := found.Open()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(kernelView(t, mnt), userView(t, m)); diff != "" {
				t.Errorf("view (-kernel +Open):\n%s", diff)
			}
		})
	}
}

// mountNewAPI mounts an overlay with fsopen(2), fsconfig(2) and
// fsmount(2), adding each layer with lowerdir+ and datadir+ (Linux 6.8).
func mountNewAPI(t *testing.T, mnt string, lower, data []string, upper, work string) {
	t.Helper()
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		t.Fatalf("fsopen overlay: %v", err)
	}
	defer unix.Close(fsfd)
	set := func(k, v string) {
		if err := unix.FsconfigSetString(fsfd, k, v); err != nil {
			t.Fatalf("fsconfig %s=%s: %v", k, v, err)
		}
	}
	for _, l := range lower {
		set("lowerdir+", l)
	}
	for _, d := range data {
		set("datadir+", d)
	}
	set("upperdir", upper)
	set("workdir", work)
	if err := unix.FsconfigCreate(fsfd); err != nil {
		t.Fatalf("fsconfig create: %v", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("fsmount: %v", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, mnt, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		t.Fatalf("move_mount to %s: %v", mnt, err)
	}
	t.Cleanup(func() { unmount(t, mnt) })
}

func unmount(t testing.TB, mnt string) {
	if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
		t.Errorf("unmount %s: %v", mnt, err)
	}
}

// FuzzParseMountinfo reads arbitrary tables: no panic, and every overlay
// mount read has its fields decoded.
func FuzzParseMountinfo(f *testing.F) {
	f.Add("36 35 98:0 / /mnt/my\\040disk rw,noatime master:1 - ext4 /dev/root rw,errors=continue\n")
	f.Add("46 27 0:49 / /tmp/m rw,relatime - overlay overlay rw,lowerdir=/l/lo\\040w3:/l/a\\134:b::/d,upperdir=/l/up\\134\\054p,workdir=/w\n")
	f.Add("48 27 0:51 / /m rw shared:5 - overlay none ro,lowerdir+=/a\\072b,lowerdir+=/c\\054d,datadir+=/e\n")
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMountinfo(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, m := range ms {
			if !m.IsOverlay() && (m.Lower != nil || m.Upper != "") {
				t.Errorf("layers on a %q mount", m.FSType)
			}
			for _, l := range m.Lower {
				if l == "" {
					t.Errorf("empty lower layer in %q", m.SuperOptions)
				}
			}
		}
	})
}
