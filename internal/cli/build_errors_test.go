package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// storeFiles lists the store's blobs and unpacked layers, to tell what a
// build added.
func storeFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"oci/blobs/sha256", "layers", "l"} {
		ents, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, ent := range ents {
			out = append(out, dir+"/"+ent.Name())
		}
	}
	return out
}

// added returns what after holds and before does not.
func added(before, after []string) []string {
	var out []string
	for _, f := range after {
		if !slices.Contains(before, f) {
			out = append(out, f)
		}
	}
	return out
}

// TestBuildFailedRun fails a build at its third step, a RUN that writes a
// file and exits 7: the build exits 7 with the RUN's output and docker's
// message, and leaves the store as it was but for the image of step 2,
// kept in the cache: no container, mount, work directory, layer or named
// image. A rebuild uses the cache for the steps before the failure, and
// once the RUN is fixed, the build goes on from it.
func TestBuildFailedRun(t *testing.T) {
	e := newBuildEnv(t)
	run := `echo to-stdout; echo to-stderr >&2; echo made >/made; exit 7`
	e.write(t, map[string]string{"Dockerfile": "FROM base\nENV STAGE=one\nRUN " + run + "\nCMD [\"cat\", \"/made\"]\n"})
	names, files := e.imageNames(t), storeFiles(t, e.root)

	failed := func(wantStates string) buildOutput {
		t.Helper()
		code, stdout, stderr := e.build(t, "-t", "never")
		if want := "minidocker: the command '/bin/sh -c " + run + "' returned a non-zero code: 7\n"; code != 7 || stderr != want {
			t.Errorf("exit %d, stderr %q; want 7, %q", code, stderr, want)
		}
		out := parseBuild(t, stdout)
		if got := out.states(); got != wantStates || out.built != "" {
			t.Fatalf("steps %s, built %q; want %s (X the failed step) and no image:\n%s", got, out.built, wantStates, stdout)
		}
		if s := out.steps[2]; s.container == "" || !strings.Contains(s.output, "to-stdout\n") || !strings.Contains(s.output, "to-stderr\n") {
			t.Errorf("step 3 shows no container, or not the RUN's output, or an image:\n%s", stdout)
		}
		e.checkTidy(t)
		e.checkNoOrphans(t)
		if got := e.imageNames(t); !slices.Equal(got, names) {
			t.Errorf("images %q, want %q", got, names)
		}
		return out
	}

	out := failed("FMX")
	// What the build added is step 2's image, ENV's: a config, named by
	// the step's ID, and a manifest; no layer.
	newFiles := added(files, storeFiles(t, e.root))
	if len(newFiles) != 2 || !slices.ContainsFunc(newFiles, func(f string) bool {
		return strings.HasPrefix(f, "oci/blobs/sha256/"+out.steps[1].id)
	}) {
		t.Errorf("the failed build added %q; want step 2's config (%s) and manifest", newFiles, out.steps[1].id)
	}
	files = storeFiles(t, e.root)

	// Again: step 2 comes from the cache, and a failed RUN adds nothing.
	again := failed("FHX")
	if again.steps[1].id != out.steps[1].id {
		t.Errorf("step 2 from the cache is %s, want %s", again.steps[1].id, out.steps[1].id)
	}
	if diff := cmp.Diff(files, storeFiles(t, e.root)); diff != "" {
		t.Errorf("the second failed build changed the store (-before +after):\n%s", diff)
	}

	e.write(t, map[string]string{"Dockerfile": "FROM base\nENV STAGE=one\nRUN " + strings.Replace(run, "exit 7", "exit 0", 1) + "\nCMD [\"cat\", \"/made\"]\n"})
	fixed := e.mustBuild(t, "-t", "fixed")
	if got := fixed.states(); got != "FHMM" || fixed.steps[1].id != out.steps[1].id {
		t.Errorf("after the fix: steps %s, step 2 %s; want FHMM, %s", got, fixed.steps[1].id, out.steps[1].id)
	}
	if code, stdout, stderr := cli(t, e.root, "run", "--rm", "fixed"); code != 0 || stdout != "made\n" {
		t.Errorf("run fixed: exit %d, %q %q", code, stdout, stderr)
	}
}

// TestBuildErrors checks builds that cannot be done: each fails with one
// line naming the file and line at fault (or the flag), docker's exit
// code (125 for a Dockerfile or flags that are wrong, 1 for a step that
// fails), after the steps before it, and writes nothing but their images.
func TestBuildErrors(t *testing.T) {
	e := newBuildEnv(t)
	// A file beside the context, for a source that climbs out of it.
	if err := os.WriteFile(filepath.Join(filepath.Dir(e.ctx), "outside"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.write(t, map[string]string{"secret": "s\n", ".dockerignore": "secret\n",
		"custom.Dockerfile": "FROM base\nHEALTHCHECK CMD true\n"})
	names := e.imageNames(t)
	for _, tc := range []struct {
		name       string
		dockerfile string
		args       []string
		code       int
		msg        string // stderr, less "minidocker: " and the newline
		states     string // of the steps up to the error (X, the one at fault)
	}{
		{"unsupported instruction", "FROM base\nENV A=1\nHEALTHCHECK CMD true\n", nil,
			125, "Dockerfile:3: HEALTHCHECK is not supported by minidocker build", ""},
		{"unsupported instruction in a file given with -f", "", []string{"-f", "<ctx>/custom.Dockerfile"},
			125, "custom.Dockerfile:2: HEALTHCHECK is not supported by minidocker build", ""},
		{"ONBUILD", "FROM base\nONBUILD RUN true\n", nil, 125, "Dockerfile:2: ONBUILD is not supported by minidocker build", ""},
		{"RUN --mount", "FROM base\n\nRUN --mount=type=cache,target=/c true\n", nil,
			125, "Dockerfile:3: RUN --mount is not supported by minidocker build", ""},
		{"unknown instruction", "FROM base\nFROBNICATE x\n", nil, 125, "Dockerfile:2: unknown instruction: FROBNICATE", ""},
		{"instruction before FROM", "ENV A=1\nFROM base\n", nil, 125, "Dockerfile:1: no build stage in current context", ""},
		{"empty Dockerfile", "", nil, 125, "the Dockerfile (Dockerfile) cannot be empty", ""},
		{"only comments", "# nothing\n", nil, 125, "Dockerfile:1: file with no instructions", ""},
		{"unknown target", "FROM base\n", []string{"--target", "nosuch"}, 125, `target stage "nosuch" could not be found`, ""},
		{"bad build-arg", "FROM base\n", []string{"--build-arg", "=x"}, 125, `build: --build-arg "=x": want KEY=VALUE`, ""},
		{"no Dockerfile", "FROM base\n", []string{"-f", "<ctx>/nosuch"}, 1, "build: open <ctx>/nosuch: no such file or directory", ""},
		{"COPY of a missing source", "FROM base\nENV A=1\nCOPY nosuch /x\n", nil, 1,
			"Dockerfile:3: COPY failed: file not found in build context or excluded by .dockerignore: stat nosuch: file does not exist", "FMX"},
		{"COPY of an ignored source", "FROM base\nCOPY secret /x\n", nil, 1,
			"Dockerfile:2: COPY failed: file not found in build context or excluded by .dockerignore: stat secret: file does not exist", "FX"},
		{"COPY from outside the context", "FROM base\nCOPY ../outside /\n", nil, 1,
			`Dockerfile:2: COPY failed: source "../outside": path outside the build context`, "FX"},
		{"ADD of a URL", "FROM base\nADD https://example.com/x /x\n", nil, 1,
			"Dockerfile:2: ADD of a URL or git repository is not supported by minidocker build", "FX"},
		{"FROM an image not in the store", "FROM nosuchimage\nRUN true\n", nil, 1, "Dockerfile:1: image nosuchimage: not found", "F"},
		{"COPY --from an image not in the store", "FROM base\nCOPY --from=nosuchimage /x /y\n", nil, 1,
			"Dockerfile:2: COPY failed: image nosuchimage: not found", "FX"},
		{"RUN in an empty scratch stage", "FROM scratch\nRUN true\n", nil, 1,
			"Dockerfile:2: RUN needs files to run: the stage is FROM scratch with nothing copied in", "FX"},
		{"RUN of a command not found", "FROM base\nENV A=2\nRUN [\"/nonexistent\"]\n", nil, 1,
			`Dockerfile:3: exec "/nonexistent": no such file or directory`, "FMX"},
		{"RUN as an unknown user", "FROM base\nUSER nosuchuser\nRUN true\n", nil, 1,
			"Dockerfile:3: unable to find user nosuchuser: no matching entries in passwd file", "FMX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.write(t, map[string]string{"Dockerfile": tc.dockerfile})
			var args []string
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "<ctx>", e.ctx))
			}
			code, stdout, stderr := e.build(t, args...)
			if want := "minidocker: " + strings.ReplaceAll(tc.msg, "<ctx>", e.ctx) + "\n"; code != tc.code || stderr != want {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr, tc.code, want)
			}
			out := parseBuild(t, stdout)
			if got := out.states(); got != tc.states || out.built != "" {
				t.Errorf("steps %s, built %q; want %s and no image:\n%s", got, out.built, tc.states, stdout)
			}
			e.checkTidy(t)
			e.checkNoOrphans(t)
			if got := e.imageNames(t); !slices.Equal(got, names) {
				t.Errorf("images %q, want %q", got, names)
			}
		})
	}
}
