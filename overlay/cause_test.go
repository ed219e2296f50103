package overlay

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// studentScript is the classroom sequence, run by sh in the merged view of
// a real overlay mount: the kernel decides what lands in the upper
// directory.
const studentScript = `
echo x >> etc/hosts
echo hi > root/new.txt
rm bin/ls
rm -rf d; mkdir d; echo new > d/n
chmod 600 etc/mode
ln etc/f etc/f2
exec 3>> etc/opened; exec 3>&-
mv var var2
rm -r usr/share
sed -i s/old/new/ tmp/replace
ln -sf /bin/sh lnk
rm -r opt/pkg; echo file > opt/pkg
`

// studentMountPoints are the engine's mount points of the scenario.
var studentMountPoints = []string{"/etc/hostname", "/proc", "/srv/vol"}

// kernelScenario builds a lower layer, mounts it with an upper directory
// as the engine does (Spec.Mount, with its fixed options), makes the
// engine's mount points as engine.makeTarget does, runs studentScript,
// unmounts, and returns the lower and upper directories.
func kernelScenario(t *testing.T) (lower, upper string) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireTool(t, "sed")
	testutil.CheckMounts(t)
	base := t.TempDir()
	lower = filepath.Join(base, "lower")
	err := buildLayer(lower, []layerOp{
		file("etc/hosts", "127.0.0.1 localhost\n"), file("etc/passwd", "root:x:0:0\n"),
		file("etc/f", "linked\n"), file("etc/mode", "secret\n"), file("etc/opened", "same\n"),
		dir("root"), file("bin/ls", "ls binary"), file("bin/sh", "sh binary"),
		file("d/a", "a"), file("d/sub/b", "bb"), file("var/lib/x/y", "yyy"), dir("var/log"),
		file("usr/share/doc/README", "read me"), file("tmp/replace", "old\n"), symlink("lnk", "/bin/ls"),
		file("opt/pkg/file", "pkg"), dir("srv"),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := Spec{Lower: []string{lower}, Upper: filepath.Join(base, "upper"), Work: filepath.Join(base, "work"), Target: filepath.Join(base, "merged")}
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
	for _, mp := range []struct {
		path string
		file bool
	}{{"/etc/hostname", true}, {"/proc", false}, {"/srv/vol", false}} {
		if err := makeMountPoint(filepath.Join(s.Target, mp.path), mp.file); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-ec", studentScript)
	cmd.Dir = s.Target
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("student script: %v\n%s", err, out.String())
	}
	unmount()
	return lower, s.Upper
}

// makeMountPoint makes a mount point through the merged view and gives its
// parent its times back, as the engine does before mounting.
func makeMountPoint(p string, isFile bool) error {
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Dir(p), &st); err != nil {
		return err
	}
	if isFile {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	} else if err := os.Mkdir(p, 0o755); err != nil {
		return err
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Dir(p), []unix.Timespec{st.Atim, st.Mtim}, unix.AT_SYMLINK_NOFOLLOW)
}

// causeOf is what the test checks of a cause.
type causeOf struct {
	Kind   CauseKind
	Diff   DiffKind
	Detail string // the fact that tells this cause: sizes, names, hider, move
}

func summarize(c Cause) causeOf {
	got := causeOf{Kind: c.Kind, Diff: c.Diff}
	switch c.Kind {
	case CauseWritten:
		got.Detail = fmt.Sprintf("%d->%d", c.LowerSize, c.Size)
	case CauseLinked, CauseCreated:
		if len(c.Names) > 0 {
			got.Detail = joinNames(c.Names)
		}
	case CauseHidden, CauseLayerHidden:
		got.Detail = c.Hider
	case CauseMovedAway, CauseMovedHere:
		got.Detail = c.Moved
	case CauseEngine:
		got.Detail = c.Engine
	case CauseOpaque, CauseLayerOpaque:
		got.Detail = joinNames(c.Hidden)
	case CauseMetadata:
		got.Detail = c.metaChange()
	}
	return got
}

func joinNames(ns []string) string {
	var b bytes.Buffer
	for i, n := range ns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
	}
	return b.String()
}

// TestCausesFromKernel checks the cause of every path the kernel left in
// the upper directory after the classroom sequence.
func TestCausesFromKernel(t *testing.T) {
	lowerDir, upperDir := kernelScenario(t)
	lower, err := ReadDir(lowerDir)
	if err != nil {
		t.Fatal(err)
	}
	upper, err := ReadDir(upperDir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]causeOf{}
	for _, c := range Causes(Merge([]*Tree{lower}), upper, CauseOptions{MountPoints: studentMountPoints}) {
		got[c.Path] = summarize(c)
	}
	// "127.0.0.1 localhost\n" is 20 bytes, 22 with "x\n".
	want := map[string]causeOf{
		"/bin":          {CauseParent, MetadataOnly, ""},
		"/bin/ls":       {CauseWhiteout, Removed, ""},
		"/d":            {CauseOpaque, Opaque, "a,sub"},
		"/d/a":          {CauseHidden, Removed, "/d"},
		"/d/sub":        {CauseHidden, Removed, "/d"},
		"/d/n":          {CauseCreated, Added, ""},
		"/etc":          {CauseParent, MetadataOnly, ""},
		"/etc/f":        {CauseLinked, CopiedUp, "/etc/f,/etc/f2"},
		"/etc/f2":       {CauseCreated, Added, "/etc/f,/etc/f2"},
		"/etc/hostname": {CauseEngine, Added, "/etc/hostname"},
		"/etc/hosts":    {CauseWritten, Modified, "20->22"},
		"/etc/mode":     {CauseMetadata, MetadataOnly, "mode rw-r--r-- → rw-------"},
		"/etc/opened":   {CauseOpened, CopiedUp, ""},
		"/lnk":          {CauseReplaced, Modified, ""},
		"/opt":          {CauseParent, MetadataOnly, ""},
		"/opt/pkg":      {CauseReplaced, Modified, ""},
		"/opt/pkg/file": {CauseHidden, Removed, "/opt/pkg"},
		"/proc":         {CauseEngine, Added, "/proc"},
		"/root":         {CauseParent, MetadataOnly, ""},
		"/root/new.txt": {CauseCreated, Added, ""},
		"/srv":          {CauseEngine, CopiedUp, "/srv/vol"},
		"/srv/vol":      {CauseEngine, Added, "/srv/vol"},
		"/tmp":          {CauseParent, MetadataOnly, ""},
		"/tmp/replace":  {CauseReplaced, Modified, ""},
		"/usr":          {CauseParent, MetadataOnly, ""},
		"/usr/share":    {CauseWhiteout, Removed, ""},
		"/var":          {CauseMovedAway, Removed, "/var2"},
		"/var2":         {CauseMovedHere, Added, "/var"},
		"/var2/lib":     {CauseMovedHere, Added, "/var/lib"},
		"/var2/lib/x":   {CauseMovedHere, Added, "/var/lib/x"},
		"/var2/lib/x/y": {CauseMovedHere, Added, "/var/lib/x/y"},
		"/var2/log":     {CauseMovedHere, Added, "/var/log"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("causes (-want +got):\n%s", diff)
	}
}

// TestLayerCausesFromCommit packs the scenario's upper directory as a
// layer tar, as commit does, unpacks it as an image layer, and checks that
// its causes speak of the tar's entries, never of upper or copy-up.
func TestLayerCausesFromCommit(t *testing.T) {
	lowerDir, upperDir := kernelScenario(t)
	var buf bytes.Buffer
	if _, err := Pack(upperDir, &buf, PackOptions{Lower: []string{lowerDir}, MountPoints: studentMountPoints}); err != nil {
		t.Fatal(err)
	}
	layerDir := t.TempDir()
	if _, err := Unpack(&buf, layerDir, UnpackOptions{}); err != nil {
		t.Fatal(err)
	}
	lower, err := ReadDir(lowerDir)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := ReadDir(layerDir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]causeOf{}
	for _, c := range Causes(Merge([]*Tree{lower}), layer, CauseOptions{Image: true}) {
		got[c.Path] = summarize(c)
		for _, s := range append(c.Explain(), c.Summary(), c.Rule().String()) {
			if strings.Contains(s, "upper") || strings.Contains(s, "copy-up") || strings.Contains(s, "copied up") {
				t.Errorf("%s: an image layer's text speaks of upper or copy-up: %q", c.Path, s)
			}
		}
	}
	want := map[string]causeOf{
		"/bin":          {CauseLayerDir, MetadataOnly, ""},
		"/bin/ls":       {CauseLayerDeleted, Removed, ""},
		"/d":            {CauseLayerOpaque, Opaque, "a,sub"},
		"/d/a":          {CauseLayerHidden, Removed, "/d"},
		"/d/sub":        {CauseLayerHidden, Removed, "/d"},
		"/d/n":          {CauseLayerAdded, Added, ""},
		"/etc":          {CauseLayerDir, MetadataOnly, ""},
		"/etc/f":        {CauseLayerReplaced, CopiedUp, ""},
		"/etc/f2":       {CauseLayerAdded, Added, ""},
		"/etc/hosts":    {CauseLayerReplaced, Modified, ""},
		"/etc/mode":     {CauseLayerReplaced, MetadataOnly, ""},
		"/etc/opened":   {CauseLayerReplaced, CopiedUp, ""},
		"/lnk":          {CauseLayerReplaced, Modified, ""},
		"/opt":          {CauseLayerDir, MetadataOnly, ""},
		"/opt/pkg":      {CauseLayerReplaced, Modified, ""},
		"/opt/pkg/file": {CauseLayerHidden, Removed, "/opt/pkg"},
		"/root":         {CauseLayerDir, MetadataOnly, ""},
		"/root/new.txt": {CauseLayerAdded, Added, ""},
		"/srv":          {CauseLayerDir, CopiedUp, ""},
		"/tmp":          {CauseLayerDir, MetadataOnly, ""},
		"/tmp/replace":  {CauseLayerReplaced, Modified, ""},
		"/usr":          {CauseLayerDir, MetadataOnly, ""},
		"/usr/share":    {CauseLayerDeleted, Removed, ""},
		"/var":          {CauseLayerDeleted, Removed, ""},
		"/var2":         {CauseLayerAdded, Added, ""},
		"/var2/lib":     {CauseLayerAdded, Added, ""},
		"/var2/lib/x":   {CauseLayerAdded, Added, ""},
		"/var2/lib/x/y": {CauseLayerAdded, Added, ""},
		"/var2/log":     {CauseLayerAdded, Added, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("causes (-want +got):\n%s", diff)
	}
}
