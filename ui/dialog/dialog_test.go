package dialog_test

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"minidocker/ui/dialog"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

// answer sends msgs to m in order and returns the answer of the last
// one, if it answered.
func answer(t *testing.T, m dialog.Model, msgs ...tea.Msg) (dialog.Model, *dialog.DoneMsg) {
	t.Helper()
	var done *dialog.DoneMsg
	for _, msg := range msgs {
		next, cmd := m.Update(msg)
		m = next
		if cmd != nil {
			if d, ok := cmd().(dialog.DoneMsg); ok {
				done = &d
			}
		}
	}
	return m, done
}

func typed(ks ...string) []tea.Msg {
	var out []tea.Msg
	for _, k := range ks {
		out = append(out, uitest.Key(k))
	}
	return out
}

func TestForm(t *testing.T) {
	th, km := theme.New(true, false), keys.Default()
	tests := []struct {
		name string
		msgs []tea.Msg
		want []string
	}{
		{"type, delete, next field", typed("s", "h", "x", "backspace", "tab", "y", "enter"), []string{"sh", "xy"}},
		// The cursor moves: ← twice, then a letter goes in the middle.
		{"insert at the cursor", typed("a", "c", "left", "b", "down", "home", "w", "enter"), []string{"abc", "wx"}},
		{"shift+tab goes back", typed("tab", "shift+tab", "z", "enter"), []string{"z", "x"}},
		// A bracketed paste goes in whole; its newline becomes a space and
		// its escape sequence's control characters and a bidi override are
		// kept out.
		{"paste", []tea.Msg{tea.PasteMsg{Content: "ls\n-l \x1b]52;c;aGk=\x07\u202e"}, uitest.Key("enter")}, []string{"ls -l ]52;c;aGk=", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := dialog.Form(th, km, "run", "Run", "", []dialog.Field{{Label: "cmd"}, {Label: "name", Value: "x"}})
			m, got := answer(t, m, tt.msgs...)
			if got == nil {
				t.Fatal("no answer")
			}
			if diff := cmp.Diff(dialog.DoneMsg{ID: "run", OK: true, Values: tt.want}, *got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if m.Active() {
				t.Error("the form is still open after enter")
			}
		})
	}
}

// TestFormHints checks that an empty field shows its hint and a field its
// starting value.
func TestFormHints(t *testing.T) {
	m := dialog.Form(theme.New(true, false), keys.Default(), "load", "Load", "", []dialog.Field{{Label: "file", Hint: "/path/to/image.tar"}, {Label: "as", Value: "/tmp/x"}})
	got := ansi.Strip(m.View())
	for _, want := range []string{"file /path/to/image.tar", "as   /tmp/x"} {
		if !strings.Contains(got, want) {
			t.Errorf("the form lacks %q:\n%s", want, got)
		}
	}
}

func TestConfirm(t *testing.T) {
	th, km := theme.New(true, false), keys.Default()
	for k, ok := range map[string]bool{"y": true, "n": false, "esc": false} {
		m := dialog.Confirm(th, km, "rm", "Remove", "Remove it?")
		m, cmd := m.Update(uitest.Key(k))
		if cmd == nil {
			t.Fatalf("%s: no answer", k)
		}
		if got := cmd().(dialog.DoneMsg); got.OK != ok || m.Active() {
			t.Errorf("%s: answer %+v, open %v", k, got, m.Active())
		}
	}
}
