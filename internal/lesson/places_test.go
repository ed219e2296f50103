package lesson

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const placesSample = "# Shared\n" + // 1
	"```lesson\n" + // 2
	"image: learn\n" + // 3
	"containers: 3\n" + // 4
	"```\n" + // 5
	"## Look\n" + // 6
	"```check\n" + // 7
	"meter containers 3\n" + // 8
	"not meter saved-at-least 55.5\n" + // 9
	"meter upper-at-least 20MB\n" + // 10
	"meter others-at-most 64KB\n" + // 11
	"view layer 3\n" + // 12
	"view layer all\n" + // 13
	"view pane lower\n" + // 14
	"view selected /app/README.txt\n" + // 15
	"view marker whiteout\n" + // 16
	"commit wasted /app/data/numbers.txt\n" + // 17
	"```\n" // 18

func TestLessonParsePlaces(t *testing.T) {
	l, err := Parse("12-shared.md", []byte(placesSample))
	if err != nil {
		t.Fatal(err)
	}
	if l.Containers != 3 {
		t.Errorf("Containers = %d; want 3", l.Containers)
	}
	want := []Check{
		{Where: Meter, What: "containers", Args: []string{"3"}, Line: 8},
		{Not: true, Where: Meter, What: "saved-at-least", Args: []string{"55.5"}, Line: 9},
		{Where: Meter, What: "upper-at-least", Args: []string{"20MB"}, Line: 10},
		{Where: Meter, What: "others-at-most", Args: []string{"64KB"}, Line: 11},
		{Where: View, What: "layer", Args: []string{"3"}, Line: 12},
		{Where: View, What: "layer", Args: []string{"all"}, Line: 13},
		{Where: View, What: "pane", Args: []string{"lower"}, Line: 14},
		{Where: View, What: "selected", Path: "/app/README.txt", Line: 15},
		{Where: View, What: "marker", Args: []string{"whiteout"}, Line: 16},
		{Where: Commit, What: "wasted", Path: "/app/data/numbers.txt", Line: 17},
	}
	if d := cmp.Diff(want, l.Steps[0].Checks); d != "" {
		t.Errorf("checks (-want +got):\n%s", d)
	}
	lines := strings.Split(placesSample, "\n")
	for _, c := range l.Steps[0].Checks {
		if c.String() != lines[c.Line-1] {
			t.Errorf("String = %q; want the line as written, %q", c.String(), lines[c.Line-1])
		}
	}
}

// TestLessonParsePlaceErrors checks the mistakes of the new places and of
// the containers key, each named at its line.
func TestLessonParsePlaceErrors(t *testing.T) {
	head := "# T\n```lesson\nimage: x\n```\n## S\n" // lines 1-5
	for _, tc := range []struct {
		name, src, want string
	}{
		{"no containers", "# T\n```lesson\nimage: x\ncontainers: 0\n```\n", `x.md:4: containers "0": want a number from 1 to 8`},
		{"too many containers", "# T\n```lesson\nimage: x\ncontainers: 9\n```\n", `x.md:4: containers "9"`},
		{"containers in words", "# T\n```lesson\nimage: x\n\ncontainers: three\n```\n", `x.md:5: containers "three"`},
		{"meter in upper", head + "```check\nupper containers 3\n```\n", `x.md:7: check "upper containers 3": upper containers: containers is checked only in meter`},
		{"meter without a count", head + "```check\nmeter containers\n```\n", `x.md:7: check "meter containers": meter containers: want COUNT`},
		{"a bad size", head + "```check\nmeter upper-at-least lots\n```\n", `x.md:7: check "meter upper-at-least lots": upper-at-least "lots": want a size`},
		{"a bad percent", head + "```check\nmeter saved-at-least 120\n```\n", `x.md:7: check "meter saved-at-least 120": saved-at-least "120": want a percent`},
		{"a bad layer", head + "```check\nview layer -1\n```\n", `x.md:7: check "view layer -1": layer "-1": want a layer's number`},
		{"a bad pane", head + "```check\nview pane left\n```\n", `x.md:7: check "view pane left": pane "left": want one of lower, upper, merged`},
		{"a bad marker", head + "```check\nview marker gone\n```\n", `x.md:7: check "view marker gone": marker "gone": want one of unmodified, added`},
		{"a relative selection", head + "```check\nview selected app\n```\n", `x.md:7: check "view selected app": path "app": want an absolute, clean path`},
		{"a relative wasted path", head + "```check\ncommit wasted app/x\n```\n", `x.md:7: check "commit wasted app/x": path "app/x"`},
		{"wasted elsewhere", head + "```check\nupper wasted /x\n```\n", `x.md:7: check "upper wasted /x": upper wasted: wasted is checked only in commit`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.md", []byte(tc.src))
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q; want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v is not ErrSyntax", err)
			}
		})
	}
}

// TestLessonSiblingNames refuses a lesson named as another's second
// container would be.
func TestLessonSiblingNames(t *testing.T) {
	lesson := func(title string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("# " + title + "\n```lesson\nimage: base\n```\n## S\n```check\nupper file /a\n```\n")}
	}
	_, err := Load(fstest.MapFS{"01-shared.md": lesson("A"), "02-shared-2.md": lesson("B")})
	if err == nil || !strings.Contains(err.Error(), `02-shared-2.md:1: lesson name "shared-2"`) {
		t.Errorf("Load = %v; want the error of 02-shared-2.md at line 1", err)
	}
	if _, err := Load(fstest.MapFS{"01-shared.md": lesson("A"), "02-v2.md": lesson("B"), "03-x-2.md": lesson("C")}); err != nil {
		t.Errorf("Load of names that are no other's sibling: %v", err)
	}
}

type fakeMeter struct {
	r   MeterReading
	err error
}

func (f fakeMeter) ReadMeter() (MeterReading, error) { return f.r, f.err }

type fakeView struct {
	layer          int
	focus, p, mark string
	ok             bool
}

func (f fakeView) Layer() int                          { return f.layer }
func (f fakeView) Focus() string                       { return f.focus }
func (f fakeView) Selected() (string, string, bool)    { return f.p, f.mark, f.ok }
func (f fakeView) with(p, mark string) fakeView        { f.p, f.mark, f.ok = p, mark, true; return f }
func (f fakeView) at(layer int, focus string) fakeView { f.layer, f.focus = layer, focus; return f }

// TestLessonMeterAndViewChecks evaluates the meter's and the view's checks
// against readings and view states, and checks that a lesson without a
// meter or a view fails them, negated or not, saying why.
func TestLessonMeterAndViewChecks(t *testing.T) {
	three := fakeMeter{r: MeterReading{Containers: 3, Layers: 23 << 20, Self: 21 << 20, Others: 300, Savings: 0.507}}
	readme := fakeView{}.at(3, "lower").with("/app/README.txt", "whiteout")
	for _, tc := range []struct {
		name  string
		env   Env
		check string
		ok    bool
		got   string
	}{
		{"count", Env{Meter: three}, "meter containers 3", true, "3 containers"},
		{"count off", Env{Meter: three}, "meter containers 2", false, "3 containers"},
		{"saved", Env{Meter: three}, "meter saved-at-least 50", true, "saved 50.7%"},
		{"saved too little", Env{Meter: three}, "meter saved-at-least 55", false, "saved 50.7%"},
		{"saved less", Env{Meter: three}, "not meter saved-at-least 55", true, ""},
		{"upper grew", Env{Meter: three}, "meter upper-at-least 20MB", true, "this upper 22MB"},
		{"upper small", Env{Meter: three}, "meter upper-at-most 64KB", false, "this upper 22MB"},
		{"others small", Env{Meter: three}, "meter others-at-most 1KB", true, "the others 300B"},
		{"others smaller", Env{Meter: three}, "meter others-at-most 100", false, "the others 300B"},
		{"no meter", Env{}, "meter containers 3", false, "no disk meter"},
		{"no meter, not", Env{}, "not meter containers 3", false, "no disk meter"},
		{"meter error", Env{Meter: fakeMeter{err: os.ErrNotExist}}, "meter containers 3", false, "read the disk meter: file does not exist"},
		{"layer", Env{View: readme}, "view layer 3", true, "layer 3 alone, the lower pane, /app/README.txt (whiteout)"},
		{"layer off", Env{View: readme}, "view layer 2", false, "layer 3 alone"},
		{"all layers", Env{View: readme.at(-1, "merged")}, "view layer all", true, "all layers, the merged pane"},
		{"pane", Env{View: readme}, "view pane lower", true, ""},
		{"pane off", Env{View: readme}, "view pane merged", false, "the lower pane"},
		{"selected", Env{View: readme}, "view selected /app/README.txt", true, ""},
		{"selected, unclean", Env{View: readme.with("app/README.txt", "whiteout")}, "view selected /app/README.txt", true, ""},
		{"selected off", Env{View: readme}, "view selected /app/config.ini", false, "/app/README.txt (whiteout)"},
		{"nothing selected", Env{View: fakeView{}.at(-1, "upper")}, "view selected /", false, "nothing selected"},
		{"marker", Env{View: readme}, "view marker whiteout", true, ""},
		{"marker off", Env{View: readme}, "view marker opaque", false, "(whiteout)"},
		{"no view", Env{}, "view layer 3", false, "no layer view on screen"},
		{"no view, not", Env{}, "not view layer 3", false, "no layer view on screen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseCheck(tc.check)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Eval(tc.env)
			if r.OK != tc.ok || !strings.Contains(r.Got, tc.got) {
				t.Errorf("%s = %v, %q; want %v, with %q", tc.check, r.OK, r.Got, tc.ok, tc.got)
			}
		})
	}
}

// TestLessonWastedOnOverlay deletes and writes through a real overlay and
// asks whether a commit would keep bytes hidden: a lower file deleted or
// replaced would, a file made and deleted in the container would not.
func TestLessonWastedOnOverlay(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, s stack)
		want   []string // checks that must hold
	}{{
		name:   "untouched",
		change: func(*testing.T, stack) {},
		want:   []string{"not commit wasted /app/data/numbers.txt", "commit wasted /app/gone.txt", "commit wasted /app/old/x"},
	}, {
		name: "a lower file deleted",
		change: func(t *testing.T, s stack) {
			must(t, os.Remove(s.path("app/data/numbers.txt")))
		},
		want: []string{"commit wasted /app/data/numbers.txt", "upper whiteout /app/data/numbers.txt", "commit entry app/data/.wh.numbers.txt whiteout"},
	}, {
		name: "a lower file replaced",
		change: func(t *testing.T, s stack) {
			write(t, s.path("app/data/numbers.txt"), "small\n")
		},
		want: []string{"commit wasted /app/data/numbers.txt", "upper size /app/data/numbers.txt 6"},
	}, {
		name: "made and deleted in the container",
		change: func(t *testing.T, s stack) {
			write(t, s.path("tmp.bin"), strings.Repeat("x", 1<<16))
			must(t, os.Remove(s.path("tmp.bin")))
		},
		want: []string{"not commit wasted /tmp.bin", "upper missing /tmp.bin", "not commit entry tmp.bin"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t)
			tc.change(t, s)
			for _, w := range tc.want {
				c, err := parseCheck(w)
				if err != nil {
					t.Fatalf("%s: %v", w, err)
				}
				if r := c.Eval(s.env); !r.OK {
					t.Errorf("%s does not hold: %s", w, r.Got)
				}
			}
		})
	}
	if r := (Check{Where: Commit, What: "wasted", Path: "/x"}).Eval(Env{}); r.OK || !strings.Contains(r.Got, "no upper directory") {
		t.Errorf("wasted without an upper directory = %v, %q", r.OK, r.Got)
	}
}

// BenchmarkLessonWasted is the cost of a step with a wasted check: the
// analysis reads every layer and the upper directory whole, once per
// evaluation.
func BenchmarkLessonWasted(b *testing.B) {
	s := newStack(b)
	must(b, os.Remove(s.path("app/data/numbers.txt")))
	c, err := parseCheck("commit wasted /app/data/numbers.txt")
	must(b, err)
	st := Step{Checks: []Check{c}}
	b.ResetTimer()
	for b.Loop() {
		if !Done(st.Eval(s.env)) {
			b.Fatal("the check does not hold")
		}
	}
}
