package engine

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLogsFollowCancel checks that a follow of a running container ends
// when its context is cancelled, as a closed logs pane's does, and leaves
// the container running.
func TestLogsFollowCancel(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	tests := []struct {
		name, script, want string
	}{
		{"after output", "echo up; exec sleep 1000", "up\n"},
		{"before any output", "exec sleep 1000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := e.Create(Spec{Layers: f.layers, Process: Process{Args: []string{"sh", "-c", tt.script}}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { e.Remove(st.ID, true) })
			if _, err := e.Start(st.ID, false); err != nil {
				t.Fatal(err)
			}
			if tt.want != "" {
				waitLogs(t, e, st.ID, tt.want)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var out syncBuffer
			done := make(chan error, 1)
			go func() { done <- e.Logs(ctx, st.ID, true, &out) }()
			expect(t, &out, tt.want) // the follow has begun
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("follow ended with %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("follow still going 10s after its cancel")
			}
			if s, err := e.Get(st.ID); err != nil || s.Status != Running {
				t.Errorf("after the cancel: %s, %v; want the container running", s.Status, err)
			}
			if out.String() != tt.want {
				t.Errorf("followed %q, want %q", out.String(), tt.want)
			}
		})
	}
}

// TestLogsFollowFirstOutput checks that a follow of a running container
// that has printed nothing yet (and so has no log file) waits for its
// output and its end instead of returning at once.
func TestLogsFollowFirstOutput(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	st, err := e.Create(Spec{Layers: f.layers, Process: Process{Args: []string{"sh", "-c", "sleep 1; echo late"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	if _, err := e.Start(st.ID, false); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- e.Logs(t.Context(), st.ID, true, &out) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow still going 10s after the container's end")
	}
	if out.String() != "late\n" {
		t.Errorf("followed %q, want \"late\\n\"", out.String())
	}
	if s, err := e.Get(st.ID); err != nil || s.Status != Exited {
		t.Errorf("after the follow: %s, %v; want the container exited", s.Status, err)
	}
}
