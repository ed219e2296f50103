package ui

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"minidocker/overlay"
	"minidocker/ui/internal/uitest"
	"minidocker/ui/layers"
)

var (
	_ Committer = (*fakeCommitter)(nil)
	_ Builder   = (*fakeBuilder)(nil)
)

// fakeCommitter previews the upper directory of uitest.Stack: a copy-up,
// new files, a whiteout and an opaque directory; it refuses a name with
// a capital letter, as the store does.
type fakeCommitter struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeCommitter) CommitPreview(id string) ([]overlay.PackEntry, error) {
	dir := func(p string) overlay.PackEntry {
		return overlay.PackEntry{Path: "/" + p, TarName: p + "/", Kind: overlay.PackDir, Mode: fs.ModeDir | 0o755}
	}
	file := func(p string, n int64) overlay.PackEntry {
		return overlay.PackEntry{Path: "/" + p, TarName: p, Kind: overlay.PackFile, Mode: 0o644, Size: n}
	}
	return []overlay.PackEntry{
		dir("bin"),
		{Path: "/bin/ls", TarName: "bin/.wh.ls", Kind: overlay.PackWhiteout, Overlay: "c 0:0"},
		dir("etc"), file("etc/hosts", 220),
		dir("root"), file("root/.ash_history", 40),
		dir("usr"), dir("usr/share"), dir("usr/share/doc"),
		{Path: "/usr/share/doc", TarName: "usr/share/doc/.wh..wh..opq", Kind: overlay.PackOpaque, Overlay: "trusted.overlay.opaque=y"},
		file("usr/share/doc/NEW", 10),
		{Path: "/usr/share/doc/vi", TarName: "usr/share/doc/vi", Kind: overlay.PackSymlink, Linkname: "/bin/busybox", Mode: fs.ModeSymlink | 0o777},
	}, nil
}

func (f *fakeCommitter) Commit(id string, s CommitSpec) (Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "commit "+id+" "+s.Name+" "+s.Message)
	if strings.ToLower(s.Name) != s.Name {
		return Image{}, errors.New("image name " + s.Name + ": invalid reference format: repository name must be lowercase")
	}
	return Image{ID: "sha256:c0c0c0c0c0c0aaaa", ShortID: "c0c0c0c0c0c0", Names: []string{s.Name}, Created: t0,
		Layers: []Layer{{DiffID: "sha256:1111aaaa2222bbbb"}, {DiffID: "sha256:5555eeee6666ffff", CreatedBy: "/bin/sh"}}}, nil
}

// fakeBuilder tells a script of events; then it holds until the build is
// cancelled, or ends with err.
type fakeBuilder struct {
	script []BuildEvent
	hold   bool
	err    error
	specs  chan BuildSpec
}

func (f *fakeBuilder) Build(ctx context.Context, spec BuildSpec, events func(BuildEvent)) (Image, error) {
	if f.specs != nil {
		f.specs <- spec
	}
	for _, ev := range f.script {
		events(ev)
	}
	if f.hold {
		<-ctx.Done()
		events(BuildEvent{Step: 4, Total: 4, Text: "RUN make", State: BuildFailed, Err: ctx.Err()})
		return Image{}, ctx.Err()
	}
	if f.err != nil {
		return Image{}, f.err
	}
	return Image{ID: "sha256:b0b0b0b0b0b0cccc", ShortID: "b0b0b0b0b0b0", Names: []string{"app:latest"}}, nil
}

// stepImage is a build step's image, not listed among the images.
func stepImage(n int) (*Image, func() (layers.Stack, error)) {
	id := strings.Repeat(string(rune('0'+n)), 12)
	img := &Image{ID: "sha256:" + id + "9999", ShortID: id, Created: t0,
		History: []History{{Created: t0, CreatedBy: "step " + id}}}
	return img, func() (layers.Stack, error) { return uitest.ImageStack(), nil }
}

// buildScript is a build of four steps: FROM, a cached COPY, a RUN that
// ran and a RUN running, with output.
func buildScript() []BuildEvent {
	i1, s1 := stepImage(1)
	i2, s2 := stepImage(2)
	i3, s3 := stepImage(3)
	return []BuildEvent{
		{Step: 1, Total: 4, Text: "FROM base", State: BuildRunning},
		{Step: 1, Total: 4, Text: "FROM base", State: BuildDone, Image: i1, Stack: s1},
		{Step: 2, Total: 4, Text: "COPY app /app", State: BuildRunning},
		{Step: 2, Total: 4, Text: "COPY app /app", State: BuildCached, Image: i2, Stack: s2, Elapsed: 30 * time.Millisecond},
		{Step: 3, Total: 4, Text: "RUN rm /bin/ls", State: BuildRunning},
		{Step: 3, Total: 4, Text: "RUN rm /bin/ls", State: BuildRunning, Container: "0123456789abcdef"},
		{Step: 3, Total: 4, Text: "RUN rm /bin/ls", State: BuildDone, Image: i3, Stack: s3, Elapsed: 1200 * time.Millisecond},
		{Step: 4, Total: 4, Text: "RUN make", State: BuildRunning},
		{Step: 4, Total: 4, Text: "RUN make", State: BuildRunning, Container: "c0ffee0123456789"},
		{Step: 4, Total: 4, State: BuildRunning, Output: []byte("cc -o app main.c\n")},
		{Step: 4, Total: 4, State: BuildRunning, Output: []byte("main.c:3: warning: \x1b[31mred\x1b[0m\n\tin main\nlinking")},
	}
}

// newBuildTest returns the UI over the fakes with a committer and
// builder, sized w×h and loaded, its clock stopped at t0.
func newBuildTest(t *testing.T, w, h int, fb *fakeBuilder) (Model, *fakeCommitter) {
	t.Helper()
	fc, fcm := &fakeContainers{}, &fakeCommitter{}
	src := Sources{Images: &fakeImages{}, Mounts: fakeMounts{}, Committer: fcm}
	if fb != nil {
		src.Builder = fb
	}
	src.SetContainers(fc)
	m := New(src, Options{Dark: true})
	m.now = func() time.Time { return t0 }
	m = send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = send(t, m, loadImages(src.Images)())
	m = send(t, m, loadContainers(src.ContainerList)())
	m = send(t, m, loadMounts(src.Mounts)())
	t.Cleanup(func() {
		if m.detail != nil {
			m.detail.close()
		}
	})
	return m, fcm
}

// prog runs a model's commands as Bubble Tea does, each on its own
// goroutine, and feeds their messages back; a command that has not
// answered yet stays pending rather than abandoned, so that no message of
// a stream is lost between two steps of a test. The build's clock ticks
// are dropped: the tests set the clock.
type prog struct {
	t       *testing.T
	m       Model
	pending []chan tea.Msg
	quit    bool
}

func newProg(t *testing.T, m Model) *prog {
	p := &prog{t: t, m: m}
	t.Cleanup(func() { _ = p.m.WaitBuild() })
	return p
}

func (p *prog) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	p.pending = append(p.pending, ch)
}

// send gives the model msg and runs what it answers.
func (p *prog) send(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil, buildTickMsg:
		return
	case tea.QuitMsg:
		p.quit = true
		return
	case tea.BatchMsg:
		for _, c := range msg {
			p.run(c)
		}
		return
	}
	next, cmd := p.m.Update(msg)
	p.m = next.(Model)
	p.run(cmd)
}

// settle feeds messages until none comes for a while.
func (p *prog) settle() {
	idle := time.After(300 * time.Millisecond)
	for len(p.pending) > 0 {
		progress := false
		for i := 0; i < len(p.pending); i++ {
			select {
			case msg := <-p.pending[i]:
				p.pending = append(p.pending[:i], p.pending[i+1:]...)
				i--
				p.send(msg)
				progress = true
			default:
			}
		}
		if progress {
			idle = time.After(300 * time.Millisecond)
			continue
		}
		select {
		case <-idle:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// press presses keys in order, settling after each.
func (p *prog) press(ks ...string) {
	for _, k := range ks {
		p.send(uitest.Key(k))
		p.settle()
	}
}

// startBuild starts a build through the build form: context /src/app,
// tag app, and takes its events until they stop coming.
func startBuild(t *testing.T, m Model) *prog {
	t.Helper()
	p := newProg(t, m)
	p.press(append([]string{"B"}, strings.Split("/src/app", "")...)...)
	p.press("tab", "tab")
	p.press(append(strings.Split("app", ""), "enter")...)
	if p.m.build == nil {
		t.Fatalf("no build view: status %q", p.m.status)
	}
	return p
}
