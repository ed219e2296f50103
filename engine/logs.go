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

// Logs writes a container's output to w. With follow, it keeps
// writing while the container runs, until the container stops or ctx is
// done (then it returns ctx's error); a running container that has printed
// nothing yet is waited for.
func (e *Engine) Logs(ctx context.Context, ref string, follow bool, w io.Writer) error {
	st, err := e.Get(ref)
	if err != nil {
		return err
	}
	f, err := e.openLog(ctx, st, follow)
	if f == nil || err != nil {
		return err
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

// openLog opens a container's log, or returns nil when it has none: the
// monitor makes the log on the first output. Following, it waits for that
// output while the container runs, as docker logs -f does.
func (e *Engine) openLog(ctx context.Context, st State, follow bool) (*os.File, error) {
	path := filepath.Join(st.Dir, logFile)
	for {
		// As in Logs: a container seen stopped has made its log
		// by then, if it printed anything.
		running := follow && e.running(st.ID)
		f, err := os.Open(path)
		switch {
		case err == nil:
			return f, nil
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("logs %s: %w", st.Name(), err)
		case !running:
			return nil, nil
		}
		if err := pause(ctx, logPoll); err != nil {
			return nil, fmt.Errorf("logs %s: %w", st.Name(), err)
		}
	}
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
