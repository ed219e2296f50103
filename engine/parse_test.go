package engine

import (
	"errors"
	"regexp"
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

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "256m", want: 256 << 20}, {in: "1g", want: 1 << 30}, {in: "512k", want: 512 << 10},
		{in: "100", want: 100}, {in: "1.5G", want: 3 << 29}, {in: "64mb", want: 64 << 20},
		{in: "x", wantErr: true}, {in: "-1m", wantErr: true}, {in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBytes(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %d, %v; want %d (error %v)", got, err, tt.want, tt.wantErr)
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
