package text_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/text"
	"minidocker/ui/theme"
)

func TestAppendFollowAndSafety(t *testing.T) {
	m := text.New(theme.New(true, false), keys.Default()).SetSize(12, 3).SetFollow(true)
	m = m.Append("one\ntw")
	m = m.Append("o\nthree\n\x1b]52;c;aGk=\x07\nfour\tx")
	want := "three       \n\\x1b]52;c;a…\nfour    x   "
	if diff := cmp.Diff(want, m.View()); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}
	m, _ = m.Update(uitest.Key("g"))
	if got := strings.Split(m.View(), "\n")[0]; got != "one         " {
		t.Errorf("top line %q", got)
	}
}

// TestCleanLikeATerminal checks a line of output shows as a terminal would
// show it: what follows a carriage return overwrites the line from its
// start, a backslash shows once, and control characters are escaped.
func TestCleanLikeATerminal(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"progress", "Unpacking 10%\rUnpacking 55%\rUnpacking 100%", "Unpacking 100%"},
		{"shorter overwrite", "abcdef\rXY", "XYcdef"},
		{"crlf", "line\r", "line"},
		{"dpkg", "(Reading database ... 5%\r(Reading database ... 100%\r(Reading database ... 4180 files.)", "(Reading database ... 4180 files.)"},
		{"backslash", `C:\dir\file and a\nliteral`, `C:\dir\file and a\nliteral`},
		{"escape", "red \x1b[31mX\x1b[0m", `red \x1b[31mX\x1b[0m`},
		{"tab", "a\tb", "a    b"},
		{"wide", "日本語\rab", "ab本語"},
		{"half a wide rune", "日本語\ra", "a 本語"},
		{"wide over narrow", "abcd\r日", "日cd"},
		{"wide over half", "abc\ra日", "a日"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := text.New(theme.New(true, true), keys.Default()).SetSize(60, 3).Append(tt.in + "\n")
			if got := strings.TrimRight(m.View(), " "); got != tt.want {
				t.Errorf("%q shows as %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// A line still being written shows its last state too.
	m := text.New(theme.New(true, true), keys.Default()).SetSize(20, 3).Append("50%\r")
	m = m.Append("75%\r100%")
	if got := strings.TrimRight(m.View(), " "); got != "100%" {
		t.Errorf("a partial progress line shows as %q", got)
	}
}

// TestFollowOnlyAtTheBottom checks new lines keep a followed pane at its
// bottom, but not once it was scrolled up.
func TestFollowOnlyAtTheBottom(t *testing.T) {
	m := text.New(theme.New(true, true), keys.Default()).SetSize(10, 2).SetFollow(true)
	m = m.Append("1\n2\n3\n")
	if got := m.View(); !strings.HasPrefix(got, "2") {
		t.Fatalf("followed pane shows %q", got)
	}
	m, _ = m.Update(uitest.Key("g"))
	m = m.Append("4\n")
	if got := m.View(); !strings.HasPrefix(got, "1") {
		t.Errorf("a pane scrolled to the top jumped to %q", got)
	}
	m, _ = m.Update(uitest.Key("G"))
	m = m.Append("5\n")
	if got := m.View(); !strings.HasPrefix(got, "4") {
		t.Errorf("back at the bottom the pane shows %q", got)
	}
}

// TestSearch checks / finds lines ignoring case, n and N move between the
// matches round the end, the matches are marked, and esc drops the search.
func TestSearch(t *testing.T) {
	th := theme.New(true, false)
	var lines []string
	for i := range 30 {
		l := "line " + strconv.Itoa(i)
		if i%10 == 5 {
			l += " ERROR disk full"
		}
		lines = append(lines, l)
	}
	m := text.New(th, keys.Default()).SetSize(40, 6).SetSearch(true).SetText(strings.Join(lines, "\n") + "\n")
	press := func(ks ...string) {
		for _, k := range ks {
			m, _ = m.Update(uitest.Key(k))
		}
	}
	press("/", "e", "r", "r", "o", "r")
	if !m.Searching() {
		t.Fatal("/ did not open the search line")
	}
	if q, n := m.Query(); q != "error" || n != 3 {
		t.Errorf("search %q found %d lines, want error in 3", q, n)
	}
	visible := func(l string) bool { return strings.Contains(ansi.Strip(m.View()), l) }
	if !visible("line 5 ERROR") {
		t.Errorf("the first match is not on screen:\n%s", ansi.Strip(m.View()))
	}
	press("enter")
	if m.Searching() {
		t.Error("enter did not close the search line")
	}
	if last := strings.Split(ansi.Strip(m.View()), "\n"); !strings.HasPrefix(last[len(last)-1], "/error  1/3 lines") {
		t.Errorf("the search line reads %q", last[len(last)-1])
	}
	press("n")
	if !visible("line 15 ERROR") {
		t.Errorf("n did not move to the second match:\n%s", ansi.Strip(m.View()))
	}
	press("n", "n")
	if !visible("line 5 ERROR") {
		t.Errorf("n did not go round to the first match:\n%s", ansi.Strip(m.View()))
	}
	press("N")
	if !visible("line 25 ERROR") {
		t.Errorf("N did not go back round to the last match:\n%s", ansi.Strip(m.View()))
	}
	if v := m.View(); !strings.Contains(v, th.MatchCurrent.Render("ERROR")) {
		t.Errorf("the current match is not marked:\n%q", v)
	}
	if !m.UsesBack() {
		t.Error("esc would not drop the search")
	}
	press("esc")
	if q, _ := m.Query(); q != "" || m.UsesBack() || strings.Contains(ansi.Strip(m.View()), "/error") {
		t.Errorf("esc left the search %q", q)
	}
	// Lines arriving later that match are found by n too.
	press("/", "f", "u", "l", "l", "enter")
	m = m.Append("line 30 ERROR disk full again\n")
	if _, n := m.Query(); n != 4 {
		t.Errorf("a new matching line is not counted: %d", n)
	}
	// Without SetSearch, / does nothing.
	plain := text.New(th, keys.Default()).SetSize(40, 6).SetText("x\n")
	if plain, _ = plain.Update(uitest.Key("/")); plain.Searching() {
		t.Error("a pane without search opened a search line")
	}
}

func TestSearchGolden(t *testing.T) {
	m := text.New(theme.New(true, false), keys.Default()).SetSize(40, 6).SetSearch(true).
		SetText("boot ok\nwarn: disk\nerror: Disk full\nretry disk\ndone\n")
	for _, k := range []string{"/", "d", "i", "s", "k", "enter", "n"} {
		m, _ = m.Update(uitest.Key(k))
	}
	uitest.Golden(t, "search.ansi", m.View())
	uitest.Golden(t, "search", m.View())
}
