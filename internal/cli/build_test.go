package cli

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/internal/testutil"
)

// buildEnv is a store holding the base image, and a build context.
type buildEnv struct {
	root, ctx string
}

// newBuildEnv makes a store with the base image and an empty context, and
// checks, when the test ends, that no container, mount or cgroup of the
// builds is left.
func newBuildEnv(t *testing.T) *buildEnv {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.CheckMounts(t)
	checkCgroups(t)
	e := &buildEnv{root: filepath.Join(t.TempDir(), "store"), ctx: filepath.Join(t.TempDir(), "ctx")}
	if err := os.Mkdir(e.ctx, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := cli(t, e.root, "image", "create-base"); code != 0 {
		t.Fatalf("create-base: %s", stderr)
	}
	t.Cleanup(func() { e.checkTidy(t) })
	return e
}

// write writes files (path: content) into the context, 0644, making their
// directories.
func (e *buildEnv) write(t *testing.T, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(e.ctx, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// build runs minidocker build with args and the context.
func (e *buildEnv) build(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return cli(t, e.root, append(append([]string{"build"}, args...), e.ctx)...)
}

// mustBuild builds and parses the output of a build that must succeed.
func (e *buildEnv) mustBuild(t *testing.T, args ...string) buildOutput {
	t.Helper()
	code, stdout, stderr := e.build(t, args...)
	if code != 0 || stderr != "" {
		t.Fatalf("build %s: exit %d, stderr %q\n%s", strings.Join(args, " "), code, stderr, stdout)
	}
	out := parseBuild(t, stdout)
	if out.built == "" {
		t.Fatalf("build %s: no \"Successfully built\" line:\n%s", strings.Join(args, " "), stdout)
	}
	return out
}

// checkTidy fails the test if a build left a container, a work directory
// (anything under ROOT/build but the hash cache), or a file in the
// store's temporary directory.
func (e *buildEnv) checkTidy(t *testing.T) {
	t.Helper()
	if code, stdout, _ := cli(t, e.root, "ps", "-a", "-q"); code != 0 || stdout != "" {
		t.Errorf("containers left behind: %q", stdout)
	}
	for dir, allowed := range map[string][]string{"build": {"hashes.json"}, "tmp": nil} {
		ents, _ := os.ReadDir(filepath.Join(e.root, dir))
		for _, ent := range ents {
			if !slices.Contains(allowed, ent.Name()) {
				t.Errorf("left in the store's %s/: %s", dir, ent.Name())
			}
		}
	}
}

// checkNoOrphans fails the test if gc finds anything to delete: every
// blob and layer a build wrote is an image's, cached or named.
func (e *buildEnv) checkNoOrphans(t *testing.T) {
	t.Helper()
	code, stdout, stderr := cli(t, e.root, "gc")
	if code != 0 || !strings.HasPrefix(stdout, "Deleted 0 blobs and 0 layers\n") {
		t.Errorf("gc after the build: exit %d, %q %q: the build left blobs or layers no image holds", code, stdout, stderr)
	}
}

// imageNames is what "images" lists, less the creation times.
func (e *buildEnv) imageNames(t *testing.T) []string {
	t.Helper()
	code, stdout, stderr := cli(t, e.root, "images")
	if code != 0 {
		t.Fatalf("images: %s", stderr)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n")[1:] {
		out = append(out, strings.Join(strings.Fields(l)[:3], " "))
	}
	return out
}

// buildStep is one step of a build's output.
type buildStep struct {
	n, total  int
	text      string
	cached    bool
	container string // the RUN's container
	output    string // the RUN's output
	id        string // the step's image, "" when it failed
}

type buildOutput struct {
	steps []buildStep
	built string // the final image's short ID
}

// states sums up a build's steps: F for a FROM, H for a cache hit, M for a
// step that was run, X for one that made no image (it failed).
func (o buildOutput) states() string {
	var b strings.Builder
	for _, s := range o.steps {
		switch {
		case strings.HasPrefix(s.text, "FROM "):
			b.WriteByte('F')
		case s.id == "":
			b.WriteByte('X')
		case s.cached:
			b.WriteByte('H')
		default:
			b.WriteByte('M')
		}
	}
	return b.String()
}

var (
	stepRE      = regexp.MustCompile(`^Step (\d+)/(\d+) : (.+)$`)
	idRE        = regexp.MustCompile(`^ ---> ([0-9a-f]{12})$`)
	runningRE   = regexp.MustCompile(`^ ---> Running in ([0-9a-f]{12})$`)
	removedRE   = regexp.MustCompile(`^ ---> Removed intermediate container ([0-9a-f]{12})$`)
	builtRE     = regexp.MustCompile(`^Successfully built ([0-9a-f]{12})$`)
	taggedRE    = regexp.MustCompile(`^Successfully tagged (\S+)$`)
	usingCache  = " ---> Using cache"
	consumedPfx = "[Warning] One or more build-args"
)

// parseBuild reads docker's classic builder output and checks its shape:
// steps numbered from 1 of one total, each ending with its image's ID,
// " ---> Using cache" only before that ID and never with a container, a
// RUN's container removed once its output is over, and any other line
// the output of a RUN that ran.
func parseBuild(t *testing.T, stdout string) buildOutput {
	t.Helper()
	var o buildOutput
	var cur *buildStep
	bad := func(l, why string) { t.Errorf("build output line %q: %s\n%s", l, why, stdout) }
	for _, l := range strings.SplitAfter(stdout, "\n") {
		if l == "" {
			continue
		}
		line := strings.TrimSuffix(l, "\n")
		if m := stepRE.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			total, _ := strconv.Atoi(m[2])
			if n != len(o.steps)+1 || len(o.steps) > 0 && total != o.steps[0].total || n > total {
				bad(line, fmt.Sprintf("after %d steps", len(o.steps)))
			}
			if cur != nil && cur.id == "" && cur.text != "FROM scratch" {
				bad(line, "the step before has no image")
			}
			o.steps = append(o.steps, buildStep{n: n, total: total, text: m[3]})
			cur = &o.steps[len(o.steps)-1]
			continue
		}
		if m := builtRE.FindStringSubmatch(line); m != nil {
			if cur == nil || cur.id != m[1] || cur.n != cur.total {
				bad(line, "not the last step's image")
			}
			o.built, cur = m[1], nil
			continue
		}
		if taggedRE.MatchString(line) && o.built != "" || strings.HasPrefix(line, consumedPfx) && len(o.steps) == 0 {
			continue
		}
		if cur == nil {
			bad(line, "outside a step")
			continue
		}
		switch m := runningRE.FindStringSubmatch(line); {
		case cur.id != "":
			bad(line, "after the step's image")
		case line == usingCache:
			if cur.cached || cur.container != "" {
				bad(line, "twice, or for a step that ran")
			}
			cur.cached = true
		case m != nil:
			if cur.cached || cur.container != "" || !strings.HasPrefix(cur.text, "RUN ") {
				bad(line, "a container for a step that is no RUN, or cached")
			}
			cur.container = m[1]
		case removedRE.MatchString(line):
			if removedRE.FindStringSubmatch(line)[1] != cur.container {
				bad(line, "not the step's container")
			}
		case idRE.MatchString(line):
			cur.id = idRE.FindStringSubmatch(line)[1]
		case cur.container != "":
			cur.output += l
		default:
			bad(line, "output of a step that ran nothing")
		}
	}
	return o
}

// withImage mounts the kernel's overlay of an image's layers, read-only,
// and calls fn with its root.
func withImage(t *testing.T, root, ref string, fn func(dir string)) {
	t.Helper()
	dirs := inspectImage(t, root, ref).LayerDirs
	lower := make([]string, 0, len(dirs)+1)
	for i := len(dirs) - 1; i >= 0; i-- {
		lower = append(lower, dirs[i])
	}
	if len(lower) == 1 {
		lower = append(lower, t.TempDir()) // overlayfs wants two lowers when there is no upper
	}
	mnt := t.TempDir()
	if err := unix.Mount("overlay", mnt, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(lower, ":")); err != nil {
		t.Fatalf("mount overlay of %s: %v", ref, err)
	}
	defer func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	}()
	fn(mnt)
}

// imageTree describes the merged tree of an image, as the kernel's
// overlay of its layers shows it.
func imageTree(t *testing.T, root, ref string) []string {
	t.Helper()
	var tree []string
	withImage(t, root, ref, func(dir string) { tree = describeTree(t, dir) })
	return tree
}

// inspected is what inspect shows of an image, as far as the tests look.
type inspected struct {
	ID             string `json:"Id"`
	ManifestDigest string
	LayerDirs      []string
	Manifest       struct{ Layers []struct{ Digest string } }
	Config         struct {
		Config struct {
			User, WorkingDir      string
			Env, Entrypoint, Cmd  []string
			Labels                map[string]string
			ExposedPorts, Volumes map[string]struct{}
		}
		History []struct {
			CreatedBy  string `json:"created_by"`
			EmptyLayer bool   `json:"empty_layer"`
		}
	}
}

func inspectImage(t *testing.T, root, ref string) inspected {
	t.Helper()
	code, stdout, stderr := cli(t, root, "inspect", ref)
	var out []inspected
	if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil || len(out) != 1 {
		t.Fatalf("inspect %s: exit %d %s", ref, code, stderr)
	}
	return out[0]
}

// describeTree lists every entry under dir, sorted, as one line of what
// a build must reproduce and nothing of when it ran: path, type and mode,
// numeric owner, and a file's size and content hash, a symlink's target,
// a device's numbers, and for a hard link the first path of its inode.
// Directories' sizes and all timestamps are left out.
func describeTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	inodes := map[[2]uint64]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("/%s %s %d:%d", strings.TrimPrefix(rel, "."), info.Mode(), st.Uid, st.Gid)
		switch {
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %d %x", len(b), sha256.Sum256(b))
			if st.Nlink > 1 {
				ino := [2]uint64{st.Dev, st.Ino}
				if first, ok := inodes[ino]; ok {
					line += " link=" + first
				}
				inodes[ino] = "/" + rel
			}
		case info.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			line += " -> " + l
		case info.Mode()&(fs.ModeDevice|fs.ModeCharDevice) != 0:
			line += fmt.Sprintf(" %d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// readIn reads a file of the tree at dir.
func readIn(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Errorf("in the image: %v", err)
	}
	return string(b)
}

// cacheDockerfile is the six steps (FROM base, ENV, WORKDIR, COPY
// of a directory, RUN, CMD) and an ARG the RUN uses.
const cacheDockerfile = `FROM base
ARG WHO=world
ENV GREETING=hello
WORKDIR /app
COPY files/ /app/files/
RUN echo "$GREETING $WHO" >/app/greeting && ls /app/files | wc -l >/app/count
CMD ["/bin/cat", "/app/greeting"]
`

// TestBuildCache rebuilds one Dockerfile after each kind of change to its
// context and flags, and checks which steps the cache answers: a step
// misses when its parent, its instruction, the build args it sees or its
// sources' content or metadata changed, and so does every step after it;
// a file's modification time alone changes nothing.
func TestBuildCache(t *testing.T) {
	e := newBuildEnv(t)
	e.write(t, map[string]string{"Dockerfile": cacheDockerfile,
		"files/f1.txt": "file 1\n", "files/f2.txt": "file 2\n", "files/f3.txt": "file 3\n"})
	f := func(name string) string { return filepath.Join(e.ctx, "files", name) }
	built := map[string]string{} // the final image of each case
	for _, tc := range []struct {
		name   string
		change func(t *testing.T)
		args   []string
		want   string // the steps' states
		same   string // the case whose image this one's must be
		check  func(t *testing.T, dir string)
	}{
		{name: "first build", want: "FMMMMMM", check: func(t *testing.T, dir string) {
			if got := readIn(t, dir, "app/greeting") + readIn(t, dir, "app/count"); got != "hello world\n3\n" {
				t.Errorf("greeting and count %q", got)
			}
		}},
		{name: "unchanged", want: "FHHHHHH", same: "first build"},
		{name: "modification time only", change: func(t *testing.T) {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(f("f1.txt"), later, later); err != nil {
				t.Fatal(err)
			}
		}, want: "FHHHHHH", same: "first build"},
		{name: "content of the same size", change: func(t *testing.T) {
			e.write(t, map[string]string{"files/f1.txt": "FILE 1\n"})
		}, want: "FHHHMMM", check: func(t *testing.T, dir string) {
			if got := readIn(t, dir, "app/files/f1.txt"); got != "FILE 1\n" {
				t.Errorf("f1.txt %q", got)
			}
		}},
		{name: "mode", change: func(t *testing.T) {
			if err := os.Chmod(f("f2.txt"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: "FHHHMMM", check: func(t *testing.T, dir string) {
			if fi, err := os.Lstat(filepath.Join(dir, "app/files/f2.txt")); err != nil {
				t.Error(err)
			} else if fi.Mode() != 0o600 {
				t.Errorf("f2.txt mode %v, want 0600", fi.Mode())
			}
		}},
		// A context's files are copied as 0:0 whoever owns them, so their
		// owner keys nothing (docker's classic builder would miss here).
		{name: "owner", change: func(t *testing.T) {
			if err := os.Chown(f("f2.txt"), 1000, 1000); err != nil {
				t.Fatal(err)
			}
		}, want: "FHHHHHH", same: "mode"},
		{name: "build-arg the RUN uses", args: []string{"--build-arg", "WHO=you"}, want: "FHHHHMM", check: func(t *testing.T, dir string) {
			if got := readIn(t, dir, "app/greeting"); got != "hello you\n" {
				t.Errorf("greeting %q", got)
			}
		}},
		{name: "build-arg back to its default", want: "FHHHHHH", same: "mode"},
		{name: "dockerignore excludes a copied file", change: func(t *testing.T) {
			e.write(t, map[string]string{".dockerignore": "files/f3.txt\n"})
		}, want: "FHHHMMM", check: func(t *testing.T, dir string) {
			if _, err := os.Lstat(filepath.Join(dir, "app/files/f3.txt")); err == nil {
				t.Error("the ignored f3.txt was copied")
			}
			if got := readIn(t, dir, "app/count"); got != "2\n" {
				t.Errorf("count %q", got)
			}
		}},
		{name: "dockerignore excludes a file not copied", change: func(t *testing.T) {
			e.write(t, map[string]string{"other.txt": "x\n", ".dockerignore": "files/f3.txt\nother.txt\n"})
		}, want: "FHHHHHH", same: "dockerignore excludes a copied file"},
		{name: "no-cache", args: []string{"--no-cache"}, want: "FMMMMMM"},
	} {
		// Each case's image is named after it, so that it stays listed.
		tag := fmt.Sprintf("case:%d", len(built))
		t.Run(tc.name, func(t *testing.T) {
			if tc.change != nil {
				tc.change(t)
			}
			out := e.mustBuild(t, append([]string{"-t", tag}, tc.args...)...)
			if got := out.states(); got != tc.want {
				t.Errorf("steps %s, want %s (F FROM, H cache hit, M run, X failed)", got, tc.want)
			}
			built[tc.name] = out.built
			if tc.same != "" && out.built != built[tc.same] {
				t.Errorf("built %s, want the image of %q, %s", out.built, tc.same, built[tc.same])
			}
			if tc.check != nil {
				withImage(t, e.root, tag, func(dir string) { tc.check(t, dir) })
			}
		})
	}
	// --no-cache made every step again: another image, the same files.
	want := "dockerignore excludes a copied file"
	if built["no-cache"] == built[want] {
		t.Errorf("--no-cache gave the cached image %s", built[want])
	}
	if diff := cmp.Diff(imageTree(t, e.root, built[want]), imageTree(t, e.root, built["no-cache"])); diff != "" {
		t.Errorf("--no-cache built other files than the cached build (-cached +no-cache):\n%s", diff)
	}
}
