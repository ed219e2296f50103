package text_test

import (
	"strings"
	"testing"

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
