package human

import (
	"io/fs"
	"testing"
)

func TestMode(t *testing.T) {
	tests := []struct {
		name string
		in   fs.FileMode
		want string
	}{
		{"file", 0o644, "-rw-r--r--"},
		{"no permissions", 0, "----------"},
		{"all permissions", 0o777, "-rwxrwxrwx"},
		{"dir", fs.ModeDir | 0o755, "drwxr-xr-x"},
		{"symlink", fs.ModeSymlink | 0o777, "lrwxrwxrwx"},
		{"sticky /tmp", fs.ModeDir | fs.ModeSticky | 0o777, "drwxrwxrwt"},
		{"sticky without x", fs.ModeDir | fs.ModeSticky | 0o776, "drwxrwxrwT"},
		{"char device", fs.ModeDevice | fs.ModeCharDevice | 0o666, "crw-rw-rw-"},
		{"whiteout", fs.ModeDevice | fs.ModeCharDevice, "c---------"},
		{"block device", fs.ModeDevice | 0o660, "brw-rw----"},
		{"fifo", fs.ModeNamedPipe | 0o644, "prw-r--r--"},
		{"socket", fs.ModeSocket | 0o755, "srwxr-xr-x"},
		{"setuid passwd", fs.ModeSetuid | 0o755, "-rwsr-xr-x"},
		{"setuid without x", fs.ModeSetuid | 0o644, "-rwSr--r--"},
		{"setgid", fs.ModeSetgid | 0o755, "-rwxr-sr-x"},
		{"setgid without x", fs.ModeSetgid | 0o640, "-rw-r-S---"},
		{"setgid dir", fs.ModeDir | fs.ModeSetgid | 0o775, "drwxrwsr-x"},
		{"all three", fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o777, "-rwsrwsrwt"},
		{"all three without x", fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky | 0o666, "-rwSrwSrwT"},
		{"irregular", fs.ModeIrregular | 0o644, "?rw-r--r--"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Mode(tc.in); got != tc.want {
				t.Errorf("Mode(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTypeWord(t *testing.T) {
	for m, want := range map[fs.FileMode]string{
		0o644:                             "file",
		fs.ModeDir | 0o755:                "directory",
		fs.ModeSymlink | 0o777:            "symlink",
		fs.ModeDevice | fs.ModeCharDevice: "character device",
		fs.ModeDevice:                     "block device",
		fs.ModeNamedPipe:                  "fifo",
		fs.ModeSocket:                     "socket",
	} {
		if got := TypeWord(m); got != want {
			t.Errorf("TypeWord(%v) = %q, want %q", m, got, want)
		}
	}
}
