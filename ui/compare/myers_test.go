package compare

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// apply runs an edit script on a and checks that it walks both a and b
// in order, without a gap.
func apply(t testing.TB, a, b []string, edits []Edit) []string {
	t.Helper()
	var out []string
	ai, bi := 0, 0
	for _, e := range edits {
		if e.A != ai || e.B != bi || e.N <= 0 {
			t.Fatalf("edit %+v at a=%d b=%d", e, ai, bi)
		}
		switch e.Op {
		case Equal:
			for j := range e.N {
				if a[e.A+j] != b[e.B+j] {
					t.Fatalf("equal %+v: %q != %q", e, a[e.A+j], b[e.B+j])
				}
			}
			out = append(out, b[e.B:e.B+e.N]...)
			ai, bi = ai+e.N, bi+e.N
		case Delete:
			ai += e.N
		case Insert:
			out = append(out, b[e.B:e.B+e.N]...)
			bi += e.N
		}
	}
	if ai != len(a) || bi != len(b) {
		t.Fatalf("the script ends at a=%d b=%d of %d, %d", ai, bi, len(a), len(b))
	}
	return out
}

// cost is the lines an edit script deletes and inserts.
func cost(edits []Edit) int {
	n := 0
	for _, e := range edits {
		if e.Op != Equal {
			n += e.N
		}
	}
	return n
}

// lcs is the length of the longest common subsequence, by the textbook
// table: the shortest script deletes and inserts len(a)+len(b)-2*lcs lines.
func lcs(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			default:
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "")
}

func TestLines(t *testing.T) {
	tests := []struct{ a, b string }{
		{"", ""}, {"abc", ""}, {"", "abc"}, {"abc", "abc"},
		{"abcabba", "cbabac"}, // Myers's paper's example: 5 edits
		{"abc", "xbz"}, {"aaaa", "aa"}, {"ab", "ba"}, {"xabcx", "abc"},
	}
	for _, tt := range tests {
		a, b := split(tt.a), split(tt.b)
		edits, shortest := Lines(a, b, MaxEdits)
		if !shortest {
			t.Errorf("%q → %q: not the shortest", tt.a, tt.b)
		}
		if diff := cmp.Diff(b, apply(t, a, b, edits)); diff != "" {
			t.Errorf("%q → %q (-want +got):\n%s", tt.a, tt.b, diff)
		}
		if got, want := cost(edits), len(a)+len(b)-2*lcs(a, b); got != want {
			t.Errorf("%q → %q: %d edits, the shortest has %d: %+v", tt.a, tt.b, got, want, edits)
		}
	}
}

// TestLinesRandom checks many random pairs against the LCS table: the
// script is valid and as short as can be.
func TestLinesRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() []string {
		out := make([]string, r.IntN(30))
		for i := range out {
			out[i] = string(rune('a' + r.IntN(4)))
		}
		return out
	}
	for range 2000 {
		a, b := word(), word()
		edits, _ := Lines(a, b, MaxEdits)
		apply(t, a, b, edits)
		if got, want := cost(edits), len(a)+len(b)-2*lcs(a, b); got != want {
			t.Fatalf("%v → %v: %d edits, the shortest has %d", a, b, got, want)
		}
	}
}

// TestLinesGivesUp checks that past maxEdits the middle comes as one
// deletion and one insertion, still a valid script.
func TestLinesGivesUp(t *testing.T) {
	a, b := split("xabcdefy"), split("xghijkly")
	edits, shortest := Lines(a, b, 3)
	if shortest {
		t.Fatal("12 edits found within 3")
	}
	apply(t, a, b, edits)
	want := []Edit{{Equal, 0, 0, 1}, {Delete, 1, 1, 6}, {Insert, 7, 1, 6}, {Equal, 7, 7, 1}}
	if diff := cmp.Diff(want, edits); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestUnifiedMatchesDiff writes random files and checks our hunks against
// GNU diff's: on files of few distinct lines, where many scripts are the
// shortest, that both add and remove as many lines as diff --minimal; on
// files of distinct lines, where one script is, that they read exactly as
// diff -u writes them, headers and all.
func TestUnifiedMatchesDiff(t *testing.T) {
	if _, err := exec.LookPath("diff"); err != nil {
		t.Skip("no diff(1) on this machine")
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	few := func() string {
		var b strings.Builder
		for range r.IntN(40) {
			fmt.Fprintf(&b, "line %d\n", r.IntN(6))
		}
		return b.String()
	}
	distinct := func() string {
		var b strings.Builder
		for i := range 60 {
			switch r.IntN(8) {
			case 0: // dropped
			case 1:
				fmt.Fprintf(&b, "new %d\n", r.Int())
			default:
				fmt.Fprintf(&b, "line %d\n", i)
			}
		}
		if r.IntN(4) == 0 {
			b.WriteString("no newline")
		}
		return b.String()
	}
	for i := range 200 {
		exact := i%2 == 1
		a, b := few(), few()
		if exact {
			a, b = distinct(), distinct()
		}
		pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		must(t, os.WriteFile(pa, []byte(a), 0o644))
		must(t, os.WriteFile(pb, []byte(b), 0o644))
		out, _ := exec.Command("diff", "--minimal", "-U3", pa, pb).Output()
		al, _ := SplitLines([]byte(a), MaxLines)
		bl, _ := SplitLines([]byte(b), MaxLines)
		edits, _ := Lines(al, bl, MaxEdits)
		lines := Unified(al, bl, edits)
		got := asDiffU(lines)
		if exact {
			want := ""
			if len(out) > 0 { // past the two name lines
				want = string(out[bytes.IndexByte(out, '\n')+1:])
				want = want[strings.IndexByte(want, '\n')+1:]
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("case %d (-diff -u +ours):\n%s", i, diff)
			}
			continue
		}
		wantAdd := bytes.Count(out, []byte("\n+")) - bytes.Count(out, []byte("\n+++"))
		wantDel := bytes.Count(out, []byte("\n-")) - bytes.Count(out, []byte("\n---"))
		add, del := strings.Count("\n"+got, "\n+"), strings.Count("\n"+got, "\n-")
		if add != wantAdd || del != wantDel {
			t.Fatalf("case %d: +%d -%d, diff says +%d -%d\n%s", i, add, del, wantAdd, wantDel, out)
		}
	}
}

// asDiffU writes lines as diff -u does, after its two name lines.
func asDiffU(lines []Line) string {
	var b strings.Builder
	for _, l := range lines {
		switch l.Kind {
		case Header:
			b.WriteString(l.Text + "\n")
			continue
		case Added:
			b.WriteString("+")
		case Removed:
			b.WriteString("-")
		default:
			b.WriteString(" ")
		}
		b.WriteString(l.Text + "\n")
		if l.NoEOL {
			b.WriteString("\\ No newline at end of file\n")
		}
	}
	return b.String()
}

func TestUnified(t *testing.T) {
	a, _ := SplitLines([]byte("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20"), MaxLines)
	b, _ := SplitLines([]byte("1\n2\n3\n4\n5\n6\n7\nseven\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n21\n"), MaxLines)
	edits, _ := Lines(a, b, MaxEdits)
	var got []string
	for _, l := range Unified(a, b, edits) {
		s := fmt.Sprintf("%d %d %s", l.A, l.B, l.Text)
		switch l.Kind {
		case Header:
			s = l.Text
		case Added:
			s = "+" + s
		case Removed:
			s = "-" + s
		}
		if l.NoEOL {
			s += " (no EOL)"
		}
		got = append(got, s)
	}
	want := []string{
		"@@ -5,7 +5,7 @@", "5 5 5", "6 6 6", "7 7 7", "-8 0 8", "+0 8 seven", "9 9 9", "10 10 10", "11 11 11",
		"@@ -17,4 +17,5 @@", "17 17 17", "18 18 18", "19 19 19", "-20 0 20 (no EOL)", "+0 20 20", "+0 21 21",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSplitLines(t *testing.T) {
	got, more := SplitLines([]byte("a\nb\nc"), 2)
	if diff := cmp.Diff([]string{"a\n", "b\n"}, got); diff != "" || !more {
		t.Errorf("more %v (-want +got):\n%s", more, diff)
	}
	got, more = SplitLines([]byte("a\n\nc"), 5)
	if diff := cmp.Diff([]string{"a\n", "\n", "c"}, got); diff != "" || more {
		t.Errorf("more %v (-want +got):\n%s", more, diff)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzLines checks that any two texts get a valid script, within the
// edits allowed or as the one-change fallback.
func FuzzLines(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nc\nd\n", 5)
	f.Add("", "x", 0)
	f.Fuzz(func(t *testing.T, x, y string, maxEdits int) {
		a, _ := SplitLines([]byte(x), 200)
		b, _ := SplitLines([]byte(y), 200)
		edits, shortest := Lines(a, b, maxEdits%64)
		apply(t, a, b, edits)
		if shortest && len(a)*len(b) < 400 && cost(edits) != len(a)+len(b)-2*lcs(a, b) {
			t.Fatalf("%q → %q: %d edits is not the shortest", x, y, cost(edits))
		}
		Unified(a, b, edits)
	})
}

// TestBuildLimits checks that what the limits leave out is said.
func TestBuildLimits(t *testing.T) {
	many := func(prefix string, n int) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%s %d\n", prefix, i)
		}
		return []byte(b.String())
	}
	long := many("same", MaxLines+10)
	tests := []struct {
		name         string
		lower, upper Side
		want         string
	}{
		{"too many lines", Side{Name: "lower", Read: true, Data: long, Size: int64(len(long))},
			Side{Name: "upper", Read: true, Data: long, Size: int64(len(long))},
			"text · the same 50000 lines · lower: the first 50000 lines only · upper: the first 50000 lines only"},
		{"read in part", Side{Name: "lower", Read: true, Data: []byte("a\nb\nc"), Size: 9 << 20},
			Side{Name: "upper", Read: true, Data: []byte("a\nb\n"), Size: 4},
			"text · the same 2 lines · lower: the first 5B only"},
		{"too many edits", Side{Name: "lower", Read: true, Data: many("old", MaxEdits)},
			Side{Name: "upper", Read: true, Data: many("new", MaxEdits)},
			"text · 1 hunk · +1000 -1000 · over 1000 lines differ: shown as one change"},
		{"binary read in part", Side{Name: "lower", Read: true, Data: []byte("\x00ab"), Size: 9 << 20},
			Side{Name: "upper", Read: true, Data: []byte("\x00ab"), Size: 9 << 20},
			"binary · the first 3B are the same · lower 9437184 B, upper 9437184 B"},
	}
	for _, tt := range tests {
		d := Build(Input{Lower: tt.lower, Upper: tt.upper})
		if d.summary != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, d.summary, tt.want)
		}
	}
}
