package ui

import (
	"context"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"minidocker/ui/layers"
	"minidocker/ui/stats"
	"minidocker/ui/terminal"
	"minidocker/ui/tree"
)

// Messages of the opened item's streams.
type (
	watchMsg struct {
		ch  <-chan []tree.Node
		err error
	}
	ptyMsg struct {
		pty terminal.Pty
		err error
	}
	// logsMsg is output of the logs' stream ch; ended once ch is closed
	// (the container stopped).
	logsMsg struct {
		data  []byte
		ch    <-chan []byte
		ended bool
	}
	statsMsg struct {
		sample stats.Sample
		err    error
	}
	previewMsg struct {
		text string
		err  error
	}
	// extractAskMsg asks for the host path to extract the entry n to.
	extractAskMsg struct{ n tree.Node }
)

// StatsEvery is how often a container's counters are read.
const StatsEvery = time.Second

func openStack(ref string, load func() (layers.Stack, error)) tea.Cmd {
	return func() tea.Msg {
		r, err := load()
		return stackMsg{ref: ref, stack: r, err: err}
	}
}

func watch(ctx context.Context, s StackWatcher, id string) tea.Cmd {
	return func() tea.Msg {
		ch, err := s.Watch(ctx, id)
		return watchMsg{ch, err}
	}
}

func watchMount(ctx context.Context, s MountSource, m Mount) tea.Cmd {
	return func() tea.Msg {
		ch, err := s.WatchMount(ctx, m)
		return watchMsg{ch, err}
	}
}

func attach(s Terminals, id string, exec bool) tea.Cmd {
	return func() tea.Msg {
		var p terminal.Pty
		var err error
		if exec {
			p, err = s.Exec(id)
		} else {
			p, err = s.Attach(id)
		}
		return ptyMsg{p, err}
	}
}

// chanWriter sends what is written to a channel until ctx ends.
type chanWriter struct {
	ctx context.Context
	ch  chan<- []byte
}

func (w chanWriter) Write(p []byte) (int, error) {
	select {
	case w.ch <- append([]byte(nil), p...):
		return len(p), nil
	case <-w.ctx.Done():
		return 0, w.ctx.Err()
	}
}

// followLogs starts copying the logs into a channel and waits for the
// first chunk.
func followLogs(ctx context.Context, s LogReader, id string, ch chan []byte) tea.Cmd {
	go func() {
		defer close(ch)
		if err := s.Logs(ctx, id, chanWriter{ctx, ch}); err != nil && ctx.Err() == nil {
			select {
			case ch <- []byte("\n[logs: " + err.Error() + "]\n"):
			case <-ctx.Done():
			}
		}
	}()
	return waitLogs(ch)
}

func waitLogs(ch <-chan []byte) tea.Cmd {
	return func() tea.Msg {
		b, ok := <-ch
		if !ok {
			return logsMsg{ch: ch, ended: true}
		}
		// Take what else is waiting, for one frame.
		for len(b) < 1<<16 {
			select {
			case more, ok := <-ch:
				if !ok {
					return logsMsg{data: b, ch: ch, ended: true}
				}
				b = append(b, more...)
				continue
			default:
			}
			break
		}
		return logsMsg{data: b, ch: ch}
	}
}

// readStats reads the counters after wait.
func readStats(ctx context.Context, s StatsReader, id string, wait time.Duration) tea.Cmd {
	return tea.Tick(wait, func(time.Time) tea.Msg {
		if ctx.Err() != nil {
			return nil
		}
		st, err := s.Stats(id)
		return statsMsg{stats.Sample{At: time.Now(), Memory: st.MemoryBytes, MemoryLimit: st.MemoryLimit, CPUNanos: st.CPUNanos, Pids: st.Pids}, err}
	})
}

// PreviewBytes is how much of a file the preview reads.
const PreviewBytes = 64 << 10

func readPreview(open func(tree.Node) (io.ReadCloser, error), n tree.Node) tea.Cmd {
	return func() tea.Msg {
		if open == nil {
			return previewMsg{err: errNoContent}
		}
		r, err := open(n)
		if err != nil {
			return previewMsg{err: err}
		}
		defer r.Close()
		b, err := io.ReadAll(io.LimitReader(r, PreviewBytes))
		return previewMsg{text: previewText(b), err: err}
	}
}
