package overlay

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestOpenFlags(t *testing.T) {
	tests := []struct {
		flags int
		want  string
	}{
		{unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, "O_RDONLY|O_DIRECTORY|O_CLOEXEC"},
		{unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC, "O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC"},
		{unix.O_RDWR | unix.O_APPEND, "O_RDWR|0x400"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, openFlags(tc.flags)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
