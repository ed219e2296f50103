package engine

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is output written by one goroutine and watched by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// expect waits until the output holds want.
func expect(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output %q never held %q", out.String(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSession runs sess.Wait in the background.
func waitSession(sess *Session, out *syncBuffer) <-chan int {
	done := make(chan int, 1)
	go func() {
		code, err := sess.Wait(out, out)
		if err != nil {
			code = -1
		}
		done <- code
	}()
	return done
}

func TestPtyEchoesAndResizes(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	st, err := e.Create(Spec{Layers: f.layers, OpenStdin: true, Process: Process{Args: []string{"sh"}, Tty: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	sess, err := e.Start(st.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := waitSession(sess, &out)
	sess.Resize(40, 120)
	sess.Write([]byte("echo $((6*7)); tty; stty size\n"))
	expect(t, &out, "echo $((6*7))") // the tty echoes input
	expect(t, &out, "42\r\n")        // and turns \n into \r\n
	expect(t, &out, "40 120\r\n")
	expect(t, &out, "/dev/pts/0\r\n") // from the container's own devpts
	sess.Resize(30, 100)
	sess.Write([]byte("stty size\n"))
	expect(t, &out, "30 100\r\n")
	sess.Write([]byte("exit 5\n"))
	if code := <-done; code != 5 {
		t.Errorf("exit code %d, want 5; output %q", code, out.String())
	}
}

func TestDetachAttach(t *testing.T) {
	f := newFixture(t)
	e := f.open(t)
	st, err := e.Create(Spec{Layers: f.layers, OpenStdin: true, Process: Process{Args: []string{"sh"}, Tty: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Remove(st.ID, true) })
	if sess, err := e.Start(st.ID, false); err != nil || sess != nil {
		t.Fatalf("start detached: %v, %v", sess, err)
	}
	for i := range 2 {
		sess, err := e.Attach(st.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out syncBuffer
		done := waitSession(sess, &out)
		sess.Write([]byte("echo round-$((1+" + string(rune('0'+i)) + "))\n"))
		expect(t, &out, "round-"+string(rune('1'+i)))
		sess.Close() // detach
		<-done
		if s, _ := e.Get(st.ID); s.Status != Running {
			t.Fatalf("after detach: status %s", s.Status)
		}
	}
	sess, err := e.Attach(st.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	done := waitSession(sess, &out)
	sess.Write([]byte("exit 7\n"))
	if code := <-done; code != 7 {
		t.Errorf("exit code %d, want 7", code)
	}
	var logs bytes.Buffer
	if err := e.Logs(t.Context(), st.ID, false, &logs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"round-1\r\n", "round-2\r\n", "exit 7"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs %q lack %q", logs.String(), want)
		}
	}
	if s, _ := e.Get(st.ID); s.Status != Exited || s.ExitCode != 7 {
		t.Errorf("state %s code %d, want exited 7", s.Status, s.ExitCode)
	}
}
