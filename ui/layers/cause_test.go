package layers_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/layers"
)

// classroom is the sequence a teacher runs in the embedded shell, one
// command a cause, run by sh in the merged view of a real overlay mount.
const classroom = `
echo x >> etc/hosts
echo hi > root/new.txt
rm bin/ls
rm -rf d; mkdir d; echo new > d/n
chmod 600 etc/mode
ln etc/f etc/f2
exec 3>> etc/opened; exec 3>&-
mv var var2
sed -i s/old/new/ tmp/replace
ln -sf /bin/sh lnk
`

// engineMounts are the engine's mount points of the scenario, made before
// the classroom sequence as the engine makes them.
var engineMounts = []string{"/etc/hostname", "/proc"}

// classroomStack runs the classroom sequence on a real overlay mount with
// the engine's options (overlay.Spec.Mount), unmounts, and returns the
// lower and upper directories: the kernel did the work.
func classroomStack(t *testing.T) (lower, upper string) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireTool(t, "sed")
	testutil.CheckMounts(t)
	base := t.TempDir()
	lower = filepath.Join(base, "lower")
	files := map[string]string{
		"etc/hosts": "127.0.0.1 localhost\n", "etc/f": "linked\n", "etc/mode": "secret\n", "etc/opened": "same\n",
		"bin/ls": "ls binary", "bin/sh": "sh binary", "d/a": "a", "d/sub/b": "bb", "var/lib/x/y": "yyy",
		"tmp/replace": "old\n", "root/.profile": "PS1='# '\n",
	}
	for p, data := range files {
		writeFile(t, filepath.Join(lower, p), data)
	}
	if err := os.Symlink("/bin/ls", filepath.Join(lower, "lnk")); err != nil {
		t.Fatal(err)
	}
	stamp(t, lower)
	s := overlay.Spec{Lower: []string{lower}, Upper: filepath.Join(base, "upper"), Work: filepath.Join(base, "work"), Target: filepath.Join(base, "merged")}
	for _, d := range []string{s.Upper, s.Work, s.Target} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Mount(); err != nil {
		t.Fatal(err)
	}
	mounted := true
	unmount := func() {
		if mounted {
			mounted = false
			if err := unix.Unmount(s.Target, 0); err != nil {
				t.Errorf("unmount %s: %v", s.Target, err)
			}
		}
	}
	t.Cleanup(unmount)
	makeMountPoint(t, filepath.Join(s.Target, "etc/hostname"), true)
	makeMountPoint(t, filepath.Join(s.Target, "proc"), false)
	cmd := exec.Command("sh", "-ec", classroom)
	cmd.Dir = s.Target
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("classroom sequence: %v\n%s", err, out)
	}
	unmount()
	return lower, s.Upper
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// stamp gives every entry under dir one fixed time, so that goldens do not
// depend on the clock.
func stamp(t *testing.T, dir string) {
	t.Helper()
	ts := []unix.Timespec{{Sec: 1_700_000_000}, {Sec: 1_700_000_000}}
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// makeMountPoint makes a mount point through the merged view and gives its
// parent its times back, as the engine does before it mounts there.
func makeMountPoint(t *testing.T, p string, isFile bool) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Dir(p), &st); err != nil {
		t.Fatal(err)
	}
	var err error
	if isFile {
		err = os.WriteFile(p, nil, 0o644)
	} else {
		err = os.Mkdir(p, 0o755)
	}
	if err == nil {
		err = unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Dir(p), []unix.Timespec{st.Atim, st.Mtim}, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// detailsOfPane walks every row of the focused pane, after presses, and
// returns the two details lines of each, as a wide view draws them.
func detailsOfPane(t *testing.T, s layers.Stack, presses ...string) (string, map[string]overlay.Cause) {
	t.Helper()
	m, _ := view(t, s, 400, 60, presses...)
	m, _ = m.Update(uitest.Key("g"))
	var b strings.Builder
	causes := map[string]overlay.Cause{}
	for range m.Rows() {
		n, _ := m.Selected()
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		b.WriteString(strings.TrimRight(lines[len(lines)-2], " ") + "\n  " + strings.TrimRight(lines[len(lines)-1], " ") + "\n")
		if c, ok := m.SelectedCause(); ok {
			causes[n.Path] = c
		}
		m, _ = m.Update(uitest.Key("j"))
	}
	return b.String(), causes
}

// TestDetailsFromKernel is the golden of the details line of every path
// the kernel left in the upper directory, one per cause, and checks that
// the view decides each cause as overlay.Causes does from the directories.
func TestDetailsFromKernel(t *testing.T) {
	lower, upper := classroomStack(t)
	s, err := layers.ReadStackWith([]string{lower}, upper, []string{"base"}, layers.ReadOptions{MountPoints: engineMounts})
	if err != nil {
		t.Fatal(err)
	}
	got, viewCauses := detailsOfPane(t, s, "tab", "tab") // merged -> lower -> upper
	uitest.Golden(t, "causes_kernel", got)

	lt, ut := readDir(t, lower), readDir(t, upper)
	want := map[string]string{}
	for _, c := range overlay.Causes(overlay.Merge([]*overlay.Tree{lt}), ut, overlay.CauseOptions{MountPoints: engineMounts}) {
		want[c.Path] = c.Kind.String() + " " + c.Summary()
	}
	gotKinds := map[string]string{}
	for p, c := range viewCauses {
		gotKinds[p] = c.Kind.String() + " " + c.Summary()
	}
	if diff := cmp.Diff(want, gotKinds); diff != "" {
		t.Errorf("the view's causes differ from overlay.Causes on the directories (-want +got):\n%s", diff)
	}
}

// TestDetailsOfCommittedLayer packs the classroom's upper directory as
// commit does, unpacks it as an image's second layer, and is the golden of
// that layer's details lines: an image layer's words, never upper or
// copy-up.
func TestDetailsOfCommittedLayer(t *testing.T) {
	lower, upper := classroomStack(t)
	var buf bytes.Buffer
	if _, err := overlay.Pack(upper, &buf, overlay.PackOptions{Lower: []string{lower}, MountPoints: engineMounts}); err != nil {
		t.Fatal(err)
	}
	layer := t.TempDir()
	if _, err := overlay.Unpack(&buf, layer, overlay.UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := layers.ReadStack([]string{lower, layer}, "", []string{"base", "commit"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := detailsOfPane(t, s, "a") // the top layer alone
	uitest.Golden(t, "causes_layer", got)
	for _, word := range []string{"upper", "copy-up", "copied up"} {
		if strings.Contains(got, word) {
			t.Errorf("an image layer's details speak of %q:\n%s", word, got)
		}
	}
}

// TestDiffKindsAgreeWithDockerDiff checks, on every path of the upper
// pane, that the difference the view shows is the letter docker diff
// (overlay.DockerDiff, minidocker diff's rule) prints for it, and that the
// view lists every path docker diff lists.
func TestDiffKindsAgreeWithDockerDiff(t *testing.T) {
	lower, upper := classroomStack(t)
	s, err := layers.ReadStackWith([]string{lower}, upper, []string{"base"}, layers.ReadOptions{MountPoints: engineMounts})
	if err != nil {
		t.Fatal(err)
	}
	_, causes := detailsOfPane(t, s, "tab", "tab")
	got := map[string]string{}
	for p, c := range causes {
		if l := c.Diff.Letter(); l != " " {
			got[p] = l
		}
	}
	lt, ut := readDir(t, lower), readDir(t, upper)
	want := map[string]string{}
	for _, d := range overlay.DockerDiff(overlay.Diff(overlay.Merge([]*overlay.Tree{lt}), ut)) {
		want[d.Path] = d.Letter
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("difference letters (-docker diff +view):\n%s", diff)
	}
}

// TestExplainPanel opens the explain panel on the copy-up of /etc/hosts
// and on the whiteout mv left, and closes it with esc.
func TestExplainPanel(t *testing.T) {
	lower, upper := classroomStack(t)
	s, err := layers.ReadStackWith([]string{lower}, upper, []string{"base"}, layers.ReadOptions{MountPoints: engineMounts})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path string
		w, h       int
	}{{"explain_copy_up_120x40", "/etc/hosts", 120, 40}, {"explain_mv_80x24", "/var", 80, 24}} {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := view(t, s, tt.w, tt.h, "tab", "tab", "g")
			for range m.Rows() {
				if n, _ := m.Selected(); n.Path == tt.path {
					break
				}
				m, _ = m.Update(uitest.Key("j"))
			}
			if n, _ := m.Selected(); n.Path != tt.path {
				t.Fatalf("no row for %s", tt.path)
			}
			m, _ = m.Update(uitest.Key("i"))
			if !m.Explaining() || !m.UsesBack() {
				t.Fatal("i did not open the explain panel")
			}
			uitest.Golden(t, tt.name, m.View())
			for range 30 {
				m, _ = m.Update(uitest.Key("j"))
			}
			if v := ansi.Strip(m.View()); !strings.Contains(v, "docker diff: ") {
				t.Errorf("scrolled to the end, the panel does not show its last paragraph:\n%s", v)
			}
			m, _ = m.Update(uitest.Key("esc"))
			if m.Explaining() {
				t.Error("esc did not close the explain panel")
			}
		})
	}
}

func readDir(t *testing.T, dir string) *overlay.Tree {
	t.Helper()
	tr, err := overlay.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
