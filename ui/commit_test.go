package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"minidocker/ui/internal/uitest"
)

func typed(s string) []string { return strings.Split(s, "") }

func TestCommitGolden(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		keys []string
	}{
		{"commit_dialog", 120, 40, append([]string{"2", "enter", "C"}, typed("web:v2")...)},
		{"commit_dialog_80x24", 80, 24, []string{"2", "enter", "C", "down", "down"}},
		{"commit_error", 120, 40, append(append([]string{"2", "enter", "C"}, typed("Web")...), "enter")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newBuildTest(t, tt.w, tt.h, nil)
			m = press(t, m, tt.keys...)
			uitest.Golden(t, tt.name, m.render())
		})
	}
}

// TestCommit checks the dialog commits the container under the name and
// message typed, then opens the new image on its top layer.
func TestCommit(t *testing.T) {
	m, fc := newBuildTest(t, 120, 40, nil)
	m = press(t, m, "2", "enter", "C")
	m = press(t, m, typed("web:v2")...)
	m = press(t, m, "tab")
	m = press(t, m, append(typed("added NEW"), "enter")...)
	if want := []string{"commit c0ffee0123456789 web:v2 added NEW"}; !slices.Equal(fc.calls, want) {
		t.Errorf("calls %q, want %q", fc.calls, want)
	}
	if m.commit != nil || m.detail == nil || m.detail.kind != kindImage || m.detail.id != "sha256:c0c0c0c0c0c0aaaa" {
		t.Fatalf("after the commit: dialog %v, detail %+v", m.commit != nil, m.detail)
	}
	screen := ansi.Strip(m.render())
	for _, want := range []string{"› web:v2", "layer 1 of 2", "committed c0c0c0c0c0c0 as web:v2"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the image view lacks %q:\n%s", want, screen)
		}
	}
	m = press(t, m, "esc")
	if m.detail != nil {
		t.Error("esc from the new image did not go home")
	}
}

// TestCommitError checks an error stays in the dialog on one line until
// the next key, and esc closes the dialog without a commit.
func TestCommitError(t *testing.T) {
	m, fc := newBuildTest(t, 120, 40, nil)
	m = press(t, m, "2", "enter", "C")
	m = press(t, m, append(typed("Web"), "enter")...)
	if m.commit == nil || !strings.Contains(ansi.Strip(m.render()), "repository name must be lowercase") {
		t.Fatalf("the error is not in the dialog:\n%s", ansi.Strip(m.render()))
	}
	m = press(t, m, "backspace")
	if strings.Contains(ansi.Strip(m.render()), "lowercase") {
		t.Error("the error stayed after the next key")
	}
	m = press(t, m, "esc")
	if m.commit != nil || m.detail == nil || m.detail.kind != kindContainer || len(fc.calls) != 1 {
		t.Errorf("esc: dialog %v, detail %+v, calls %q", m.commit != nil, m.detail, fc.calls)
	}
}

// TestCommitOff checks the key does nothing without a committer, and
// that only a container's view offers it.
func TestCommitOff(t *testing.T) {
	m, _, _ := newTest(t, 120, 40, false)
	m = press(t, m, "2", "enter", "C")
	if m.commit != nil {
		t.Error("the dialog opened without a committer")
	}
	m2, _ := newBuildTest(t, 120, 40, nil)
	m2 = press(t, m2, "enter", "C")
	if m2.commit != nil {
		t.Error("the dialog opened over an image")
	}
}

// TestHelpShowsMakers checks the help lists commit and build when their
// roles are there.
func TestHelpShowsMakers(t *testing.T) {
	m, _ := newBuildTest(t, 80, 24, &fakeBuilder{})
	screen := ansi.Strip(press(t, m, "?").render())
	for _, want := range []string{"C      commit", "B build image"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the help lacks %q:\n%s", want, screen)
		}
	}
	uitest.Golden(t, "help_makers_80x24", screen)
}
