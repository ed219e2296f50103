package commit

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// entries are n files, with a whiteout and an opaque marker.
func entries(n int) []overlay.PackEntry {
	es := []overlay.PackEntry{
		{Path: "/gone", TarName: ".wh.gone", Kind: overlay.PackWhiteout, Overlay: "trusted.overlay.whiteout"},
		{Path: "/d", TarName: "d/.wh..wh..opq", Kind: overlay.PackOpaque, Overlay: "trusted.overlay.opaque=y"},
	}
	for i := range n {
		es = append(es, overlay.PackEntry{Path: fmt.Sprintf("/f%03d", i), TarName: fmt.Sprintf("f%03d", i), Kind: overlay.PackFile, Size: 1})
	}
	return es
}

func update(t *testing.T, m Model, msgs ...tea.Msg) (Model, tea.Msg) {
	t.Helper()
	var last tea.Msg
	for _, msg := range msgs {
		var cmd tea.Cmd
		m, cmd = m.Update(msg)
		last = nil
		if cmd != nil {
			last = cmd()
		}
	}
	return m, last
}

func pressed(ks ...string) []tea.Msg {
	out := make([]tea.Msg, len(ks))
	for i, k := range ks {
		out[i] = uitest.Key(k)
	}
	return out
}

func newModel() Model {
	return New(theme.New(true, false), keys.Default(), "Commit c").SetSize(80, 24).SetEntries(entries(40))
}

func TestScroll(t *testing.T) {
	m := newModel()
	rows := m.rows()
	tests := []struct {
		keys []string
		top  int
	}{
		{[]string{"down"}, 1},
		{[]string{"up", "up"}, 0},
		{[]string{"pgdown"}, rows},
		{[]string{"pgdown", "pgdown", "pgdown", "pgdown"}, 42 - rows},
		{[]string{"pgdown", "pgdown", "pgdown", "pgdown", "pgup"}, 42 - 2*rows},
	}
	for _, tt := range tests {
		got, _ := update(t, m, pressed(tt.keys...)...)
		if got.top != tt.top {
			t.Errorf("%v: top %d, want %d", tt.keys, got.top, tt.top)
		}
	}
	// A screen grown to show everything scrolls back to the first row.
	m, _ = update(t, m, pressed("pgdown")...)
	if m = m.SetSize(200, 80); m.top != 0 {
		t.Errorf("top %d after growing to show every entry", m.top)
	}
}

// TestAnswer checks enter answers with the fields typed (the name
// trimmed, the message as typed), tab moves between them, esc cancels,
// and nothing answers before the preview is read.
func TestAnswer(t *testing.T) {
	m := newModel()
	msgs := append(pressed(" ", "a", ":", "1", " ", "tab"), tea.PasteMsg{Content: "two words"})
	m, _ = update(t, m, msgs...)
	_, got := update(t, m, uitest.Key("enter"))
	if want := (SubmitMsg{Name: "a:1", Message: "two words"}); got != want {
		t.Errorf("enter answered %#v, want %#v", got, want)
	}
	if _, got := update(t, m, uitest.Key("esc")); got != (CancelMsg{}) {
		t.Errorf("esc answered %#v", got)
	}
	unread := New(theme.New(true, false), keys.Default(), "Commit c")
	if _, got := update(t, unread, uitest.Key("enter")); got != nil {
		t.Errorf("enter before the preview answered %#v", got)
	}
}

// TestError checks an error shows on one line, escaped, until the next
// key, and that a busy dialog takes no keys.
func TestError(t *testing.T) {
	m := newModel().SetBusy(true)
	if m2, got := update(t, m, pressed("x", "enter")...); got != nil || m2.fields[nameField].Value() != "" {
		t.Errorf("a busy dialog took keys: answered %#v, name %q", got, m2.fields[nameField].Value())
	}
	m = m.SetError(errors.New("bad name \x1b[31m\nsecond line"))
	view := ansi.Strip(m.View())
	if !strings.Contains(view, `bad name \x1b[31m; second line`) || strings.Contains(view, "\x1b[31m") {
		t.Errorf("the error is not one escaped line:\n%s", view)
	}
	m, _ = update(t, m, uitest.Key("x"))
	if strings.Contains(ansi.Strip(m.View()), "bad name") {
		t.Error("the error stayed after a key")
	}
}

// TestBothForms checks each whiteout and opaque marker shows its upper
// directory's form beside its layer's, and the view fits its width.
func TestBothForms(t *testing.T) {
	m := newModel()
	view := ansi.Strip(m.View())
	for _, want := range []string{"trusted.overlay.whiteout  .wh.gone", "trusted.overlay.opaque=y  d/.wh..wh..opq", "42 entries"} {
		if !strings.Contains(view, want) {
			t.Errorf("the view lacks %q:\n%s", want, view)
		}
	}
	for i, l := range strings.Split(m.View(), "\n") {
		if w := ansi.StringWidth(l); w != m.width {
			t.Errorf("line %d is %d wide, want %d", i, w, m.width)
		}
	}
}
