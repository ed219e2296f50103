package lesson

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/demo"
)

const containerSample = "# Roots\n" + // 1
	"```lesson\n" + // 2
	"image: learn\n" + // 3
	"hostname: lab\n" + // 4
	"root: no-pivot\n" + // 5
	"```\n" + // 6
	"## In the lesson's container\n" + // 7
	"Host PID {{host-pid}}.\n" + // 8
	"```check\n" + // 9
	"merged line /tmp/pids.txt 1\n" + // 10
	"container process sleep\n" + // 11
	"```\n" + // 12
	"## In a chroot\n" + // 13
	"```container\n" + // 14
	"root: chroot\n" + // 15
	"```\n" + // 16
	"```check\n" + // 17
	"not merged line /tmp/x app\n" + // 18
	"```\n" + // 19
	"```hint\n" + // 20
	"Look for {{host-pid}} on the host.\n" + // 21
	"```\n" + // 22
	"## Back\n" + // 23
	"```container\n" + // 24
	"root: pivot_root\n" + // 25
	"```\n" + // 26
	"```check\n" + // 27
	"merged file /x\n" + // 28
	"```\n" // 29

func TestLessonParseContainer(t *testing.T) {
	l, err := Parse("10-roots.md", []byte(containerSample))
	if err != nil {
		t.Fatal(err)
	}
	if l.Hostname != "lab" || l.Root != "no-pivot" {
		t.Errorf("hostname %q, root %q; want lab, no-pivot", l.Hostname, l.Root)
	}
	var roots []string
	for _, s := range l.Steps {
		roots = append(roots, s.Root)
	}
	if diff := cmp.Diff([]string{"no-pivot", "chroot", ""}, roots); diff != "" {
		t.Errorf("the steps' roots (-want +got):\n%s", diff)
	}
	want := []Check{
		{Where: Merged, What: "line", Path: "/tmp/pids.txt", Args: []string{"1"}, Line: 10},
		{Where: Container, What: "process", Args: []string{"sleep"}, Line: 11},
	}
	if diff := cmp.Diff(want, l.Steps[0].Checks); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if s := l.Steps[0].Checks[1].String(); s != "container process sleep" {
		t.Errorf("String = %q", s)
	}
	if got := l.ForStep(0); got != l {
		t.Errorf("ForStep(0) is a copy, though step 1 runs on the lesson's container")
	}
	if got := l.ForStep(1); got == l || got.Root != "chroot" || l.Root != "no-pivot" || got.Name != l.Name {
		t.Errorf("ForStep(1): root %q (lesson's now %q); want a copy with root chroot", got.Root, l.Root)
	}
	if got := l.ForStep(2); got.Root != "" {
		t.Errorf("ForStep(2): root %q; want pivot_root's \"\"", got.Root)
	}
	if got := l.ForStep(9); got != l {
		t.Errorf("ForStep(9), no such step: want the lesson")
	}
}

func TestFill(t *testing.T) {
	for _, tc := range []struct {
		text string
		env  Env
		want string
	}{
		{"PID {{host-pid}} on the host", Env{Pid: 4242}, "PID 4242 on the host"},
		{"PID {{host-pid}}", Env{}, "PID ?"},
		{"{{host-pid}}/{{host-pid}}", Env{Pid: 7}, "7/7"},
		{"{{other}} and {{ host-pid }}", Env{Pid: 7}, "{{other}} and {{ host-pid }}"},
		{"no braces", Env{Pid: 7}, "no braces"},
	} {
		if got := Fill(tc.text, tc.env); got != tc.want {
			t.Errorf("Fill(%q) = %q; want %q", tc.text, got, tc.want)
		}
	}
}

// TestLessonParseContainerErrors checks the mistakes of the container
// keys, blocks and placeholders, each named with its line.
func TestLessonParseContainerErrors(t *testing.T) {
	head := "# T\n```lesson\nimage: x\n```\n## S\n" // lines 1-5
	check := "```check\nupper file /a\n```\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"bad root", "# T\n```lesson\nimage: x\nroot: pivot\n```\n", `x.md:4: root "pivot": want one of pivot_root, no-pivot, chroot`},
		{"bad hostname", "# T\n```lesson\nimage: x\nhostname: a_b\n```\n", `x.md:4: hostname "a_b"`},
		{"container before a step", "# T\n```lesson\nimage: x\n```\n```container\nroot: chroot\n```\n", `x.md:5: a container block before the first step`},
		{"container key", head + "```container\nimage: y\n```\n" + check, `x.md:7: unknown key "image" in a container block`},
		{"container root twice", head + "```container\nroot: chroot\nroot: no-pivot\n```\n" + check, `x.md:8: a second root in step "S"`},
		{"container empty", head + "```container\n\n```\n" + check, `x.md:6: an empty container block`},
		{"container value", head + "```container\nroot: jail\n```\n" + check, `x.md:7: root "jail"`},
		{"unknown placeholder", head + "Your PID: {{pid}}\n" + check, `x.md:6: unknown placeholder {{pid}}`},
		{"placeholder in code", head + "```sh\nps -p {{hostpid}}\n```\n" + check, `x.md:7: unknown placeholder {{hostpid}}`},
		{"placeholder in a hint", head + check + "```hint\n{{nope}}\n```\n", `x.md:10: unknown placeholder {{nope}}`},
		{"placeholder in the intro", "# T\nPID {{host-pid}}\n```lesson\nimage: x\n```\n## S\n" + check, `x.md:2: {{host-pid}} before the first step`},
		{"line without text", head + "```check\nmerged line /a\n```\n", `x.md:7: check "merged line /a": merged line: want PATH TEXT`},
		{"process path", head + "```check\ncontainer process /bin/sleep\n```\n", `x.md:7: check "container process /bin/sleep": process "/bin/sleep": want a command name`},
		{"process too long", head + "```check\ncontainer process abcdefghijklmnopq\n```\n", `write "abcdefghijklmno"`},
		{"process elsewhere", head + "```check\nmerged process sleep\n```\n", `merged process: process is checked only in container`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.md", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestHasLine(t *testing.T) {
	b := []byte("12\n1\n  3\nlast")
	for _, tc := range []struct {
		text string
		want bool
	}{{"1", true}, {"12", true}, {"2", false}, {"3", false}, {"  3", true}, {"last", true}, {"", false}} {
		if got := hasLine(b, tc.text); got != tc.want {
			t.Errorf("hasLine(%q) = %v; want %v", tc.text, got, tc.want)
		}
	}
	if !hasLine([]byte("a\n\nb\n"), "") {
		t.Error("an empty line is not found")
	}
}

// TestProcessCheck evaluates process checks on a /proc laid out as the
// kernel's (a PID namespace's is this, seen through the container's
// root), and on this host's own /proc, where the test is a process.
func TestProcessCheck(t *testing.T) {
	root := t.TempDir()
	for pid, stat := range map[string]string{
		"1":  "1 (sh) S 0 1 1 34816 1 4194560",
		"6":  "6 (sh) S 0 6 6 34817 6 4194560",
		"11": "11 (sleep) S 6 11 6 34817 6 1077936128",
		"12": "12 (a (b) c) R 6 12 6",
		"14": "14 (zombie) Z 6 14 6",
		"15": "garbage",
	} {
		write(t, filepath.Join(root, "proc", pid, "stat"), stat+"\n")
	}
	must(t, os.MkdirAll(filepath.Join(root, "proc", "self"), 0o755))
	write(t, filepath.Join(root, "proc", "meminfo"), "MemTotal: 1 kB\n")
	env := Env{Root: root}
	for _, tc := range []struct {
		check string
		ok    bool
		got   string
	}{
		{"container process sleep", true, ""},
		{"container process sh", true, ""},
		{"container process a (b) c", true, ""},
		{"container process zombie", false, "1 sh, 6 sh, 11 sleep, 12 a (b) c"},
		{"not container process sleep", false, "sleep is PID 11"},
		{"container process cat", false, "1 sh, 6 sh, 11 sleep, 12 a (b) c"},
	} {
		c, err := parseCheck(strings.Replace(tc.check, "a (b) c", `"a (b) c"`, 1))
		must(t, err)
		r := c.Eval(env)
		if r.OK != tc.ok || (tc.got != "" && r.Got != tc.got) {
			t.Errorf("%s: %v, %q; want %v, %q", tc.check, r.OK, r.Got, tc.ok, tc.got)
		}
	}
	c, err := parseCheck("container process lesson.test")
	must(t, err)
	if r := c.Eval(Env{Root: "/"}); !r.OK {
		t.Errorf("this test is not a process of the host's /proc: %s", r.Got)
	}
	if r := c.Eval(Env{}); r.OK || !strings.Contains(r.Got, "is the container running?") {
		t.Errorf("with no container: %v, %q", r.OK, r.Got)
	}
}

// TestLineCheck is line against contains: a whole line, where contains
// finds the text anywhere.
func TestLineCheck(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "tmp", "pids.txt"), "12\n14\n")
	env := Env{Root: root}
	for _, tc := range []struct {
		check string
		ok    bool
	}{
		{"merged contains /tmp/pids.txt 1", true},
		{"merged line /tmp/pids.txt 1", false},
		{"merged line /tmp/pids.txt 12", true},
		{"not merged line /tmp/pids.txt 1", true},
		{"merged line /tmp 12", false},
		{"merged line /tmp/none 12", false},
	} {
		c, err := parseCheck(tc.check)
		must(t, err)
		if r := c.Eval(env); r.OK != tc.ok {
			t.Errorf("%s: %v (%s); want %v", tc.check, r.OK, r.Got, tc.ok)
		}
	}
}

// TestNamespaceLessons finds the pivot_root and PID namespace lessons in
// the set the binary carries, tenth and eleventh, with the containers
// their steps run on.
func TestNamespaceLessons(t *testing.T) {
	fsys, err := demo.Lessons()
	if err != nil {
		t.Fatal(err)
	}
	ls, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, hostname string
		roots                []string
	}{
		{"pivot-root", "10-pivot-root.md", "box", []string{"", "", "chroot", "chroot", "no-pivot"}},
		{"pid-namespace", "11-pid-namespace.md", "", []string{"", "", "", ""}},
	} {
		l, ok := Find(ls, tc.name)
		if !ok {
			t.Errorf("no lesson %s", tc.name)
			continue
		}
		var roots []string
		for _, s := range l.Steps {
			roots = append(roots, s.Root)
		}
		if l.File != tc.file || l.Hostname != tc.hostname || !slices.Equal(roots, tc.roots) {
			t.Errorf("%s: file %s, hostname %q, roots %q; want %s, %q, %q", tc.name, l.File, l.Hostname, roots, tc.file, tc.hostname, tc.roots)
		}
	}
}
