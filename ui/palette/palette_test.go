package palette_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/palette"
	"minidocker/ui/theme"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		ok         bool
		pos        []int
	}{
		{"", "anything", true, nil},
		{"web", "web", true, []int{0, 1, 2}},
		{"WEB", "my-web", true, []int{3, 4, 5}},
		{"rst", "restart", true, []int{0, 2, 3}},
		{"sf", "save to file", true, []int{0, 8}},
		{"bl", "base:latest", true, []int{0, 5}},
		{"xyz", "restart", false, nil},
		{"tt", "t", false, nil},
		{"ss", "s", false, nil},
		{"é", "café", true, []int{3}},
	}
	for _, tt := range tests {
		_, pos, ok := palette.Match(tt.pattern, tt.s)
		if ok != tt.ok {
			t.Errorf("Match(%q, %q) ok = %v, want %v", tt.pattern, tt.s, ok, tt.ok)
			continue
		}
		if diff := cmp.Diff(tt.pos, pos); diff != "" {
			t.Errorf("Match(%q, %q) positions (-want +got):\n%s", tt.pattern, tt.s, diff)
		}
	}
}

// TestMatchRanks checks the scores put a match that starts words or runs
// together above a scattered one.
func TestMatchRanks(t *testing.T) {
	tests := []struct{ pattern, better, worse string }{
		{"st", "stop", "restart"},
		{"stop", "stop", "save to file, or prune"},
		{"rm", "remove", "prev tab, or more"},
		{"sf", "save to file", "shell/tree focus"},
		{"web", "web", "a wide entry, a bit"},
		{"kil", "kill", "k is long"},
	}
	for _, tt := range tests {
		b, _, okb := palette.Match(tt.pattern, tt.better)
		w, _, okw := palette.Match(tt.pattern, tt.worse)
		if !okb || !okw {
			t.Errorf("%q: no match in %q (%v) or %q (%v)", tt.pattern, tt.better, okb, tt.worse, okw)
			continue
		}
		if b <= w {
			t.Errorf("%q: %q scores %d, not above %q's %d", tt.pattern, tt.better, b, tt.worse, w)
		}
	}
}

// FuzzMatch checks the positions of a match spell the pattern, in order,
// inside the text.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{{"st", "restart"}, {"", ""}, {"aa", "banana"}, {"İ", "i̇x"}, {"é", "ÉCOLE"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		_, pos, ok := palette.Match(pattern, s)
		if !ok {
			return
		}
		p, r := []rune(pattern), []rune(s)
		if len([]rune(pattern)) != len(pos) {
			t.Fatalf("%d positions for a pattern of %d runes", len(pos), len([]rune(pattern)))
		}
		for i, at := range pos {
			if at < 0 || at >= len(r) || i > 0 && at <= pos[i-1] {
				t.Fatalf("positions %v out of order or range in %q", pos, s)
			}
			if i < len(p) && unicode.ToLower(r[at]) != unicode.ToLower(p[i]) {
				t.Fatalf("position %d of %q is %q, not the pattern's %q", at, s, r[at], p[i])
			}
		}
	})
}

func items() []palette.Item {
	return []palette.Item{
		{Kind: "action", Text: "stop", Hint: "S", ID: "S"},
		{Kind: "action", Text: "restart", Hint: "r", ID: "r"},
		{Kind: "action", Text: "save to file", Hint: "W", ID: "W"},
		{Kind: "container", Text: "web", Hint: "running", ID: "c0ffee"},
		{Kind: "container", Text: "old", Hint: "exited (3)", ID: "dead00"},
		{Kind: "image", Text: "base:latest", Hint: "a1b2c3d4e5f6", ID: "sha256:a1b2"},
	}
}

func typeIn(t *testing.T, m palette.Model, ks ...string) (palette.Model, tea.Msg) {
	t.Helper()
	var msg tea.Msg
	for _, k := range ks {
		var cmd tea.Cmd
		m, cmd = m.Update(uitest.Key(k))
		if cmd != nil {
			msg = cmd()
		}
	}
	return m, msg
}

func TestPalette(t *testing.T) {
	th := theme.New(true, false)
	m := palette.New(th, keys.Default(), items())
	if m.Len() != 6 {
		t.Fatalf("%d items shown before typing, want all 6", m.Len())
	}
	m, _ = typeIn(t, m, "s", "t")
	var got []string
	for range m.Len() {
		it, _ := m.Selected()
		got = append(got, it.Text)
		m, _ = typeIn(t, m, "down")
	}
	// stop, whose first letters they are, first; save to file, of two
	// word starts, before restart, whose letters run mid-word.
	if want := []string{"stop", "save to file", "restart", "base:latest"}; !slices.Equal(got, want) {
		t.Errorf("st ranks %q, want %q", got, want)
	}
	// "image base" finds the image by its kind too; without the space,
	// the kind is not matched.
	m = palette.New(th, keys.Default(), items())
	m, msg := typeIn(t, m, "i", "m", "space", "b", "a")
	if it, _ := m.Selected(); it.ID != "sha256:a1b2" || m.Len() != 1 {
		t.Errorf("im ba selected %+v of %d", it, m.Len())
	}
	if m, _ := typeIn(t, palette.New(th, keys.Default(), items()), "c", "t"); m.Len() != 0 {
		t.Errorf("ct, only in the kinds, matches %d items", m.Len())
	}
	_, msg = typeIn(t, m, "enter")
	if d, ok := msg.(palette.DoneMsg); !ok || !d.OK || d.Item.ID != "sha256:a1b2" {
		t.Errorf("enter answered %#v", msg)
	}
	// q and j are typed, not taken as keys; esc closes without an item.
	m = palette.New(th, keys.Default(), items())
	m, msg = typeIn(t, m, "q", "j")
	if msg != nil || m.Len() != 0 {
		t.Errorf("q j: answered %#v, %d shown", msg, m.Len())
	}
	if !strings.Contains(ansi.Strip(m.SetSize(80, 24).View()), "nothing matches") {
		t.Error("no match does not say so")
	}
	_, msg = typeIn(t, m, "esc")
	if d, ok := msg.(palette.DoneMsg); !ok || d.OK {
		t.Errorf("esc answered %#v", msg)
	}
}

func TestPaletteGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		w, h int
		keys []string
	}{
		{"palette_120x40", 120, 40, []string{"s", "t"}},
		{"palette_80x24", 80, 24, nil},
		{"palette_80x24.ansi", 80, 24, []string{"w", "e"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := palette.New(theme.New(true, false), keys.Default(), items()).SetSize(tt.w, tt.h)
			m, _ = typeIn(t, m, tt.keys...)
			v := m.View()
			uitest.Golden(t, tt.name, v)
			for i, l := range strings.Split(v, "\n") {
				if w := ansi.StringWidth(l); w > tt.w {
					t.Errorf("line %d is %d wide on a screen of %d", i, w, tt.w)
				}
			}
		})
	}
}
