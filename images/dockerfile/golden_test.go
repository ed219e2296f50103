package dockerfile

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/steps")

// caseOptions is a golden case's options.json: the build's options and
// the config of every image a FROM names (stages from earlier stages use
// the earlier stage's state).
type caseOptions struct {
	Filename  string              `json:"filename,omitempty"`
	BuildArgs map[string]string   `json:"buildArgs,omitempty"`
	Target    string              `json:"target,omitempty"`
	Base      ocispec.ImageConfig `json:"base"`
}

// The golden form of a plan stepped to the end (or to its first error).
type (
	planView struct {
		StepCount  int         `json:"stepCount,omitempty"`
		GlobalArgs []string    `json:"globalArgs,omitempty"`
		UnusedArgs []string    `json:"unusedArgs,omitempty"`
		Stages     []stageView `json:"stages,omitempty"`
		Error      string      `json:"error,omitempty"`
	}
	stageView struct {
		Name      string               `json:"name,omitempty"`
		Index     int                  `json:"index"`
		Base      string               `json:"base"`
		BaseStage int                  `json:"baseStage"`
		Steps     []stepView           `json:"steps"`
		Config    *ocispec.ImageConfig `json:"config,omitempty"`
		Shell     []string             `json:"shell,omitempty"`
		Author    string               `json:"author,omitempty"`
	}
	stepView struct {
		Step      string   `json:"step"`
		Line      int      `json:"line"`
		Kind      string   `json:"kind"`
		Args      []string `json:"args,omitempty"`
		Env       []string `json:"env,omitempty"`
		Sources   []string `json:"sources,omitempty"`
		Dest      string   `json:"dest,omitempty"`
		From      string   `json:"from,omitempty"`
		FromStage *int     `json:"fromStage,omitempty"`
		Chown     string   `json:"chown,omitempty"`
		Chmod     string   `json:"chmod,omitempty"`
		CacheText string   `json:"cacheText,omitempty"`
		CreatedBy string   `json:"createdBy,omitempty"`
	}
)

// runCase parses a case's Dockerfile and steps every planned stage.
func runCase(t *testing.T, dir string) planView {
	t.Helper()
	var opts caseOptions
	if b, err := os.ReadFile(filepath.Join(dir, "options.json")); err == nil {
		if err := json.Unmarshal(b, &opts); err != nil {
			t.Fatalf("options.json: %v", err)
		}
	}
	f, err := os.Open(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plan, err := Parse(f, Options{Filename: opts.Filename, BuildArgs: opts.BuildArgs, Target: opts.Target})
	if err != nil {
		return planView{Error: err.Error()}
	}
	return stepPlan(plan, opts.Base)
}

// stepPlan steps every stage of plan as a build would, images all having
// the config base.
func stepPlan(plan *Plan, base ocispec.ImageConfig) planView {
	v := planView{StepCount: plan.StepCount(), UnusedArgs: plan.UnusedArgs}
	n := 0
	for _, a := range plan.GlobalArgs {
		n++
		v.GlobalArgs = append(v.GlobalArgs, stepLabel(n, plan.StepCount(), a.Text))
	}
	states := map[int]*State{}
	for _, st := range plan.Stages {
		var s *State
		switch {
		case st.BaseStage >= 0:
			s = st.NewStateFrom(states[st.BaseStage])
		case st.Base == "scratch":
			s = st.NewState(ocispec.ImageConfig{})
		default:
			s = st.NewState(base)
		}
		sv := stageView{Name: st.Name, Index: st.Index, Base: st.Base, BaseStage: st.BaseStage}
		for _, ins := range st.Steps {
			n++
			step, err := s.Step(ins)
			if err != nil {
				v.Stages = append(v.Stages, sv)
				v.Error = err.Error()
				return v
			}
			sv.Steps = append(sv.Steps, viewStep(stepLabel(n, plan.StepCount(), step.Text), step))
		}
		cfg := s.Config
		sv.Config, sv.Shell, sv.Author = &cfg, s.Shell, s.Author
		v.Stages = append(v.Stages, sv)
		states[st.Index] = s
	}
	return v
}

func stepLabel(n, m int, text string) string {
	return fmt.Sprintf("Step %d/%d : %s", n, m, text)
}

func viewStep(label string, s Step) stepView {
	v := stepView{
		Step: label, Line: s.Line, Kind: s.Kind.String(), Args: s.Args, Env: s.Env,
		Sources: s.Sources, Dest: s.Dest, From: s.From, Chown: s.Chown, Chmod: s.Chmod,
		CacheText: s.CacheText, CreatedBy: s.CreatedBy,
	}
	if s.Kind == Copy || s.Kind == Add {
		v.CreatedBy = s.CopyHistory("file:<hash>")
		if s.From != "" {
			v.FromStage = &s.FromStage
		}
	}
	return v
}

// TestGolden checks every case under testdata/steps against its
// want.json; -update rewrites them.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/steps/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(runCase(t, dir)); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join(dir, "want.json"), got.Bytes(), *update)
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}

// TestGoldenUpdateWrites: -update really rewrites a golden file, and the
// comparison then passes.
func TestGoldenUpdateWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "want.json")
	if err := os.WriteFile(path, []byte("stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, path, []byte("fresh\n"), true)
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "fresh\n" {
		t.Fatalf("after update: %q, %v", b, err)
	}
	checkGolden(t, path, []byte("fresh\n"), false)
}

// TestGoldenErrorsNameTheLine: every golden case that fails on an
// instruction says "Dockerfile:N: " (or its own file name) with the line.
func TestGoldenErrorsNameTheLine(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/steps/*")
	for _, dir := range dirs {
		if !strings.HasPrefix(filepath.Base(dir), "err-line-") {
			continue
		}
		v := runCase(t, dir)
		if !lineErrorRE.MatchString(v.Error) {
			t.Errorf("%s: error %q has no file:line", dir, v.Error)
		}
	}
}
