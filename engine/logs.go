package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// logPoll is how often a follow looks for new output and for the end of
// the container.
const logPoll = 100 * time.Millisecond

// LogsContext writes a container's output to w. With follow, it keeps
// writing while the container runs, until the container stops or ctx is
// done; then it returns ctx's error.
func (e *Engine) LogsContext(ctx context.Context, ref string, follow bool, w io.Writer) error {
	st, err := e.Get(ref)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(st.Dir, logFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logs %s: %w", st.Name(), err)
	}
	defer f.Close()
	for {
		// Whether it runs is read before the copy: a container that
		// stopped meanwhile has written all its output by then.
		running := follow && e.running(st.ID)
		if _, err := io.Copy(w, f); err != nil {
			return fmt.Errorf("logs %s: %w", st.Name(), err)
		}
		if !running {
			return nil
		}
		if err := pause(ctx, logPoll); err != nil {
			return fmt.Errorf("logs %s: %w", st.Name(), err)
		}
	}
}

// Logs is LogsContext without a context: a follow ends only when the
// container stops.
//
// Deprecated: for the CLI until it moves to internal/cli.
func (e *Engine) Logs(ref string, follow bool, w io.Writer) error {
	return e.LogsContext(context.Background(), ref, follow, w)
}

// running reports whether a container is there and running.
func (e *Engine) running(id string) bool {
	s, err := e.Get(id)
	return err == nil && s.Status == Running
}

// pause waits for d, or returns ctx's error when it is done first.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
