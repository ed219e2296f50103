package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"minidocker/images"
	"minidocker/internal/human"
)

// pullProgress shows a pull's layers as docker does: on a terminal, a line
// per layer redrawn in place, with a bar while it downloads; elsewhere a
// line each time a layer starts, resumes or ends. update is called from
// several goroutines.
type pullProgress struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	layers map[int]images.LayerProgress
	order  []int // layer indexes, in the order first told
	drawn  int   // lines drawn on the terminal
	last   time.Time
}

func newPullProgress(w io.Writer) *pullProgress {
	f, ok := w.(*os.File)
	return &pullProgress{w: w, tty: ok && isTerminal(f), layers: map[int]images.LayerProgress{}}
}

// update records what the pull says of one layer, and shows it: on a
// terminal at most every 100 ms, or at once when the layer changes state.
func (p *pullProgress) update(lp images.LayerProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev, seen := p.layers[lp.Index]
	if !seen {
		p.order = append(p.order, lp.Index)
	}
	p.layers[lp.Index] = lp
	changed := !seen || prev.State != lp.State
	switch {
	case p.tty && (changed || time.Since(p.last) >= 100*time.Millisecond):
		p.draw()
	case !p.tty && changed:
		fmt.Fprintln(p.w, plainLine(lp))
	}
}

// finish draws the layers' last states; p may be nil.
func (p *pullProgress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && len(p.order) > 0 {
		p.draw()
	}
}

// draw rewrites the layers' lines in place: up to the first, then each
// line cleared and written again.
func (p *pullProgress) draw() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	for _, i := range p.order {
		b.WriteString("\x1b[2K")
		b.WriteString(ttyLine(p.layers[i]))
		b.WriteByte('\n')
	}
	p.drawn = len(p.order)
	p.last = time.Now()
	io.WriteString(p.w, b.String())
}

// shortBlob is how docker names a layer in its progress: 12 hex digits.
func shortBlob(lp images.LayerProgress) string {
	e := lp.Digest.Encoded()
	return e[:min(12, len(e))]
}

// ttyLine is a layer's line on a terminal.
func ttyLine(lp images.LayerProgress) string {
	switch lp.State {
	case images.LayerFetching, images.LayerResuming:
		verb := "Downloading"
		if lp.State == images.LayerResuming {
			verb = "Resuming   "
		}
		return fmt.Sprintf("%s: %s %s", shortBlob(lp), verb, bar(lp.Done, lp.Size))
	}
	return fmt.Sprintf("%s: %s", shortBlob(lp), stateWord(lp.State))
}

// plainLine is a layer's line where no terminal redraws it.
func plainLine(lp images.LayerProgress) string {
	switch lp.State {
	case images.LayerFetching:
		return fmt.Sprintf("%s: Downloading %s", shortBlob(lp), human.Size(lp.Size))
	case images.LayerResuming:
		return fmt.Sprintf("%s: Resuming at %s of %s", shortBlob(lp), human.Size(lp.Done), human.Size(lp.Size))
	}
	return fmt.Sprintf("%s: %s", shortBlob(lp), stateWord(lp.State))
}

// stateWord is docker's word for a layer's state.
func stateWord(st images.LayerState) string {
	s := st.String()
	return strings.ToUpper(s[:1]) + s[1:]
}
