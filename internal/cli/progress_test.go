package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	digest "github.com/opencontainers/go-digest"

	"minidocker/images"
)

// progressEvents is a pull of two layers: one stored already, one that
// downloads, loses its connection halfway and completes.
func progressEvents() []images.LayerProgress {
	a, b := digest.FromString("a"), digest.FromString("b")
	return []images.LayerProgress{
		{Index: 0, Digest: a, Size: 100, Done: 100, State: images.LayerExists},
		{Index: 1, Digest: b, Size: 2000, State: images.LayerWaiting},
		{Index: 1, Digest: b, Size: 2000, Done: 500, State: images.LayerFetching},
		{Index: 1, Digest: b, Size: 2000, Done: 1000, State: images.LayerFetching},
		{Index: 1, Digest: b, Size: 2000, Done: 1000, State: images.LayerResuming},
		{Index: 1, Digest: b, Size: 2000, Done: 2000, State: images.LayerFetching},
		{Index: 1, Digest: b, Size: 2000, Done: 2000, State: images.LayerDone},
	}
}

// TestPullProgressPlain: without a terminal, a line per change of state.
func TestPullProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	p := newPullProgress(&buf)
	for _, e := range progressEvents() {
		p.update(e)
	}
	p.finish()
	a, b := digest.FromString("a").Encoded()[:12], digest.FromString("b").Encoded()[:12]
	want := []string{
		a + ": Already exists", b + ": Waiting", b + ": Downloading 2kB",
		b + ": Resuming at 1kB of 2kB", b + ": Downloading 2kB", b + ": Pull complete",
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")); diff != "" {
		t.Errorf("plain progress (-want +got):\n%s", diff)
	}
}

// TestPullProgressTerminal: on a terminal, the layers' lines are redrawn in
// place, each cleared first, with a bar while a layer downloads.
func TestPullProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &pullProgress{w: &buf, tty: true, layers: map[int]images.LayerProgress{}}
	for _, e := range progressEvents() {
		p.update(e)
	}
	out := buf.String()
	b := digest.FromString("b").Encoded()[:12]
	for _, want := range []string{
		"\x1b[2K" + b + ": Downloading [==========>                             ]     500B/2kB\n",
		"\x1b[2A\x1b[2K",
		"\x1b[2K" + b + ": Resuming    [====================>                   ]      1kB/2kB\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal progress lacks %q:\n%q", want, out)
		}
	}
	buf.Reset()
	p.finish()
	last := "\x1b[2A\x1b[2K" + digest.FromString("a").Encoded()[:12] + ": Already exists\n\x1b[2K" + b + ": Pull complete\n"
	if buf.String() != last {
		t.Errorf("last drawing %q, want %q", buf.String(), last)
	}
}
