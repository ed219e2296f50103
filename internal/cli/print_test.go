package cli

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"minidocker/engine"
)

// These tests need no root: they check what the CLI prints and how it reads
// its flags.

func TestPsRow(t *testing.T) {
	now := time.Now()
	st := engine.State{ID: strings.Repeat("ab", 32), Created: now.Add(-5 * time.Minute), Status: engine.Created,
		Spec: engine.Spec{Name: "web", Image: "img\u202e", Process: engine.Process{Args: []string{"echo", "ééééééééééééééééééééé"}}}}
	got := psRow(st, now)
	want := []string{"abababababab", `img\u202e`, `"echo éééééééééééééé…"`, "5 minutes ago", "Created", "web"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("psRow (-want +got):\n%s", diff)
	}
	// An escape is made once: a control character reads \x1b, not \\x1b.
	st.Spec.Process.Args = []string{"a\x1b"}
	if got := psRow(st, now)[2]; got != `"a\x1b"` {
		t.Errorf("command %s, want \"a\\x1b\"", got)
	}
}

func TestCIRules(t *testing.T) {
	for _, tc := range []struct {
		lowest, user float64
		wasted       string
		want         int64
		err          string
	}{
		{0.9, 0.1, "disabled", -1, ""},
		{0.9, 0.1, "20MiB", 20 << 20, ""},
		{0.9, 0.1, "20MB", 20_000_000, ""},
		{0.9, 0.1, "20x", 0, `size "20x"`},
		{math.NaN(), 0.1, "", 0, "--lowest-efficiency NaN"},
		{1.5, 0.1, "", 0, "--lowest-efficiency 1.5"},
		{0.9, math.Inf(1), "", 0, "--highest-user-wasted-percent +Inf"},
		{0.9, -1, "", 0, "--highest-user-wasted-percent -1"},
	} {
		r, err := ciRules(tc.lowest, tc.user, tc.wasted)
		got := r.HighestWastedBytes
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ciRules(%v, %v, %q) error %v, want %q", tc.lowest, tc.user, tc.wasted, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ciRules(%v, %v, %q) = %d, %v; want %d", tc.lowest, tc.user, tc.wasted, got, err, tc.want)
		}
	}
}

// TestUsageErrors runs commands whose flags are wrong before anything is
// opened: each is one line on stderr naming the flag, exit code 2.
func TestUsageErrors(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"analyze", "--ci", "--highest-wasted-bytes", "20 parsecs", "x"}, `size "20 parsecs"`},
		{[]string{"analyze", "--lowest-efficiency", "NaN", "x"}, "--lowest-efficiency NaN"},
		{[]string{"ps", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"kill", "-s", "SIGNOPE", "x"}, `unknown signal "SIGNOPE"`},
		{[]string{"tag", "one"}, "want SOURCE and TARGET"},
		{[]string{"run"}, "want an image"},
		{[]string{"save", "--format", "zip", "x"}, `format "zip"`},
	} {
		code, _, stderr := cli(t, root, tc.args...)
		if code != 125 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want 125 and one line naming %q", tc.args, code, stderr, tc.msg)
		}
	}
}
