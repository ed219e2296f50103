package dialog_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/ui/dialog"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
)

func TestForm(t *testing.T) {
	th, km := theme.New(true, false), keys.Default()
	m := dialog.Form(th, km, "run", "Run", "", []dialog.Field{{Label: "cmd"}, {Label: "name", Value: "x"}})
	for _, k := range []string{"s", "h", "x", "backspace", "tab", "y", "enter"} {
		var cmd func() any
		next, c := m.Update(uitest.Key(k))
		m = next
		if c != nil {
			cmd = func() any { return c() }
			got := cmd().(dialog.DoneMsg)
			want := dialog.DoneMsg{ID: "run", OK: true, Values: []string{"sh", "xy"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		}
	}
	if m.Active() {
		t.Error("the form is still open after enter")
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
