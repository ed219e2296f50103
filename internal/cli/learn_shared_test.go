package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/engine"
	"minidocker/internal/app"
	"minidocker/internal/lesson"
	"minidocker/internal/testutil"
)

// sharedLesson is a lesson of three containers on the default image.
const sharedLesson = "# Shared\n```lesson\nimage: base\ncontainers: 3\n```\n## S\n```check\nmeter containers 3\n```\n"

// learnNames are the containers of the store whose name starts with
// learn-, sorted, and whether each runs.
func learnNames(t *testing.T, e *engine.Engine) []string {
	t.Helper()
	all, err := e.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range all {
		if strings.HasPrefix(st.Name(), "learn-") {
			out = append(out, st.Name()+" "+string(st.Status))
		}
	}
	slices.Sort(out)
	return out
}

// TestLessonContainers starts a lesson of three containers on real
// containers: the two beside the student's run the same image, the meter
// the checks read counts them as the UI's meter line does, a new
// container (F5) makes all three again, and ending the lesson removes
// them all, with the stale ones an earlier run left, and nothing else.
func TestLessonContainers(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	checkCgroups(t)
	root := filepath.Join(t.TempDir(), "store")
	a := app.New(root)
	s, err := a.Images()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBase(); err != nil {
		t.Fatal(err)
	}
	e, err := a.Engine()
	if err != nil {
		t.Fatal(err)
	}
	l, err := lesson.Parse("12-shared.md", []byte(sharedLesson))
	if err != nil {
		t.Fatal(err)
	}
	// A sibling an earlier run with more containers left, and two
	// containers that are no sibling of this lesson's.
	for _, name := range []string{"learn-shared-5", "learn-shared-extra", "learn-sharedx-2"} {
		if code, _, stderr := cli(t, root, "create", "--name", name, "base", "/bin/sh"); code != 0 {
			t.Fatalf("create %s: %s", name, stderr)
		}
	}
	t.Cleanup(func() {
		for _, name := range []string{"learn-shared", "learn-shared-2", "learn-shared-3", "learn-shared-5", "learn-shared-extra", "learn-sharedx-2"} {
			cli(t, root, "rm", "-f", name)
		}
	})
	others := []string{"learn-shared-extra created", "learn-sharedx-2 created"}
	all := append([]string{"learn-shared running", "learn-shared-2 running", "learn-shared-3 running"}, others...)
	slices.Sort(all)

	id, err := a.StartLesson(context.Background(), l, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(all, learnNames(t, e)); d != "" {
		t.Errorf("containers after the start (-want +got):\n%s", d)
	}

	env, err := a.LessonEnv(id)
	if err != nil {
		t.Fatal(err)
	}
	// The meter counts every container of the image: the other two too.
	before := readMeter(t, env)
	if before.Containers != 5 || before.Savings < 0.75 {
		t.Errorf("meter %v: want 5 containers and about four fifths saved", before)
	}
	// The UI's meter line reads the same figures.
	line, err := a.UISources().Meter.ContainerMeter(id)
	if err != nil {
		t.Fatal(err)
	}
	if line.Containers != before.Containers || line.SelfUpper != before.Self || line.Savings != before.Savings {
		t.Errorf("the meter line reads %+v, the checks %v", line, before)
	}
	// A write in the student's container grows its upper alone.
	if err := os.WriteFile(filepath.Join(env.Root, "big.bin"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	after := readMeter(t, env)
	if after.Self < before.Self+1<<20 || after.Others != before.Others || after.Savings >= before.Savings {
		t.Errorf("after a 1 MiB write: meter %v, before %v", after, before)
	}

	// A new container (F5): all three made again.
	id2, err := a.StartLesson(context.Background(), l, false)
	if err != nil {
		t.Fatal(err)
	}
	if id2 == id {
		t.Errorf("the new container has the old one's ID")
	}
	if d := cmp.Diff(all, learnNames(t, e)); d != "" {
		t.Errorf("containers after a new container (-want +got):\n%s", d)
	}

	if err := a.EndLesson(id2); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(others, learnNames(t, e)); d != "" {
		t.Errorf("containers after the lesson (-want +got):\n%s", d)
	}
	// By name, as the CLI ends a lesson once the UI has quit: nothing
	// left is no error.
	if err := a.EndLesson(app.LessonContainer(l)); err != nil {
		t.Errorf("EndLesson of a lesson already ended: %v", err)
	}
}

func readMeter(t *testing.T, env lesson.Env) lesson.MeterReading {
	t.Helper()
	r, err := env.Meter.ReadMeter()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLessonWastedIsAnalyze checks that a lesson's wasted check reads
// what `minidocker analyze` says of the same container, after a delete
// and a replacement of files of its image.
func TestLessonWastedIsAnalyze(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	checkCgroups(t)
	root := filepath.Join(t.TempDir(), "store")
	a := app.New(root)
	l, err := lesson.Parse("13-wasted.md", []byte("# W\n```lesson\nimage: base\n```\n## S\n```check\ncommit wasted /etc/passwd\n```\n"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.StartLesson(context.Background(), l, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.EndLesson(id) })
	env, err := a.LessonEnv(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(env.Root, "etc/passwd")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(env.Root, "etc/group"), []byte("g\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := lesson.Analyze(env)
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.OpenStack(id, false)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s.Merged.Efficiency(), got); d != "" {
		t.Errorf("the lesson's analysis against analyze's (-analyze +lesson):\n%s", d)
	}
	if !lesson.Done(l.Steps[0].Eval(env)) {
		t.Errorf("commit wasted /etc/passwd does not hold after rm /etc/passwd")
	}
}
