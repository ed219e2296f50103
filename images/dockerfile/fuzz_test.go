package dockerfile

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// lineErrorRE is the form of an instruction's error: "Dockerfile:12: ...".
var lineErrorRE = regexp.MustCompile(`^Dockerfile:([1-9][0-9]*): `)

// FuzzParse: no Dockerfile text makes Parse or stepping its instructions
// panic, an error at a line names a line that exists, and stepping is
// deterministic (a second pass over a fresh state gives the same steps).
func FuzzParse(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/steps/*/Dockerfile")
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		"FROM a\nRUN <<EOF\nx\nEOF\n",
		"# escape=`\nFROM a\nRUN a `\n  b\n",
		"ARG A=${B:-c}\nFROM $A AS x\nCOPY --from=x a b\n",
		"FROM a\nENV A=${A:?must}\n",
		"FROM a\nEXPOSE 1-65535/udp\n",
		"FROM a\nCOPY --chmod=9 a b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		opts := Options{BuildArgs: map[string]string{"A": "1", "HTTP_PROXY": "p"}}
		plan, err := Parse(strings.NewReader(text), opts)
		if err != nil {
			checkLineError(t, text, err)
			return
		}
		base := ocispec.ImageConfig{Env: []string{"B=2"}, Cmd: []string{"sh"}}
		first := stepPlan(plan, base)
		if first.Error != "" {
			checkLineMessage(t, text, first.Error)
		}
		if second := stepPlan(plan, base); !cmp.Equal(first, second) {
			t.Fatalf("stepping the plan twice differs (-first +second):\n%s", cmp.Diff(first, second))
		}
	})
}

// checkLineError: an *Error names a line of the text; other errors are
// about the file as a whole ("cannot be empty", no stage, no target).
func checkLineError(t *testing.T, text string, err error) {
	var le *Error
	if errors.As(err, &le) {
		checkLineMessage(t, text, err.Error())
	}
}

func checkLineMessage(t *testing.T, text, msg string) {
	m := lineErrorRE.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("error without file:line: %q", msg)
	}
	if n, _ := strconv.Atoi(m[1]); n > strings.Count(text, "\n")+1 {
		t.Fatalf("error at line %d of a %d-line file: %q", n, strings.Count(text, "\n")+1, msg)
	}
}
