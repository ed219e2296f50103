package buildctx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newContextDir makes a context beside a file outside it, so that links
// that leave the context have something to reach.
func newContextDir(t *testing.T, files map[string]string) string {
	t.Helper()
	top := t.TempDir()
	writeTree(t, top, map[string]string{"outside.txt": "outside"})
	dir := filepath.Join(top, "ctx")
	writeTree(t, dir, files)
	return dir
}

var sourceTree = map[string]string{
	"a.txt":        "a",
	"b.txt":        "b",
	"c.md":         "c",
	".hidden.txt":  "h",
	"sub/x.go":     "x",
	"sub/y.go":     "y",
	"sub/deep/z":   "z",
	"other/x.go":   "x2",
	"empty/":       "",
	"linkdir":      "->sub",
	"linkfile":     "->sub/x.go",
	"linkup":       "->sub/deep/../../a.txt",
	"link-out":     "->../outside.txt",
	"link-abs":     "->/etc/passwd",
	"sub/link-out": "->../../outside.txt",
	"loop1":        "->loop2",
	"loop2":        "->loop1",
	"dangling":     "->nowhere",
}

func TestSources(t *testing.T) {
	c := openCtx(t, newContextDir(t, sourceTree))
	tests := []struct {
		name     string
		patterns []string
		want     []Source
		wantErr  error
		errHas   string
	}{
		{"file", []string{"a.txt"}, []Source{{"a.txt", "a.txt", false}}, nil, ""},
		{"leading slash is the context root", []string{"/a.txt"}, []Source{{"a.txt", "a.txt", false}}, nil, ""},
		{"dot slash", []string{"./sub/./x.go"}, []Source{{"sub/x.go", "sub/x.go", false}}, nil, ""},
		{"dir", []string{"sub/"}, []Source{{"sub", "sub", true}}, nil, ""},
		{"root", []string{"."}, []Source{{".", ".", true}}, nil, ""},
		{"empty dir", []string{"empty"}, []Source{{"empty", "empty", true}}, nil, ""},
		{"inner dotdot", []string{"sub/../a.txt"}, []Source{{"a.txt", "a.txt", false}}, nil, ""},
		{"symlink to dir", []string{"linkdir"}, []Source{{"linkdir", "sub", true}}, nil, ""},
		{"through symlink dir", []string{"linkdir/deep/z"}, []Source{{"linkdir/deep/z", "sub/deep/z", false}}, nil, ""},
		{"symlink to file", []string{"linkfile"}, []Source{{"linkfile", "sub/x.go", false}}, nil, ""},
		{"symlink with dotdot inside", []string{"linkup"}, []Source{{"linkup", "a.txt", false}}, nil, ""},
		{"star", []string{"*.txt"}, []Source{{".hidden.txt", ".hidden.txt", false}, {"a.txt", "a.txt", false}, {"b.txt", "b.txt", false}}, nil, ""},
		{"question and class", []string{"[ab].tx?"}, []Source{{"a.txt", "a.txt", false}, {"b.txt", "b.txt", false}}, nil, ""},
		{"star in a directory", []string{"sub/*.go"}, []Source{{"sub/x.go", "sub/x.go", false}, {"sub/y.go", "sub/y.go", false}}, nil, ""},
		// a symlink to a directory is matched, not descended into
		{"star across directories", []string{"*/x.go"}, []Source{{"other/x.go", "other/x.go", false}, {"sub/x.go", "sub/x.go", false}}, nil, ""},
		{"star after a symlinked dir", []string{"linkdir/*.go"}, []Source{{"linkdir/x.go", "sub/x.go", false}, {"linkdir/y.go", "sub/y.go", false}}, nil, ""},
		{"star matches a symlink", []string{"linkd*"}, []Source{{"linkdir", "sub", true}}, nil, ""},
		{"wildcard matching nothing beside a file", []string{"*.none", "c.md"}, []Source{{"c.md", "c.md", false}}, nil, ""},
		{"order kept", []string{"c.md", "a.txt"}, []Source{{"c.md", "c.md", false}, {"a.txt", "a.txt", false}}, nil, ""},
		{"wildcard matching nothing", []string{"*.none"}, nil, ErrNoSources, "no source files were specified"},
		{"missing", []string{"missing.txt"}, nil, ErrNotFound,
			"file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist"},
		{"dangling symlink", []string{"dangling"}, nil, ErrNotFound, "stat dangling: file does not exist"},
		{"file as a directory", []string{"a.txt/x"}, nil, nil, "not a directory"},
		{"dotdot", []string{"../outside.txt"}, nil, ErrOutside, `"../outside.txt"`},
		{"dotdot inside", []string{"sub/../../outside.txt"}, nil, ErrOutside, `"sub/../../outside.txt"`},
		{"absolute with dotdot", []string{"/../outside.txt"}, nil, ErrOutside, `"/../outside.txt"`},
		{"symlink leading out", []string{"link-out"}, nil, ErrOutside, `symlink "link-out" leads to "../outside.txt"`},
		{"nested symlink leading out", []string{"sub/link-out"}, nil, ErrOutside, `symlink "sub/link-out"`},
		{"absolute symlink", []string{"link-abs"}, nil, ErrOutside, `"/etc/passwd"`},
		{"glob reaching a symlink that leads out", []string{"sub/link-*"}, nil, ErrOutside, `symlink "sub/link-out"`},
		{"symlink loop", []string{"loop1"}, nil, nil, "too many levels of symbolic links"},
		{"bad pattern", []string{"a[.txt"}, nil, nil, "syntax error in pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Sources(tt.patterns)
			if tt.wantErr == nil && tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Sources(%q) (-want +got):\n%s", tt.patterns, diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("Sources(%q) = %v, want an error", tt.patterns, got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not say %q", err, tt.errHas)
			}
		})
	}
}

// TestSourcesStage checks a stage's root: symlinks resolve as if it were
// /, an absolute one too, and ".." stops at the root; a path written with
// ".." that climbs out is still refused.
func TestSourcesStage(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"etc/passwd":     "root:x:0:0::/root:/bin/sh\n",
		"usr/bin/tool":   "tool",
		"bin":            "->usr/bin",
		"abs":            "->/etc/passwd",
		"up":             "->../../../../etc",
		"usr/lib/escape": "->../../../../../../outside",
	})
	c, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		pattern string
		want    Source
		errHas  string
	}{
		{"/bin/tool", Source{"bin/tool", "usr/bin/tool", false}, ""},
		{"/abs", Source{"abs", "etc/passwd", false}, ""},
		{"/up/passwd", Source{"up/passwd", "etc/passwd", false}, ""},
		{"/usr/lib/escape", Source{}, "stat usr/lib/escape: file does not exist"},
		{"/../etc/passwd", Source{}, "path outside the build context"},
	}
	for _, tt := range tests {
		got, err := c.Sources([]string{tt.pattern})
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("Sources(%q) error %v, want one saying %q", tt.pattern, err, tt.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("Sources(%q): %v", tt.pattern, err)
			continue
		}
		if diff := cmp.Diff([]Source{tt.want}, got); diff != "" {
			t.Errorf("Sources(%q) (-want +got):\n%s", tt.pattern, diff)
		}
	}
}

func TestDockerignore(t *testing.T) {
	files := map[string]string{
		"a.txt":              "a",
		"debug.log":          "d",
		"keep.log":           "k",
		"secret.key":         "s",
		"to-secret":          "->secret.key",
		"build/out/app":      "app",
		"build/out/app.map":  "map",
		"build/tmp/x":        "x",
		"docs/readme":        "r",
		"docs/keep":          "k",
		"src/a.tmp":          "t",
		"src/main.go":        "m",
		"src/deep/b.tmp":     "t",
		"node_modules/pkg/x": "x",
	}
	ignore := strings.Join([]string{
		"# comments and blank lines are skipped",
		"",
		"*.log",
		"!keep.log",
		"secret.key",
		"build",
		"!build/out/app",
		"docs",
		"!**/keep", // docker does not reach into an excluded dir for this one
		"**/*.tmp",
		"/node_modules",
	}, "\n")
	dir := newContextDir(t, files)
	writeTree(t, dir, map[string]string{".dockerignore": ignore})
	c := openCtx(t, dir)
	tests := []struct {
		patterns []string
		want     []string // files covered, or nil for ErrNotFound
	}{
		// src/deep is there, empty: only its file is excluded
		{[]string{"."}, []string{"./", ".dockerignore", "a.txt", "build/", "build/out/", "build/out/app", "keep.log", "src/", "src/deep/", "src/main.go", "to-secret"}},
		{[]string{"debug.log"}, nil},
		{[]string{"keep.log"}, []string{"keep.log"}},
		{[]string{"secret.key"}, nil},
		{[]string{"to-secret"}, nil}, // the link is there, what it leads to is not
		{[]string{"build"}, []string{"build/", "build/out/", "build/out/app"}},
		{[]string{"build/out/app"}, []string{"build/out/app"}},
		{[]string{"build/out/app.map"}, nil},
		{[]string{"build/tmp"}, nil},
		{[]string{"docs/readme"}, nil},
		{[]string{"docs/keep"}, nil},
		{[]string{"src/deep/b.tmp"}, nil},
		{[]string{"node_modules/pkg/x"}, nil},
		{[]string{"*.log"}, []string{"keep.log"}},
		{[]string{"build/*/*"}, []string{"build/out/app"}},
		{[]string{"src"}, []string{"src/", "src/deep/", "src/main.go"}},
		{[]string{"src/deep"}, []string{"src/deep/"}},
	}
	for _, tt := range tests {
		srcs, err := c.Sources(tt.patterns)
		if tt.want == nil {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Sources(%q) = %v, %v; want ErrNotFound", tt.patterns, srcs, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Sources(%q): %v", tt.patterns, err)
			continue
		}
		if diff := cmp.Diff(tt.want, contextFiles(t, c, srcs)); diff != "" {
			t.Errorf("files of %q (-want +got):\n%s", tt.patterns, diff)
		}
	}
	if diff := cmp.Diff([]string{"*.log", "!keep.log", "secret.key", "build", "!build/out/app", "docs", "!**/keep", "**/*.tmp", "node_modules"}, c.Excludes()); diff != "" {
		t.Errorf("Excludes (-want +got):\n%s", diff)
	}
}

// TestDockerfileIgnore checks that a Dockerfile's own ignore file beside
// it wins over the context's, as BuildKit reads them.
func TestDockerfileIgnore(t *testing.T) {
	dir := newContextDir(t, map[string]string{
		"a.txt":         "a",
		"b.txt":         "b",
		".dockerignore": "a.txt\n",
	})
	df := filepath.Join(t.TempDir(), "app.Dockerfile")
	for _, tt := range []struct {
		own     string // "" for no file of its own
		missing string
	}{
		{"", "a.txt"},
		{"b.txt\n", "b.txt"},
	} {
		if tt.own != "" {
			if err := os.WriteFile(df+".dockerignore", []byte(tt.own), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		c, err := Open(dir, df)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Sources([]string{tt.missing}); !errors.Is(err, ErrNotFound) {
			t.Errorf("own ignore file %q: %s is there (err %v)", tt.own, tt.missing, err)
		}
		c.Close()
	}
	// the matcher itself finds the second only when it first matches a path
	for _, bad := range []string{"!", "a.txt\n0*["} {
		if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, ""); err == nil || !strings.Contains(err.Error(), ".dockerignore") {
			t.Errorf("bad pattern %q: %v, want an error naming .dockerignore", bad, err)
		}
	}
}
