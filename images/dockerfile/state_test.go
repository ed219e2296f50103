package dockerfile

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func mustParse(t *testing.T, text string, opts Options) *Plan {
	t.Helper()
	plan, err := Parse(strings.NewReader(text), opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return plan
}

// lastRun steps the last stage of text and returns its last RUN.
func lastRun(t *testing.T, text string, opts Options) Step {
	t.Helper()
	plan := mustParse(t, text, opts)
	st := plan.Stages[len(plan.Stages)-1]
	s := st.NewState(ocispec.ImageConfig{Env: []string{"PATH=/bin"}})
	var run Step
	for _, ins := range st.Steps {
		step, err := s.Step(ins)
		if err != nil {
			t.Fatalf("Step %q: %v", ins.Text, err)
		}
		if step.Kind == Run {
			run = step
		}
	}
	return run
}

// TestArgScope: which ARGs a RUN sees and records, by docker's rules.
func TestArgScope(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		args       map[string]string
		wantEnv    []string
		wantBy     string
	}{
		{"global ARG stays outside the stage", "ARG G=1\nFROM b\nRUN x", nil,
			[]string{"PATH=/bin"}, "/bin/sh -c x"},
		{"redeclared global takes the global default", "ARG G=1\nFROM b\nARG G\nRUN x", nil,
			[]string{"PATH=/bin", "G=1"}, "|1 G=1 /bin/sh -c x"},
		{"build arg beats the global default", "ARG G=1\nFROM b\nARG G\nRUN x", map[string]string{"G": "2"},
			[]string{"PATH=/bin", "G=2"}, "|1 G=2 /bin/sh -c x"},
		{"build arg beats the stage default", "FROM b\nARG A=1\nRUN x", map[string]string{"A": "2"},
			[]string{"PATH=/bin", "A=2"}, "|1 A=2 /bin/sh -c x"},
		{"ARG without value or build arg is unset", "FROM b\nARG A\nRUN x", nil,
			[]string{"PATH=/bin"}, "/bin/sh -c x"},
		{"ENV hides an ARG of the same name", "FROM b\nARG A=1\nENV A=env\nRUN x", nil,
			[]string{"PATH=/bin", "A=env"}, "/bin/sh -c x"},
		{"ARG default expands ENV", "FROM b\nENV E=e\nARG A=$E-x\nRUN x", nil,
			[]string{"PATH=/bin", "E=e", "A=e-x"}, "|1 A=e-x /bin/sh -c x"},
		{"an ARG ends with its stage", "FROM b AS one\nARG A=1\nFROM b\nCOPY --from=one / /\nRUN x", nil,
			[]string{"PATH=/bin"}, "/bin/sh -c x"},
		{"undeclared proxy reaches RUN, not the history", "FROM b\nARG Z=1\nRUN x", map[string]string{"no_proxy": "local"},
			[]string{"PATH=/bin", "Z=1", "no_proxy=local"}, "|1 Z=1 /bin/sh -c x"},
		{"declared proxy is recorded", "FROM b\nARG no_proxy\nRUN x", map[string]string{"no_proxy": "local"},
			[]string{"PATH=/bin", "no_proxy=local"}, "|1 no_proxy=local /bin/sh -c x"},
		{"only an undeclared proxy: docker's |0", "FROM b\nRUN x", map[string]string{"HTTP_PROXY": "p"},
			[]string{"PATH=/bin", "HTTP_PROXY=p"}, "|0 /bin/sh -c x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := lastRun(t, tc.text, Options{BuildArgs: tc.args})
			if diff := cmp.Diff(tc.wantEnv, run.Env); diff != "" {
				t.Errorf("Env (-want +got):\n%s", diff)
			}
			if run.CreatedBy != tc.wantBy || run.CacheText != tc.wantBy {
				t.Errorf("CreatedBy %q, CacheText %q; want %q", run.CreatedBy, run.CacheText, tc.wantBy)
			}
		})
	}
}

// TestStepTwice: an instruction is parsed afresh on each Step, so stepping
// a plan again (a second build, a retry) expands from scratch.
func TestStepTwice(t *testing.T) {
	plan := mustParse(t, "FROM b\nENV A=1\nENV B=$A\nCOPY $B /x/\n", Options{})
	st := plan.Stages[0]
	var runs [2][]Step
	for i := range runs {
		s := st.NewState(ocispec.ImageConfig{})
		for _, ins := range st.Steps {
			step, err := s.Step(ins)
			if err != nil {
				t.Fatal(err)
			}
			runs[i] = append(runs[i], step)
		}
	}
	if diff := cmp.Diff(runs[0], runs[1], cmp.AllowUnexported(Step{})); diff != "" {
		t.Fatalf("second pass differs (-first +second):\n%s", diff)
	}
	if got := runs[1][3].Sources; len(got) != 1 || got[0] != "1" {
		t.Fatalf("COPY sources %q, want [1]", got)
	}
}

// TestNewStateCopiesBase: the base config is not changed by the steps.
func TestNewStateCopiesBase(t *testing.T) {
	base := ocispec.ImageConfig{Env: make([]string, 1, 4), Labels: map[string]string{"a": "1"}}
	base.Env[0] = "PATH=/bin"
	plan := mustParse(t, "FROM b\nENV X=1\nLABEL a=2\n", Options{})
	s := plan.Stages[0].NewState(base)
	for _, ins := range plan.Stages[0].Steps {
		if _, err := s.Step(ins); err != nil {
			t.Fatal(err)
		}
	}
	// Env has spare capacity: an append that shared it would show behind len.
	if base.Labels["a"] != "1" || len(base.Env) != 1 || base.Env[:2][1] != "" {
		t.Fatalf("base changed: %+v", base)
	}
}

func TestPlatform(t *testing.T) {
	host := "linux/" + runtime.GOARCH
	for _, p := range []string{host, strings.ToUpper(host), "$P"} {
		if _, err := Parse(strings.NewReader("ARG P="+host+"\nFROM --platform="+p+" b\n"), Options{}); err != nil {
			t.Errorf("--platform=%s: %v", p, err)
		}
	}
	for _, p := range []string{"linux/s390x", "windows/" + runtime.GOARCH, "linux", "linux/" + runtime.GOARCH + "/v9"} {
		if runtime.GOARCH == "s390x" {
			continue
		}
		_, err := Parse(strings.NewReader("FROM --platform="+p+" b\n"), Options{})
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("--platform=%s: %v, want ErrUnsupported", p, err)
		}
	}
}

// TestErrorsAreTyped: an instruction error is an *Error with the line,
// and what minidocker refuses is ErrUnsupported.
func TestErrorsAreTyped(t *testing.T) {
	_, err := Parse(strings.NewReader("FROM b\n\nHEALTHCHECK NONE\n"), Options{Filename: "x/Dockerfile"})
	var le *Error
	if !errors.As(err, &le) || le.Line != 3 || le.File != "x/Dockerfile" || !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %#v (%v)", err, err)
	}
	plan := mustParse(t, "FROM b\nWORKDIR $NOPE\n", Options{})
	s := plan.Stages[0].NewState(ocispec.ImageConfig{})
	_, err = s.Step(plan.Stages[0].Steps[1])
	if !errors.As(err, &le) || le.Line != 2 || err.Error() != "Dockerfile:2: WORKDIR cannot be empty" {
		t.Fatalf("got %v", err)
	}
}

func TestResolveDest(t *testing.T) {
	for _, tc := range []struct{ wd, dest, want string }{
		{"", "/app", "/app"},
		{"", "/app/", "/app/"},
		{"/srv", "app", "/srv/app"},
		{"/srv", "app/", "/srv/app/"},
		{"/srv", ".", "/srv/"},
		{"/srv", "./", "/srv/"},
		{"/srv/a", "..", "/srv/"},
		{"/srv", "", "/srv/"},
		{"", ".", "/"},
		{"/srv", "/x/../y", "/y"},
		{"/srv", "../../..", "/"},
	} {
		if got := resolveDest(tc.wd, tc.dest); got != tc.want {
			t.Errorf("resolveDest(%q, %q) = %q, want %q", tc.wd, tc.dest, got, tc.want)
		}
	}
}

func TestPortSpec(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []string
		err  string
	}{
		{"80", []string{"80/tcp"}, ""},
		{"53/UDP", []string{"53/udp"}, ""},
		{"1000-1002/sctp", []string{"1000/sctp", "1001/sctp", "1002/sctp"}, ""},
		{"8080:80", []string{"80/tcp"}, ""},
		{"127.0.0.1:8080:80/udp", []string{"80/udp"}, ""},
		{"[::1]:8080:80", []string{"80/tcp"}, ""},
		{"8000-8001:80-81", []string{"80/tcp", "81/tcp"}, ""},
		{"8000-8002:80-81", nil, "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"},
		{"/tcp", nil, "no port specified: /tcp<empty>"},
		{"80/icmp", nil, "invalid proto: icmp"},
		{"70000", nil, "invalid containerPort: 70000"},
		{"90-80", nil, "invalid containerPort: 90-80"},
		{"x:80:80", nil, "invalid IP address: x"},
		{"y:80", nil, "invalid hostPort: y"},
	} {
		got, err := portSpec(tc.spec)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("portSpec(%q) error %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("portSpec(%q) = %q, %v; want %q", tc.spec, got, err, tc.want)
		}
	}
}

func TestCheckSignal(t *testing.T) {
	for sig, ok := range map[string]bool{
		"SIGTERM": true, "term": true, "SigKill": true, "9": true, "64": true,
		"0": false, "65": false, "-1": false, "SIG": false, "": false, "SIGNOPE": false,
	} {
		if err := checkSignal(sig); (err == nil) != ok {
			t.Errorf("checkSignal(%q) = %v, want ok=%v", sig, err, ok)
		}
	}
}

// TestKindNames: every kind prints as its instruction, and only the ones
// that touch files say so.
func TestKindNames(t *testing.T) {
	for k := From; k <= Maintainer; k++ {
		if strings.HasPrefix(k.String(), "Kind(") {
			t.Errorf("kind %d has no name", int(k))
		}
		if kinds[strings.ToLower(k.String())] != k {
			t.Errorf("%s does not map back", k)
		}
	}
	if Kind(99).String() != "Kind(99)" || !Workdir.ChangesFiles() || Env.ChangesFiles() {
		t.Error("Kind methods")
	}
}

// TestFailedStepKeepsState: an instruction that fails half-way (the second
// volume is empty) changes nothing.
func TestFailedStepKeepsState(t *testing.T) {
	plan := mustParse(t, "FROM b\nENV E=\nVOLUME /a $E\n", Options{})
	st := plan.Stages[0]
	s := st.NewState(ocispec.ImageConfig{})
	if _, err := s.Step(st.Steps[1]); err != nil {
		t.Fatal(err)
	}
	before := cloneConfig(s.Config)
	if _, err := s.Step(st.Steps[2]); err == nil || !strings.Contains(err.Error(), "Dockerfile:3: VOLUME specified can not be an empty string") {
		t.Fatalf("got %v", err)
	}
	if diff := cmp.Diff(before, s.Config); diff != "" {
		t.Fatalf("config changed (-before +after):\n%s", diff)
	}
	if _, err := s.Step(Instruction{}); err == nil {
		t.Fatal("a zero Instruction stepped")
	}
}

// TestErrorsShowValuesVisibly: a value from the Dockerfile in an error is
// escaped by human.Visible, so no control character reaches a terminal.
func TestErrorsShowValuesVisibly(t *testing.T) {
	plan := mustParse(t, "FROM b\nSTOPSIGNAL \x1b[2J\n", Options{})
	_, err := plan.Stages[0].NewState(ocispec.ImageConfig{}).Step(plan.Stages[0].Steps[1])
	if err == nil || err.Error() != `Dockerfile:2: invalid signal: \x1b[2J` {
		t.Fatalf("got %v", err)
	}
	_, err = Parse(strings.NewReader("FROM b\nFR\x1bOM x\n"), Options{})
	if err == nil || !strings.HasPrefix(err.Error(), `Dockerfile:2: unknown instruction: FR\x1bOM`) {
		t.Fatalf("got %v", err)
	}
}
