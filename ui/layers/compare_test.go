package layers_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/layers"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// course is what the container does in compareStack, in its merged view:
// edit a text file, patch bytes of a binary, delete a file, make one, move
// a symlink, change a directory's entries, chmod a fifo.
const course = `
sed -i 's/mirror/mirror.local/' etc/hosts
sed -i '/old-host/d' etc/hosts
printf '172.17.0.2\tweb\n' >> etc/hosts
printf 'PATCHED' | dd of=bin/tool bs=1 seek=1000 conv=notrunc 2>/dev/null
rm etc/motd
printf 'first line\nsecond line\n' > root/notes.txt
ln -sfn libc.so.7 lib/libc.so
rm var/log/a.log
echo more >> var/log/b.log
echo new > var/log/c.log
chmod 600 run/old.fifo
echo gone >> etc/shadow
`

const hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n" +
	"ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n# the course's hosts\n" +
	"10.0.0.1\tregistry\n10.0.0.2\tmirror\n10.0.0.3\tbuilder\n10.0.0.4\tcache\n10.0.0.5\told-host\n"

// tool is a binary: an ELF header, then 2,000 bytes of a pattern.
func tool() string {
	b := []byte("\x7fELF\x02\x01\x01\x00")
	for i := range 2000 {
		b = append(b, byte(i*7%251))
	}
	return string(b)
}

// compareStack runs the course on a real overlay mount, then reads its
// layer and its upper directory: the kernel made every version compared.
func compareStack(t *testing.T) (lower, upper string) {
	t.Helper()
	testutil.RequireRoot(t)
	for _, tool := range []string{"sh", "sed", "dd", "ln"} {
		testutil.RequireTool(t, tool)
	}
	testutil.CheckMounts(t)
	base := t.TempDir()
	lower = filepath.Join(base, "lower")
	files := map[string]string{
		"etc/hosts": hosts, "etc/motd": "Welcome to the course.\n", "etc/shadow": "root:*:19000:0:99999:7:::\n",
		"bin/tool": tool(), "root/.profile": "PS1='# '\n", "var/log/a.log": "a\n", "var/log/b.log": "b\n",
	}
	for p, data := range files {
		writeFile(t, filepath.Join(lower, p), data)
	}
	for _, d := range []string{"lib", "run"} {
		must(t, os.MkdirAll(filepath.Join(lower, d), 0o755))
	}
	must(t, os.Symlink("libc.so.6", filepath.Join(lower, "lib/libc.so")))
	must(t, unix.Mkfifo(filepath.Join(lower, "run/old.fifo"), 0o644))
	stamp(t, lower)
	s := overlay.Spec{Lower: []string{lower}, Upper: filepath.Join(base, "upper"), Work: filepath.Join(base, "work"), Target: filepath.Join(base, "merged")}
	for _, d := range []string{s.Upper, s.Work, s.Target} {
		must(t, os.Mkdir(d, 0o755))
	}
	must(t, s.Mount())
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
	cmd := exec.Command("sh", "-ec", course)
	cmd.Dir = s.Target
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the course: %v\n%s", err, out)
	}
	unmount()
	return lower, s.Upper
}

// openCompare selects p in pane, presses the compare key and runs the
// command that reads both versions.
func openCompare(t *testing.T, m layers.Model, pane, p string) layers.Model {
	t.Helper()
	m = selectPath(t, focus(t, m, pane), p)
	m, cmd := m.Update(uitest.Key("d"))
	if !m.Comparing() || cmd == nil {
		t.Fatalf("d on %s opened no comparison", p)
	}
	m, _ = m.Update(cmd())
	return m
}

// TestCompareGolden draws the compare view of each kind of version the
// course made, at 120x40 and 80x24.
func TestCompareGolden(t *testing.T) {
	lower, upper := compareStack(t)
	tests := []struct {
		name, pane, path string
		small            bool // also at 80x24
		want             string
	}{
		{name: "text", pane: "merged", path: "/etc/hosts", small: true, want: "text · 1 hunk · +2 -2"},
		{name: "binary", pane: "merged", path: "/bin/tool", small: true, want: "first difference at byte 1000 (0x3e8)"},
		{name: "whiteout", pane: "upper", path: "/etc/motd", small: true, want: "the upper's whiteout (c 0:0) hides the lower file; shown whole as removed"},
		{name: "new", pane: "merged", path: "/root/notes.txt", small: true, want: "new file: no lower layer holds it; shown whole as added"},
		{name: "dir", pane: "merged", path: "/var/log", want: "directory · 1 added · 1 removed · 1 changed"},
		{name: "symlink", pane: "merged", path: "/lib/libc.so", want: "the target changed: libc.so.6 → libc.so.7"},
		{name: "fifo", pane: "merged", path: "/run/old.fifo", want: "a fifo has no content to compare"},
		{name: "unchanged", pane: "lower", path: "/root/.profile", want: "not in the upper directory: the container reads the lower file unchanged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := layers.ReadStack([]string{lower}, upper, []string{"a1b2c3 the course's base"})
			must(t, err)
			sizes := [][2]int{{120, 40}}
			if tt.small {
				sizes = append(sizes, [2]int{80, 24})
			}
			for _, sz := range sizes {
				m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(sz[0], sz[1])
				m = openCompare(t, m, tt.pane, tt.path)
				got := m.View()
				uitest.Golden(t, fmt.Sprintf("compare_%s_%dx%d", tt.name, sz[0], sz[1]), got)
				if plain := ansi.Strip(got); !strings.Contains(plain, tt.want) {
					t.Errorf("%dx%d: no %q in\n%s", sz[0], sz[1], tt.want, plain)
				}
				checkSize(t, got, sz[0], sz[1])
			}
		})
	}
}

// TestCompareGoldenANSI keeps the colours of a text diff.
func TestCompareGoldenANSI(t *testing.T) {
	lower, upper := compareStack(t)
	s, err := layers.ReadStack([]string{lower}, upper, []string{"a1b2c3 the course's base"})
	must(t, err)
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(80, 24)
	uitest.Golden(t, "compare_text_80x24.ansi", openCompare(t, m, "merged", "/etc/hosts").View())
}

// TestCompareUnreadable compares a file gone from the upper directory
// since the view read it: the view says it cannot read it, and why.
func TestCompareUnreadable(t *testing.T) {
	lower, upper := compareStack(t)
	s, err := layers.ReadStack([]string{lower}, upper, []string{"base"})
	must(t, err)
	must(t, os.Remove(filepath.Join(upper, "etc/shadow")))
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)
	got := ansi.Strip(openCompare(t, m, "merged", "/etc/shadow").View())
	uitest.Golden(t, "compare_unreadable_120x40", got)
	if !strings.Contains(got, "cannot read the upper version: openat etc/shadow: no such file or directory") {
		t.Errorf("no reason given:\n%s", got)
	}
}

// TestCompareImageLayer reads the course's upper directory as an image's
// second layer: the view compares a layer's version with the one below,
// in the words of image layers (no upper directory, a whiteout as its tar
// names it).
func TestCompareImageLayer(t *testing.T) {
	lower, upper := compareStack(t)
	s, err := layers.ReadStack([]string{lower, upper}, "", []string{"a1b2c3 base", "d4e5f6 RUN the course"})
	must(t, err)
	tests := []struct{ name, layer, path, want string }{
		{"image_text", "", "/etc/hosts", "text · 1 hunk · +2 -2"},
		{"image_whiteout", ">", "/etc/motd", "layer 1 deletes it: a whiteout (.wh.motd in its tar) hides layer 0's file"},
		{"image_added", "", "/root/notes.txt", "added by layer 1: no layer below holds it"},
		{"image_bottom", "", "/etc/motd", "added by layer 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)
			if tt.layer != "" {
				m = press(m, "a") // layer 1 alone
			}
			if tt.name == "image_bottom" {
				m = press(m, "a", "<") // layer 0 alone
			}
			m = openCompare(t, m, "lower", tt.path)
			got := ansi.Strip(m.View())
			if tt.name == "image_whiteout" {
				uitest.Golden(t, "compare_image_whiteout_120x40", got)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("no %q in\n%s", tt.want, got)
			}
			if strings.Contains(got, "upper") {
				t.Errorf("an image layer's comparison speaks of upper:\n%s", got)
			}
		})
	}
}

// TestCompareKeys checks that esc and the key itself close the view, that
// it scrolls, and that the footer offers what works in it.
func TestCompareKeys(t *testing.T) {
	lower, upper := compareStack(t)
	s, err := layers.ReadStack([]string{lower}, upper, []string{"base"})
	must(t, err)
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(80, 24)
	m = openCompare(t, m, "merged", "/root/notes.txt")
	if !m.UsesBack() {
		t.Error("esc means nothing to the open view")
	}
	m = press(m, "esc")
	for _, k := range []string{"esc", "d"} {
		m = openCompare(t, m, "merged", "/etc/hosts")
		m = press(m, k)
		if m.Comparing() {
			t.Errorf("%s left the view open", k)
		}
	}
	// A late answer to a comparison closed is dropped.
	m, cmd := m.Update(uitest.Key("d"))
	m = press(m, "esc")
	m, _ = m.Update(cmd())
	if m.Comparing() || strings.Contains(ansi.Strip(m.View()), "compare /") {
		t.Error("a comparison answered after esc opened the view again")
	}
	m = openCompare(t, m, "merged", "/bin/tool")
	top := ansi.Strip(m.View())
	m = press(m, "pgdown")
	if ansi.Strip(m.View()) == top {
		t.Error("pgdown did not scroll the hex view")
	}
	var help []string
	for _, b := range m.ShortHelp() {
		help = append(help, b.Help().Key)
	}
	if got := strings.Join(help, " "); got != "↑/k ↓/j pgdn esc" {
		t.Errorf("footer %q", got)
	}
}

func checkSize(t *testing.T, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("%dx%d: %d lines", w, h, len(lines))
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Errorf("%dx%d: line %d is %d wide: %q", w, h, i, n, ansi.Strip(l))
		}
	}
}

// TestCompareSizes checks that every line of each comparison is exactly
// as wide as the view, however narrow or wide.
func TestCompareSizes(t *testing.T) {
	lower, upper := compareStack(t)
	s, err := layers.ReadStack([]string{lower}, upper, []string{"base"})
	must(t, err)
	for _, p := range []string{"/etc/hosts", "/bin/tool", "/var/log", "/etc/motd"} {
		for _, sz := range [][2]int{{61, 17}, {200, 60}, {40, 12}} {
			m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)
			pane := "merged"
			if p == "/etc/motd" {
				pane = "upper"
			}
			m = openCompare(t, m, pane, p).SetSize(sz[0], sz[1])
			checkSize(t, m.View(), sz[0], sz[1])
		}
	}
}

// TestCompareAgainOnChange checks that a change the container makes to
// the compared file compares again, keeping the view open.
func TestCompareAgainOnChange(t *testing.T) {
	lower, upper := compareStack(t)
	s, err := layers.ReadStack([]string{lower}, upper, []string{"base"})
	must(t, err)
	m := layers.New(theme.New(true, false), keys.Default(), s).SetSize(120, 40)
	m = openCompare(t, m, "merged", "/root/notes.txt")
	f, err := os.OpenFile(filepath.Join(upper, "root/notes.txt"), os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString("third line\n")
	must(t, errors.Join(err, f.Close()))
	m, cmd := m.Update(layers.EventsMsg{Nodes: []tree.Node{{Path: "/root/notes.txt", Kind: overlay.Added, Mode: 0o644, Size: 34}}})
	for _, msg := range quickMsgs(cmd) {
		m, _ = m.Update(msg)
	}
	if got := ansi.Strip(m.View()); !m.Comparing() || !strings.Contains(got, "+ third line") || !strings.Contains(got, "+3 -0") {
		t.Errorf("the comparison did not follow the change:\n%s", got)
	}
}

// quickMsgs runs cmd, and each of a batch, and returns the messages that
// come at once: not a timer's.
func quickMsgs(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		if batch, ok := msg.(tea.BatchMsg); ok {
			var out []tea.Msg
			for _, c := range batch {
				out = append(out, quickMsgs(c)...)
			}
			return out
		}
		return []tea.Msg{msg}
	case <-time.After(200 * time.Millisecond):
		return nil
	}
}
