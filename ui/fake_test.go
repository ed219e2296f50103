package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"minidocker/ui/internal/uitest"
	"minidocker/ui/layers"
	"minidocker/ui/terminal"
	"minidocker/ui/tree"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// fakeImages is an in-memory image store.
type fakeImages struct {
	loaded []string
	calls  []string
	fail   error // what every change returns
}

func (f *fakeImages) Images() ([]Image, error) {
	return []Image{
		{ID: "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90", ShortID: "a1b2c3d4e5f6", Names: []string{"base:latest"}, Size: 12_300_000, Created: t0,
			Layers:  []Layer{{DiffID: "sha256:1111aaaa2222bbbb", Size: 11_000_000, CreatedBy: "ADD rootfs.tar /"}, {DiffID: "sha256:3333cccc4444dddd", Size: 1_300_000, CreatedBy: "RUN pip install app"}},
			History: []History{{Created: t0, CreatedBy: "ADD rootfs.tar /"}, {Created: t0, CreatedBy: "ENV PATH=/bin", EmptyLayer: true}, {Created: t0, CreatedBy: "RUN pip install app"}},
			Config:  "{\n  \"architecture\": \"amd64\",\n  \"os\": \"linux\"\n}"},
		{ID: "sha256:ffee00112233445566778899", ShortID: "ffee00112233", Names: []string{"evil\x1b]52;c;aGk=\x07:latest"}, Size: 4096, Created: t0},
	}, nil
}
func (f *fakeImages) ImageStack(id string) (layers.Stack, error) { return uitest.ImageStack(), nil }
func (f *fakeImages) Load(p string) ([]string, error) {
	f.loaded = append(f.loaded, p)
	return []string{"loaded:latest"}, nil
}
func (f *fakeImages) Prune() (string, error) { return "freed 1.0 MB", nil }

func (f *fakeImages) RemoveImage(id string, force bool) (string, error) {
	f.calls = append(f.calls, fmt.Sprintf("rmi %s force=%v", id, force))
	return "deleted " + id[:19], f.fail
}
func (f *fakeImages) TagImage(id, name string) error {
	f.calls = append(f.calls, "tag "+id+" "+name)
	return f.fail
}
func (f *fakeImages) SaveImage(id, path, format string) error {
	f.calls = append(f.calls, "save "+id+" "+path+" "+format)
	return f.fail
}

// The fakes stand in for every role of Sources.
var (
	_ ImageSource     = (*fakeImages)(nil)
	_ ImageManager    = (*fakeImages)(nil)
	_ MountSource     = fakeMounts{}
	_ ContainerLister = (*fakeContainers)(nil)
	_ StackWatcher    = (*fakeContainers)(nil)
	_ Lifecycle       = (*fakeContainers)(nil)
	_ Terminals       = (*fakeContainers)(nil)
	_ LogReader       = (*fakeContainers)(nil)
	_ StatsReader     = (*fakeContainers)(nil)
	_ ContainerSource = (*fakeContainers)(nil)
)

// fakeContainers is an in-memory engine.
type fakeContainers struct {
	calls  []string
	events chan []tree.Node
	pty    terminal.Pty
	fail   error // what every action returns
	// list replaces the two containers Containers returns.
	list []Container
}

func (f *fakeContainers) Containers() ([]Container, error) {
	if f.list != nil {
		return f.list, nil
	}
	return []Container{
		{ID: "c0ffee0123456789", ShortID: "c0ffee012345", Name: "web", Image: "base:latest", ImageID: "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90", Command: "/bin/sh", Status: "running", Running: true, Created: t0, Inspect: "{\n  \"id\": \"c0ffee0123456789\"\n}",
			Mounts: []VolumeMount{{Type: "volume", Source: "webdata", Target: "/var/www"}, {Type: "bind", Source: "/srv/conf", Target: "/etc/app", ReadOnly: true, Options: "z,rslave"},
				{Type: "tmpfs", Target: "/run", Options: "noexec,nosuid,nodev,size=64m"}}},
		{ID: "dead00beef001122", ShortID: "dead00beef00", Name: "old", Image: "base:latest", Command: "/bin/true", Status: "exited", Created: t0},
	}, nil
}
func (f *fakeContainers) ContainerStack(id string) (layers.Stack, error) { return uitest.Stack(), nil }
func (f *fakeContainers) Watch(ctx context.Context, id string) (<-chan []tree.Node, error) {
	return f.events, nil
}
func (f *fakeContainers) Run(s RunSpec) (string, error) {
	f.calls = append(f.calls, "run "+s.Image+" "+strings.Join(s.Command, " ")+" "+s.Name)
	return "1234567890abcdef", nil
}
func (f *fakeContainers) Start(id string) error   { return f.call("start " + id) }
func (f *fakeContainers) Stop(id string) error    { return f.call("stop " + id) }
func (f *fakeContainers) Kill(id string) error    { return f.call("kill " + id) }
func (f *fakeContainers) Restart(id string) error { return f.call("restart " + id) }
func (f *fakeContainers) Remove(id string, force bool) error {
	if force {
		return f.call("rm -f " + id)
	}
	return f.call("rm " + id)
}

// call records an action, and fails it when fail is set.
func (f *fakeContainers) call(c string) error {
	f.calls = append(f.calls, c)
	return f.fail
}
func (f *fakeContainers) Attach(id string) (terminal.Pty, error) {
	if f.pty == nil {
		return nil, errors.New("no pty")
	}
	return f.pty, nil
}
func (f *fakeContainers) Exec(id string) (terminal.Pty, error) { return f.Attach(id) }

// Logs writes its lines, then follows as the engine does while the
// container runs: until ctx ends.
func (f *fakeContainers) Logs(ctx context.Context, id string, w io.Writer) error {
	if _, err := io.WriteString(w, "hello\nworld\n"); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}
func (f *fakeContainers) Stats(id string) (Stats, error) {
	return Stats{MemoryBytes: 3 << 20, MemoryLimit: 256 << 20, CPUNanos: 5e8, Pids: 3}, nil
}

type fakeMounts struct{}

func (fakeMounts) Mounts() ([]Mount, error) {
	return []Mount{{ID: 30, Point: "/var/lib/minidocker/containers/c0ffee/rootfs", Lower: []string{"/l/B", "/l/A"}, Upper: "/c/upper", Work: "/c/work"}}, nil
}
func (fakeMounts) MountStack(m Mount) (layers.Stack, error) { return uitest.Stack(), nil }
func (fakeMounts) WatchMount(ctx context.Context, m Mount) (<-chan []tree.Node, error) {
	return nil, nil
}

// fakePty prints out once, then blocks until closed; what is typed is
// kept.
type fakePty struct {
	mu     sync.Mutex
	out    chan []byte
	closed chan struct{}
	typed  []byte
	cols   int
}

func newFakePty(out string) *fakePty {
	p := &fakePty{out: make(chan []byte, 1), closed: make(chan struct{})}
	p.out <- []byte(out)
	return p
}

func (p *fakePty) Read(b []byte) (int, error) {
	select {
	case o := <-p.out:
		return copy(b, o), nil
	case <-p.closed:
		return 0, io.EOF
	}
}
func (p *fakePty) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.typed = append(p.typed, b...)
	return len(b), nil
}

// Typed waits a little for want to have been typed and returns what was.
func (p *fakePty) Typed(want string) string {
	for range 100 {
		p.mu.Lock()
		got := string(p.typed)
		p.mu.Unlock()
		if got == want {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.typed)
}
func (p *fakePty) Close() error {
	select {
	case <-p.closed:
	default:
		close(p.closed)
	}
	return nil
}
func (p *fakePty) Resize(cols, rows int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cols = cols
	return nil
}
