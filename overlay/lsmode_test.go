package overlay

import (
	"io/fs"
	"testing"
)

func TestLsMode(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		want string
	}{
		{0o644, "-rw-r--r--"},
		{fs.ModeDir | 0o755, "drwxr-xr-x"},
		{fs.ModeSymlink | 0o777, "lrwxrwxrwx"},
		{fs.ModeDir | fs.ModeSticky | 0o777, "drwxrwxrwt"},
		{fs.ModeDir | fs.ModeSticky | 0o776, "drwxrwxrwT"},
		{fs.ModeSetuid | 0o4755&0o777, "-rwsr-xr-x"},
		{fs.ModeSetuid | fs.ModeSetgid | 0o644, "-rwSr-Sr--"},
		{fs.ModeDevice | fs.ModeCharDevice, "c---------"},
		{fs.ModeDevice | 0o660, "brw-rw----"},
		{fs.ModeNamedPipe | 0o600, "prw-------"},
		{fs.ModeSocket | 0o777, "srwxrwxrwx"},
	}
	for _, tt := range tests {
		if got := LsMode(tt.mode); got != tt.want {
			t.Errorf("LsMode(%v) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}
