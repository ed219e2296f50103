package engine

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"minidocker/internal/testutil"
)

func TestMain(m *testing.M) {
	if IsInit() {
		Init() // never returns
	}
	// The tests' cgroups live apart from other users' of the engine, so
	// that checkCgroups sees only theirs; a starter subprocess of a test
	// inherits the name.
	if os.Getenv(cgroupParentEnv) == "" {
		os.Setenv(cgroupParentEnv, "minidocker-test-"+strconv.Itoa(os.Getpid()))
	}
	os.Exit(m.Run())
}

// cgroupParentEnv names the cgroup parent of the tests' engines.
const cgroupParentEnv = "ENGINE_TEST_CGROUP_PARENT"

// testOptions are the options of an engine of the tests, on root.
func testOptions(root string) Options {
	return Options{Root: root, CgroupParent: os.Getenv(cgroupParentEnv)}
}

// busyboxLayer makes a bottom layer with a static busybox, its applets as
// symbolic links and the directories a root file system needs.
func busyboxLayer(t testing.TB, dir string) string {
	t.Helper()
	bb := testutil.RequireTool(t, "busybox")
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"sh", "echo", "cat", "ls", "true", "false", "sleep", "hostname", "stty",
		"mkdir", "rm", "touch", "head", "tail", "stat", "id", "ps", "wc", "grep", "dd", "readlink", "yes", "tr", "env", "kill",
		"awk", "seq", "sort", "cut", "mount", "ip"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "shadowed"), []byte("lower\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fixture is a two-layer image: busybox, and a layer shadowing a file.
type fixture struct {
	root   string
	layers []string
}

// newFixture makes an engine root and its layers in a fresh directory.
func newFixture(t testing.TB) fixture {
	t.Helper()
	tmp := t.TempDir()
	bottom := busyboxLayer(t, filepath.Join(tmp, "layers", "l0"))
	top := filepath.Join(tmp, "layers", "l1")
	if err := os.MkdirAll(filepath.Join(top, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, "etc", "shadowed"), []byte("upper layer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, "etc", "lowerfile"), []byte("from l1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return fixture{root: filepath.Join(tmp, "root"), layers: []string{bottom, top}}
}

// open starts an engine on the fixture, and checks at the end of the test
// that the mount table and the cgroup tree are as they were.
func (f fixture) open(t testing.TB) *Engine {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	e, err := Open(testOptions(f.root))
	if err != nil {
		t.Fatal(err)
	}
	checkCgroups(t, e.Cgroups())
	return e
}

// cgroupTree lists the directories of our part of every hierarchy.
func cgroupTree(h Hierarchies) []string {
	var roots []string
	for _, r := range []string{h.Unified, h.Hybrid} {
		if r != "" {
			roots = append(roots, r)
		}
	}
	for _, mp := range h.V1 {
		roots = append(roots, mp)
	}
	var dirs []string
	for _, r := range roots {
		filepath.WalkDir(filepath.Join(r, h.parent()), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	slices.Sort(dirs)
	return slices.Compact(dirs)
}

// checkCgroups fails the test if it leaves a cgroup of ours behind that was
// not there before.
func checkCgroups(t testing.TB, h Hierarchies) {
	t.Helper()
	before := cgroupTree(h)
	t.Cleanup(func() {
		var added []string
		for _, d := range cgroupTree(h) {
			if !slices.Contains(before, d) {
				added = append(added, d)
			}
		}
		if len(added) > 0 {
			t.Errorf("cgroups left behind: %q", added)
		}
	})
}

// result is what a container run printed and its exit code.
type result struct {
	out  string
	code int
	st   State
}

// run creates a container from spec, runs it attached with stdin as
// input, and removes it.
func (f fixture) run(t testing.TB, e *Engine, spec Spec, stdin string) result {
	t.Helper()
	if spec.Layers == nil {
		spec.Layers = f.layers
	}
	st, err := e.Create(spec)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() {
		if _, err := e.Remove(st.ID, true); err != nil && !errors.Is(err, ErrNotFound) {
			t.Errorf("remove: %v", err)
		}
	})
	sess, err := e.Start(st.ID, true)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer sess.Close()
	if stdin != "" {
		go func() {
			io.Copy(sess, strings.NewReader(stdin))
			sess.CloseStdin()
		}()
	}
	var out bytes.Buffer
	code, err := sess.Wait(&out, &out)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	st, err = e.Get(st.ID)
	if err != nil {
		t.Fatal(err)
	}
	return result{out: out.String(), code: code, st: st}
}

// sh is a spec running a shell script.
func sh(script string) Spec {
	return Spec{Process: Process{Args: []string{"/bin/sh", "-c", script}}}
}

// waitFor waits up to ten seconds for cond, failing the test with what when
// it does not hold by then.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hasStatus is a condition for waitFor: the container's status is want.
func hasStatus(e *Engine, ref string, want Status) func() bool {
	return func() bool {
		s, err := e.Get(ref)
		return err == nil && s.Status == want
	}
}
