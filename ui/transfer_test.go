package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"minidocker/ui/internal/uitest"
)

// fakeRegistry tells its layers (or its bytes), then waits for release
// or for the context's end, which it reports as the store does.
type fakeRegistry struct {
	layers  []PullLayer
	release chan struct{}
	err     error // what a released transfer returns
	pulled  Pulled
	pushed  Pushed

	mu     sync.Mutex
	pulls  []PullSpec
	pushes []PushSpec
	ended  error // the context's error, when it ended a transfer
}

var _ Registry = (*fakeRegistry)(nil)

func newFakeRegistry() *fakeRegistry {
	return &fakeRegistry{release: make(chan struct{}), layers: fakeLayers()}
}

func (f *fakeRegistry) Pull(ctx context.Context, spec PullSpec, progress func(PullLayer)) (Pulled, error) {
	f.mu.Lock()
	f.pulls = append(f.pulls, spec)
	f.mu.Unlock()
	for _, l := range f.layers {
		progress(l)
	}
	if err := f.wait(ctx); err != nil {
		return Pulled{}, fmt.Errorf("pull %s: %w", spec.Ref, err)
	}
	return f.pulled, f.err
}

func (f *fakeRegistry) Push(ctx context.Context, spec PushSpec, progress func(done, total int64)) (Pushed, error) {
	f.mu.Lock()
	f.pushes = append(f.pushes, spec)
	f.mu.Unlock()
	progress(1_500_000, 4_000_000)
	if err := f.wait(ctx); err != nil {
		return Pushed{}, fmt.Errorf("push %s: %w", spec.Dest, err)
	}
	progress(4_000_000, 4_000_000)
	return f.pushed, f.err
}

func (f *fakeRegistry) wait(ctx context.Context) error {
	select {
	case <-f.release:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		f.ended = ctx.Err()
		f.mu.Unlock()
		return ctx.Err()
	}
}

// fakeLayers are a pull's five layers, one in each state.
func fakeLayers() []PullLayer {
	return []PullLayer{
		{Index: 0, Digest: "sha256:1111aaaa2222bbbb3333cccc", Size: 3_400_000, Done: 3_400_000, State: PullExists},
		{Index: 1, Digest: "sha256:4444dddd5555eeee6666ffff", Size: 28_000_000, Done: 28_000_000, State: PullDone},
		{Index: 2, Digest: "sha256:7777aaaa8888bbbb9999cccc", Size: 52_000_000, Done: 13_000_000, State: PullFetching},
		{Index: 3, Digest: "sha256:aaaa0000bbbb1111cccc2222", Size: 9_000_000, Done: 6_000_000, State: PullResuming},
		{Index: 4, Digest: "sha256:dddd3333eeee4444ffff5555", Size: 700_000, State: PullWaiting},
	}
}

// newRegTest is the UI over the fakes and reg, sized w×h.
func newRegTest(t *testing.T, w, h int, reg *fakeRegistry, o Options) (Model, Sources) {
	t.Helper()
	fc, fi := &fakeContainers{}, &fakeImages{}
	src := Sources{Images: fi, ImageManager: fi, Mounts: fakeMounts{}, Registry: reg}
	src.SetContainers(fc)
	o.Dark = true
	m := New(src, o)
	m = send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	m = send(t, m, loadImages(src.Images)())
	m = send(t, m, loadContainers(src.ContainerList)())
	return send(t, m, loadMounts(src.Mounts)()), src
}

// submit presses enter on the dialog and starts the transfer, as the
// program runs the first command of the batch (the spinner's tick is
// left): it returns with the transfer's first progress taken.
func submit(t *testing.T, m Model) Model {
	t.Helper()
	next, cmd := m.Update(uitest.Key("enter"))
	m = next.(Model)
	if m.xfer == nil || cmd == nil {
		t.Fatalf("enter started no transfer (status %q)", m.status)
	}
	batch, ok := cmd().(tea.BatchMsg)
	if !ok || len(batch) == 0 {
		t.Fatal("enter gave no batch of commands")
	}
	return send(t, m, batch[0]())
}

// pump gives m the transfer's next progress, waiting for it as the
// program's command does.
func pump(t *testing.T, m Model) Model {
	t.Helper()
	if m.xfer == nil {
		t.Fatal("no transfer to wait for")
	}
	return send(t, m, m.xfer.run.wait())
}

// shown is the progress of a pull with fakeLayers, drawn without a
// goroutine: the transfer's messages are given by hand.
func shown(t *testing.T, w, h int, ref string, ls []PullLayer) Model {
	t.Helper()
	m, _ := newRegTest(t, w, h, newFakeRegistry(), Options{})
	m = press(t, m, append([]string{"u"}, typed(ref)...)...)
	next, _ := m.Update(uitest.Key("enter")) // its command, the pull, is not run
	m = next.(Model)
	return send(t, m, transferMsg{run: m.xfer.run, snap: transferSnap{layers: ls}})
}

func TestRegistryGolden(t *testing.T) {
	const ref = "127.0.0.1:5000/e2e/base:v1"
	for _, tt := range []struct {
		name string
		w, h int
		keys []string
	}{
		{"pull_dialog_120x40", 120, 40, append(append([]string{"u"}, typed(ref)...), "tab", "space")},
		{"pull_dialog_80x24", 80, 24, append([]string{"u"}, typed(ref)...)},
		{"pull_dialog_empty", 80, 24, []string{"u", "enter"}},
		{"push_dialog_120x40", 120, 40, []string{"U"}},
		{"push_dialog_80x24", 80, 24, []string{"U", "tab", "y"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newRegTest(t, tt.w, tt.h, newFakeRegistry(), Options{})
			uitest.Golden(t, tt.name, press(t, m, tt.keys...).render())
		})
	}
	for _, sz := range [][2]int{{120, 40}, {80, 24}} {
		name := fmt.Sprintf("pull_progress_%dx%d", sz[0], sz[1])
		t.Run(name, func(t *testing.T) {
			uitest.Golden(t, name, shown(t, sz[0], sz[1], ref, fakeLayers()).render())
		})
	}
	// More layers than fit at 80×24: the finished ones give way.
	t.Run("pull_progress_many_80x24", func(t *testing.T) {
		var ls []PullLayer
		for i := range 30 {
			st := PullDone
			if i >= 12 {
				st = PullWaiting
			}
			if i == 12 || i == 13 {
				st = PullFetching
			}
			ls = append(ls, PullLayer{Index: i, Digest: fmt.Sprintf("sha256:%012x", 0xabc000+i), Size: 1_000_000, Done: int64(i%3) * 300_000, State: st})
		}
		m := shown(t, 80, 24, ref, ls)
		screen := m.render()
		uitest.Golden(t, "pull_progress_many_80x24", screen)
		for _, want := range []string{"12 more layers finished", "… 5 more layers"} {
			if !strings.Contains(ansi.Strip(screen), want) {
				t.Errorf("the progress lacks %q", want)
			}
		}
	})
}

// TestPullCancel checks esc cancels the pull's context, the box says so
// until the pull ended, then closes, the header naming what was
// cancelled.
func TestPullCancel(t *testing.T) {
	reg := newFakeRegistry()
	m, _ := newRegTest(t, 120, 40, reg, Options{})
	m = press(t, m, append([]string{"u"}, typed("127.0.0.1:5000/base:v1")...)...)
	m = press(t, m, "tab", "space")
	m = submit(t, m)
	for len(m.xfer.snap.layers) < len(reg.layers) {
		m = pump(t, m)
	}
	if want := []PullSpec{{Ref: "127.0.0.1:5000/base:v1", Insecure: true}}; !cmp.Equal(reg.pulls, want) {
		t.Errorf("pulls %v, want %v", reg.pulls, want)
	}
	screen := ansi.Strip(m.render())
	for _, want := range []string{"Pulling 127.0.0.1:5000/base:v1", "7777aaaa8888", "downloading", "esc cancel the pull", "2 of 5 layers done"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the progress lacks %q:\n%s", want, screen)
		}
	}
	m = send(t, m, uitest.Key("esc"))
	if !strings.Contains(ansi.Strip(m.render()), "Cancelling the pull of 127.0.0.1:5000/base:v1") {
		t.Errorf("esc did not say it cancels:\n%s", ansi.Strip(m.render()))
	}
	// The box has the keys: q does not quit.
	if next, cmd := m.Update(uitest.Key("q")); cmd != nil {
		t.Error("q under the box gave a command")
	} else {
		m = next.(Model)
	}
	m = pump(t, m)
	if m.xfer != nil {
		t.Fatal("the box stayed open after the cancelled pull ended")
	}
	if !errors.Is(reg.ended, context.Canceled) {
		t.Errorf("the pull's context ended with %v, want it cancelled", reg.ended)
	}
	if want := "pull of 127.0.0.1:5000/base:v1 cancelled"; m.status != want {
		t.Errorf("status %q, want %q", m.status, want)
	}
	m.WaitTransfer() // nothing under way: it returns
}

// TestPullError checks a failed pull keeps its box, with the error in one
// line naming the reference, in the header too; esc closes it.
func TestPullError(t *testing.T) {
	reg := newFakeRegistry()
	reg.err = errors.New(`pull 127.0.0.1:1/nope: registry 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused`)
	close(reg.release)
	m, _ := newRegTest(t, 80, 24, reg, Options{})
	m = press(t, m, append([]string{"u"}, typed("127.0.0.1:1/nope")...)...)
	m = submit(t, m)
	for m.xfer.snap.end == nil {
		m = pump(t, m)
	}
	screen := m.render()
	uitest.Golden(t, "pull_error_80x24", screen)
	if !strings.HasPrefix(m.status, "error: pull 127.0.0.1:1/nope: ") {
		t.Errorf("status %q, want the error naming the reference", m.status)
	}
	if !strings.Contains(ansi.Strip(screen), "Pull of 127.0.0.1:1/nope failed") {
		t.Errorf("the box does not say the pull failed:\n%s", ansi.Strip(screen))
	}
	m = press(t, m, "enter") // not an image to open: enter closes
	if m.xfer != nil || m.detail != nil {
		t.Error("enter on a failed pull did not just close the box")
	}
}

// TestPullOpens checks a pull that ended well selects the image pulled
// and enter opens its view.
func TestPullOpens(t *testing.T) {
	reg := newFakeRegistry()
	m, src := newRegTest(t, 120, 40, reg, Options{})
	imgs, _ := src.Images.Images()
	reg.pulled = Pulled{Image: imgs[0], Name: "base:latest", Digest: "sha256:99aa", Fetched: 3}
	close(reg.release)
	m = press(t, m, "j") // the selection is not the image pulled
	m = press(t, m, append([]string{"u"}, typed("base")...)...)
	m = submit(t, m)
	for m.xfer.snap.end == nil {
		m = pump(t, m)
	}
	if m.status != "pulled base:latest" {
		t.Errorf("status %q", m.status)
	}
	screen := ansi.Strip(m.render())
	for _, want := range []string{"Pulled base", "digest sha256:99aa", "3 layers fetched, stored as base:latest", "enter open the image"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the ended pull lacks %q:\n%s", want, screen)
		}
	}
	m = press(t, m, "enter")
	if m.xfer != nil || m.detail == nil || m.detail.id != imgs[0].ID {
		t.Fatalf("enter did not open the image pulled: %+v", m.detail)
	}
	m.detail.close()
	if it, _ := m.panels[imagesPanel].Selected(); it.ID != imgs[0].ID {
		t.Errorf("the Images panel selects %s, want the image pulled", it.ID)
	}
}

// TestPush checks the push dialog offers the image's name, sends the
// image selected to the reference typed, and shows the digest.
func TestPush(t *testing.T) {
	reg := newFakeRegistry()
	reg.pushed = Pushed{Ref: "127.0.0.1:5000/e2e/base:v2", Digest: "sha256:5e5e5e5e5e5e5e5e", Size: 1234}
	close(reg.release)
	m, _ := newRegTest(t, 120, 40, reg, Options{})
	m = press(t, m, "U")
	if got := m.regForm.ref.Value(); got != "base:latest" {
		t.Errorf("the destination starts as %q, want the image's name", got)
	}
	for range len("base:latest") {
		m = press(t, m, "backspace")
	}
	m = press(t, m, typed("127.0.0.1:5000/e2e/base:v2")...)
	m = press(t, m, "down", "y")
	m = submit(t, m)
	for m.xfer.snap.end == nil {
		m = pump(t, m)
	}
	want := []PushSpec{{Image: "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90", Dest: "127.0.0.1:5000/e2e/base:v2", Insecure: true}}
	if diff := cmp.Diff(want, reg.pushes); diff != "" {
		t.Errorf("pushes (-want +got):\n%s", diff)
	}
	uitest.Golden(t, "push_done_120x40", m.render())
	if !strings.Contains(ansi.Strip(m.render()), "digest sha256:5e5e5e5e5e5e5e5e") {
		t.Error("the push's digest is not shown")
	}
	m = press(t, m, "esc")
	if m.xfer != nil {
		t.Error("esc did not close the ended push's box")
	}
	// The host reached without TLS checks is offered so again.
	m = press(t, m, "u")
	m = press(t, m, typed("127.0.0.1:5000/other")...)
	if m.regForm.insecure {
		t.Error("the pull dialog starts with TLS checks off")
	}
	m = press(t, m, "esc")
	if m.regForm != nil {
		t.Fatal("esc did not close the pull dialog")
	}
	if got := rememberHost(m.insecure, "127.0.0.1:5000/x", true); len(got) != 1 {
		t.Errorf("hosts %q: the host twice", got)
	}
}

// TestRegistryKeysOff checks the keys do nothing without a registry, and
// that presenter mode refuses them, saying so.
func TestRegistryKeysOff(t *testing.T) {
	m, _, _ := newTest(t, 120, 40, false)
	if m = press(t, m, "u"); m.regForm != nil {
		t.Error("u opened the pull dialog without a registry")
	}
	m, _ = newRegTest(t, 120, 40, newFakeRegistry(), Options{Presenter: true})
	for _, k := range []string{"u", "U"} {
		m = press(t, m, k)
		if m.regForm != nil {
			t.Fatalf("%s opened a dialog in presenter mode", k)
		}
		if !strings.HasSuffix(m.status, "is off (presenter)") {
			t.Errorf("%s: status %q", k, m.status)
		}
	}
}

// TestOpenAtStart checks ui REF: a stored image opens at once; one to pull
// shows the pull, then opens.
func TestOpenAtStart(t *testing.T) {
	m, _ := newRegTest(t, 120, 40, newFakeRegistry(), Options{Image: "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90"})
	m = runQuick(t, m, m.Init())
	if m.detail == nil || m.detail.id != "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90" {
		t.Fatalf("the image did not open: %+v", m.detail)
	}
	m.detail.close()

	reg := newFakeRegistry()
	base, _ := (&fakeImages{}).Images()
	reg.pulled = Pulled{Image: base[0], Name: "base:latest", Digest: "sha256:99aa"}
	close(reg.release)
	m, _ = newRegTest(t, 120, 40, reg, Options{Pull: &PullSpec{Ref: "127.0.0.1:5000/base", Insecure: true}})
	if m.xfer == nil {
		t.Fatal("no pull at start")
	}
	m = runQuick(t, m, m.Init())
	if m.xfer != nil || m.detail == nil || m.detail.id != base[0].ID {
		t.Fatalf("the pulled image did not open (box %v, status %q)", m.xfer != nil, m.status)
	}
	m.detail.close()
	if want := []PullSpec{{Ref: "127.0.0.1:5000/base", Insecure: true}}; !cmp.Equal(reg.pulls, want) {
		t.Errorf("pulls %v, want %v", reg.pulls, want)
	}
}

// TestPaletteHasRegistry checks the palette offers pull and push from the
// Images panel, and runs them.
func TestPaletteHasRegistry(t *testing.T) {
	m, _ := newRegTest(t, 120, 40, newFakeRegistry(), Options{})
	m = press(t, m, ":")
	screen := ansi.Strip(m.render())
	for _, want := range []string{"pull image", "push image"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the palette lacks %q:\n%s", want, screen)
		}
	}
	m = press(t, m, append(typed("push"), "enter")...)
	if m.regForm == nil || !m.regForm.push {
		t.Error("the palette's push opened no push dialog")
	}
}

// TestHelpAllRoles checks the help overlay with every role there, pull
// and push among its keys, keeps to two rows of columns at 80×24: the
// keys on their page, nothing cut.
func TestHelpAllRoles(t *testing.T) {
	fi := &fakeImages{}
	src := Sources{Images: fi, ImageManager: fi, Mounts: fakeMounts{}, Registry: newFakeRegistry(),
		Committer: &fakeCommitter{}, Builder: &fakeBuilder{}, Lessons: newFakeLessons(t)}
	src.SetContainers(&fakeContainers{})
	m := New(src, Options{Dark: true})
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = send(t, m, loadImages(src.Images)())
	screen := ansi.Strip(press(t, m, "?").render())
	uitest.Golden(t, "help_all_80x24", screen)
	for _, want := range []string{"u      pull image", "U      push image", "T      lessons", "C      commit", "B build image"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the help lacks %q", want)
		}
	}
	lines := strings.Split(screen, "\n")
	if len(lines) != 24 {
		t.Errorf("%d lines", len(lines))
	}
	// The box's frame: its top at the second line at most, and nothing
	// of it cut at the right.
	for i, l := range lines {
		if strings.Contains(l, "║") && strings.Count(l, "║") != 2 {
			t.Errorf("line %d of the box is cut: %q", i, l)
		}
	}
}

// TestTransferScreenSize checks the dialogs and the progress box leave
// exactly w×h cells at every size, the box following a resize.
func TestTransferScreenSize(t *testing.T) {
	dialog, _ := newRegTest(t, 120, 40, newFakeRegistry(), Options{})
	dialog = press(t, dialog, "U")
	for _, m := range []Model{dialog, shown(t, 120, 40, "127.0.0.1:5000/a/very/long/name/of/an/image/in/a/registry:with-a-long-tag", fakeLayers())} {
		for _, sz := range [][2]int{{80, 24}, {120, 40}, {100, 30}, {60, 16}, {200, 60}} {
			m = send(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			lines := strings.Split(m.render(), "\n")
			if len(lines) != sz[1] {
				t.Errorf("at %dx%d: %d lines", sz[0], sz[1], len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w != sz[0] {
					t.Errorf("at %dx%d: line %d is %d wide: %q", sz[0], sz[1], i, w, ansi.Strip(l))
				}
			}
		}
	}
}
