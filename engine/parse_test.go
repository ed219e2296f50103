package engine

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseVolume(t *testing.T) {
	tests := []struct {
		in      string
		want    Volume
		wantErr bool
	}{
		{in: "/a:/b", want: Volume{Source: "/a", Target: "/b"}},
		{in: "/a/:/b/../c:ro", want: Volume{Source: "/a", Target: "/c", ReadOnly: true}},
		{in: "/a:/b:rw", want: Volume{Source: "/a", Target: "/b"}},
		{in: "/a:/b:xx", wantErr: true},
		{in: "a:/b", wantErr: true},
		{in: "/a:b", wantErr: true},
		{in: "/a", wantErr: true},
		{in: "/a:/b:ro:x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseVolume(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("got %+v, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestErrorsShowControls checks that the names an error repeats from its
// input have their control characters made visible, the project's one way.
func TestErrorsShowControls(t *testing.T) {
	const evil = `x\x1b]52;c;aGk=\a\u202e` // as human.Visible writes it
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"volume", func() error { _, err := ParseVolume("/a\x1b]52;c;aGk=\a\u202e:/b:xx"); return err }, "/a" + evil[1:]},
		{"volume mode", func() error { _, err := ParseVolume("/a:/b:" + "x\x1b]52;c;aGk=\a\u202e"); return err }, evil},
		{"user", func() error { _, err := parseUser("x\x1b]52;c;aGk=\a\u202e", nil, nil); return err }, evil},
		{"group", func() error { _, err := parseUser("0:x\x1b]52;c;aGk=\a\u202e", nil, nil); return err }, evil},
		{"container", func() error { _, err := (&Engine{dir: t.TempDir()}).Get("x\x1b]52;c;aGk=\a\u202e"); return err }, evil},
		{"name", func() error { return validate(&Spec{Name: "x\x1b]52;c;aGk=\a\u202e"}) }, evil},
		{"command", func() error { _, err := lookPath("x\x1b]52;c;aGk=\a\u202e", "/nonexistent"); return err }, evil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.ContainsAny(err.Error(), "\x1b\a\u202e") {
				t.Errorf("error %q, want it to hold %q and no control character", err, tt.want)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	for _, s := range []string{"", "a", "web-1", "web_1.x", "-a", ".a", "_a", "a b", "a/b", "A9", "é", "a\x00", "x-", "x."} {
		if got, want := validName(s), re.MatchString(s); got != want {
			t.Errorf("validName(%q) = %v, want %v", s, got, want)
		}
	}
}
