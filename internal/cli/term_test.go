package cli

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"minidocker/engine"
	"minidocker/internal/testutil"
)

func TestDetachReader(t *testing.T) {
	tests := []struct {
		name, in, want string
		detached       bool
	}{
		{name: "plain", in: "echo hi\n", want: "echo hi\n"},
		{name: "detach", in: "ls\x10\x11rest", want: "ls", detached: true},
		{name: "ctrl-p alone passes", in: "a\x10b", want: "a\x10b"},
		{name: "ctrl-p at the end passes", in: "a\x10", want: "a\x10"},
		{name: "two ctrl-p then ctrl-q", in: "\x10\x10\x11", want: "\x10", detached: true},
		{name: "ctrl-q alone passes", in: "\x11x", want: "\x11x"},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			name := tt.name
			var r io.Reader = strings.NewReader(tt.in)
			if oneByte {
				name += " one byte at a time"
				r = iotest.OneByteReader(r)
			}
			t.Run(name, func(t *testing.T) {
				got, err := io.ReadAll(&detachReader{r: r})
				if errors.Is(err, errDetached) != tt.detached || (err != nil && !errors.Is(err, errDetached)) {
					t.Errorf("error %v, want detached %v", err, tt.detached)
				}
				if diff := cmp.Diff(tt.want, string(got)); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestMakeRaw(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		testutil.Unavailable(t, "no pty: "+err.Error())
	}
	defer master.Close()
	defer slave.Close()
	fd := int(slave.Fd())
	before, _ := unix.IoctlGetTermios(fd, unix.TCGETS)
	restore, err := makeRaw(fd)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := unix.IoctlGetTermios(fd, unix.TCGETS)
	if raw.Lflag&(unix.ECHO|unix.ICANON|unix.ISIG) != 0 || raw.Oflag&unix.OPOST != 0 {
		t.Errorf("not raw: lflag %#x oflag %#x", raw.Lflag, raw.Oflag)
	}
	restore()
	after, _ := unix.IoctlGetTermios(fd, unix.TCGETS)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("not restored (-want +got):\n%s", diff)
	}
	pty.Setsize(master, &pty.Winsize{Rows: 33, Cols: 77})
	if ws, err := terminalSize(fd); err != nil || ws != (engine.Winsize{Rows: 33, Cols: 77}) {
		t.Errorf("size %v, %v", ws, err)
	}
}
