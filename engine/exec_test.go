package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExec(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	st, err := e.Create(Spec{Layers: f.layers, Hostname: "target", Resources: Resources{Pids: 50},
		Process: Process{Args: []string{"sh", "-c", "echo ready > /tmp/ready; exec sleep 1000"}, Env: []string{"FROM=container"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	if _, err := e.Start(st.ID, false); err != nil {
		t.Fatal(err)
	}
	// One line of /proc/self/cgroup per hierarchy the container is in.
	cgroups := fmt.Sprintf("%d\n", len(st.Cgroup.Dirs))
	tests := []struct {
		name string
		p    Process
		want string
		code int
	}{
		{name: "same pid namespace", p: Process{Args: []string{"sh", "-c", "ps -o pid,comm > /tmp/ps; awk '{print $2 ($1 == 1 ? \"=1\" : \"\")}' /tmp/ps | tr '\\n' ' '"}}, want: "COMMAND sleep=1 sh ps "},
		{name: "same hostname, mounts and files", p: Process{Args: []string{"sh", "-c", "hostname; awk '$5 == \"/\" {print $9}' /proc/self/mountinfo; cat /tmp/ready"}}, want: "target\noverlay\nready\n"},
		{name: "environment and working dir", p: Process{Args: []string{"sh", "-c", "echo $FROM $MORE; pwd"}, Env: []string{"MORE=exec"}, Cwd: "/etc"}, want: "container exec\n/etc\n"},
		{name: "same cgroup", p: Process{Args: []string{"sh", "-c", "cat /proc/self/cgroup | grep -c minidocker"}}, want: cgroups},
		{name: "exit code", p: Process{Args: []string{"sh", "-c", "exit 9"}}, code: 9},
		{name: "tty", p: Process{Args: []string{"sh", "-c", "stty size"}, Tty: true}, want: "24 80\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out syncBuffer
			code, err := e.Exec(st.ID, tt.p, Stdio{Stdout: &out, Stderr: &out})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s\n%q", diff, out.String())
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
		})
	}
	t.Run("command not found", func(t *testing.T) {
		code, err := e.Exec(st.ID, Process{Args: []string{"nosuch"}}, Stdio{})
		if !errors.Is(err, ErrCommandNotFound) || code != 127 {
			t.Errorf("got %d, %v; want 127 and ErrCommandNotFound", code, err)
		}
	})
	if _, err := e.Stop(st.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	t.Run("stopped container", func(t *testing.T) {
		_, err := e.Exec(st.ID, Process{Args: []string{"true"}}, Stdio{})
		if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), st.Name()) {
			t.Errorf("got %v, want ErrNotRunning naming the container", err)
		}
	})
}
