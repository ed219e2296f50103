package compare_test

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"minidocker/overlay"
	"minidocker/ui/compare"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

const evil = "\x1b[31mred\x07"

// TestViewShowsNamesAndTextVisibly checks that an escape sequence in a
// path, a line of text or an entry's name is shown as text and never
// reaches the terminal.
func TestViewShowsNamesAndTextVisibly(t *testing.T) {
	docs := map[string]compare.Input{
		"text": {Path: "/etc/" + evil, Lower: compare.Side{Name: "lower", Read: true, Data: []byte("a\n")},
			Upper: compare.Side{Name: "upper", Read: true, Data: []byte("a\n" + evil + "\tx\n")}},
		"dir": {Path: "/d", Dir: true, Entries: []compare.Entry{{Kind: overlay.Added, Name: evil, Note: "added"}},
			Lower: compare.Side{Name: "lower"}, Upper: compare.Side{Name: "upper"}},
	}
	for name, in := range docs {
		got := compare.New(theme.New(true, false), keys.Default(), compare.Build(in)).SetSize(76, 12).View()
		if strings.Contains(got, evil) || strings.Contains(got, "\x07") {
			t.Errorf("%s: the raw text reached the output", name)
		}
		if !strings.Contains(ansi.Strip(got), `\x1b[31mred\a`) {
			t.Errorf("%s: the text is not shown escaped:\n%s", name, ansi.Strip(got))
		}
	}
}

// TestViewScrolls checks the keys that scroll the body, and that the head
// stays.
func TestViewScrolls(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		b.WriteString("line " + string(rune('a'+i%26)) + "\n")
	}
	in := compare.Input{Path: "/f", Lower: compare.Side{Name: "lower", Label: "layer 0", What: "nothing"},
		Upper: compare.Side{Name: "upper", Label: "upper directory", Read: true, Data: []byte(b.String())}}
	m := compare.New(theme.New(true, false), keys.Default(), compare.Build(in)).SetSize(60, 10)
	first := func(m compare.Model) string { return strings.Split(ansi.Strip(m.View()), "\n")[5] }
	if got := first(m); !strings.Contains(got, "@@ -0,0 +1,100 @@") {
		t.Fatalf("the body starts with %q", got)
	}
	steps := []struct {
		key, want string
	}{
		{"j", "  1 │ + line a"}, {"pgdown", "  6 │ + line f"}, {"G", " 95 │ + line q"}, {"g", "@@ -0,0 +1,100 @@"}, {"k", "@@ -0,0 +1,100 @@"},
	}
	for _, s := range steps {
		m, _ = m.Update(uitest.Key(s.key))
		if got := first(m); !strings.Contains(got, s.want) {
			t.Errorf("after %s the body starts with %q, want %q", s.key, got, s.want)
		}
		if head := strings.Split(ansi.Strip(m.View()), "\n")[1]; !strings.Contains(head, "lower  layer 0 · nothing") {
			t.Errorf("after %s the head is %q", s.key, head)
		}
	}
}
