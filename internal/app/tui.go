package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"minidocker/engine"
	"minidocker/images"
	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui"
	"minidocker/ui/layers"
	"minidocker/ui/terminal"
	"minidocker/ui/tree"
)

// UISources are the application as the terminal UI sees it. Without root
// the UI still opens: images and host mounts can be browsed, and NoRun
// says why containers cannot run.
func (a *App) UISources() ui.Sources {
	src := ui.Sources{Mounts: uiMounts{a}}
	var why []string
	if s, err := a.Images(); err == nil {
		src.Images, src.ImageManager, src.Registry = uiImages{s}, uiImages{s}, uiRegistry{a}
	} else {
		why = append(why, "image store: "+err.Error())
	}
	if os.Geteuid() != 0 {
		why = append(why, "containers need root: running is disabled")
	} else if e, err := a.Engine(); err != nil {
		why = append(why, "containers unavailable: "+err.Error())
	} else {
		src.SetContainers(&uiContainers{a: a, e: e})
		src.Committer, src.Builder = uiCommitter{a}, uiBuilder{a}
		src.Meter = uiMeter{a.NewMetering(e)}
		src.Lessons = a
	}
	src.NoRun = strings.Join(why, "; ")
	return src
}

// uiImages is the image store as the UI sees it.
type uiImages struct{ s *images.Store }

func (u uiImages) Images() ([]ui.Image, error) {
	list, err := u.s.List()
	if err != nil {
		return nil, err
	}
	out := make([]ui.Image, 0, len(list))
	for _, img := range list {
		out = append(out, u.image(img))
	}
	return out, nil
}

func (u uiImages) image(img images.Image) ui.Image {
	r := ui.Image{ID: string(img.ID), ShortID: img.ShortID(), Names: img.Names}
	if c := img.Config.Created; c != nil {
		r.Created = *c
	}
	for _, h := range img.Config.History {
		var t time.Time
		if h.Created != nil {
			t = *h.Created
		}
		r.History = append(r.History, ui.History{Created: t, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer})
	}
	// The sizes are the layers' content, as "images", "history",
	// "layers", docker and dive show them.
	infos, _ := u.s.LayerInfo(img) // a layer not unpacked shows 0
	for _, l := range infos {
		r.Size += l.ContentSize
		r.Layers = append(r.Layers, ui.Layer{DiffID: string(l.DiffID), Size: l.ContentSize, CreatedBy: l.CreatedBy})
	}
	if b, err := json.MarshalIndent(img.Config, "", "  "); err == nil {
		r.Config = string(b)
	}
	return r
}

func (u uiImages) ImageStack(id string) (layers.Stack, error) {
	img, err := u.s.Get(id)
	if err != nil {
		return layers.Stack{}, err
	}
	return u.stack(img)
}

// stack reads the layers of img, listed or not (a build step's image).
func (u uiImages) stack(img images.Image) (layers.Stack, error) {
	dirs, err := u.s.LayerDirs(img)
	if err != nil {
		return layers.Stack{}, err
	}
	names, sizes := u.layerNames(img)
	st, err := layers.ReadStack(dirs, "", names)
	st.Sizes = sizes
	return st, err
}

// layerNames labels an image's layers with their short diffID and the
// history line that made them, and gives their sizes.
func (u uiImages) layerNames(img images.Image) ([]string, []int64) {
	infos, _ := u.s.LayerInfo(img) // a layer not unpacked shows 0
	names := make([]string, len(infos))
	sizes := make([]int64, len(infos))
	for i, l := range infos {
		names[i] = l.DiffID.Encoded()[:12] + " " + l.CreatedBy
		sizes[i] = l.ContentSize
	}
	return names, sizes
}

func (u uiImages) Load(p string) ([]string, error) {
	imgs, err := u.s.Load(p)
	var names []string
	for _, img := range imgs {
		names = append(names, img.Names...)
	}
	return names, err
}

func (u uiImages) Prune() (string, error) {
	r, err := u.s.GC()
	return fmt.Sprintf("pruned %d blobs, %d layers, %s", len(r.Blobs), len(r.Layers), human.Size(r.Bytes)), err
}

// uiContainers is the engine as the UI sees it.
type uiContainers struct {
	a *App
	e *engine.Engine
}

func (u *uiContainers) Containers() ([]ui.Container, error) {
	list, err := u.e.List()
	if err != nil {
		return nil, err
	}
	out := make([]ui.Container, 0, len(list))
	for _, st := range list {
		c := ui.Container{ID: st.ID, ShortID: st.ShortID(), Name: st.Name(), Image: st.Spec.Image,
			Command: strings.Join(st.Spec.Process.Args, " "), Status: string(st.Status),
			Running: st.Status == engine.Running, ExitCode: st.ExitCode, Created: st.Created,
			Paused: st.Paused, OOMKilled: st.OOMKilled, ImageID: st.Spec.ImageID}
		if b, err := json.MarshalIndent(st, "", "  "); err == nil {
			c.Inspect = string(b)
		}
		c.Mounts = uiVolumeMounts(st.Spec.Volumes)
		out = append(out, c)
	}
	return out, nil
}

func (u *uiContainers) ContainerStack(id string) (layers.Stack, error) {
	st, err := u.e.Get(id)
	if err != nil {
		return layers.Stack{}, err
	}
	names := make([]string, len(st.Rootfs.Lower))
	for i, d := range st.Rootfs.Lower {
		names[i] = filepath.Base(d)
	}
	// Name the layers by the image's history when the image is still here.
	var sizes []int64
	if s, err := u.a.Images(); err == nil {
		if img, err := s.Get(st.Spec.ImageID); err == nil && len(img.DiffIDs()) == len(names) {
			names, sizes = uiImages{s}.layerNames(img)
		}
	}
	stack, err := layers.ReadStackWith(st.Rootfs.Lower, st.Rootfs.Upper, names, layers.ReadOptions{MountPoints: st.MountPoints()})
	stack.Sizes = sizes
	return stack, err
}

func (u *uiContainers) Watch(ctx context.Context, id string) (<-chan []tree.Node, error) {
	st, err := u.e.Get(id)
	if err != nil {
		return nil, err
	}
	return layers.WatchUpper(ctx, st.Rootfs.Upper, st.Rootfs.Lower)
}

func (u *uiContainers) Run(s ui.RunSpec) (string, error) {
	o := Options{Interactive: true, Tty: true, Name: s.Name, Volumes: s.Volumes, Memory: s.Memory, CPUs: s.CPUs, Pids: s.Pids}
	r, err := u.a.Resolve(s.Image)
	if err != nil {
		return "", err
	}
	spec, err := r.Spec(o, s.Command)
	if err != nil {
		return "", err
	}
	st, err := u.a.Create(u.e, r, spec, nil)
	if err != nil {
		return "", err
	}
	sess, err := u.e.Start(st.ID, false)
	if sess != nil {
		err = errors.Join(err, sess.Close())
	}
	return st.ID, err
}

func (u *uiContainers) Start(id string) error {
	sess, err := u.e.Start(id, false)
	if sess != nil {
		err = errors.Join(err, sess.Close())
	}
	return err
}

func (u *uiContainers) Stop(id string) error {
	_, err := u.e.Stop(id, 10*time.Second)
	return err
}

func (u *uiContainers) Attach(id string) (terminal.Pty, error) {
	sess, err := u.e.Attach(id)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := sess.Wait(pw, pw)
		pw.CloseWithError(orEOF(err))
	}()
	return sessionPty{sess, pr}, nil
}

// sessionPty is an attach session as a pty.
type sessionPty struct {
	s *engine.Session
	r *io.PipeReader
}

func (p sessionPty) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p sessionPty) Write(b []byte) (int, error) { return p.s.Write(b) }
func (p sessionPty) Close() error                { return errors.Join(p.s.Close(), p.r.Close()) }
func (p sessionPty) Resize(cols, rows int) error { return p.s.Resize(uint16(rows), uint16(cols)) }

func (u *uiContainers) Exec(id string) (terminal.Pty, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	resize := make(chan engine.Winsize, 1)
	p := &execPty{in: inW, out: outR, resize: resize}
	go func() {
		_, err := u.e.Exec(id, engine.Process{Args: []string{"/bin/sh"}, Env: []string{"TERM=xterm-256color"}, Tty: true},
			engine.Stdio{Stdin: inR, Stdout: outW, Stderr: outW, Size: engine.Winsize{Rows: 24, Cols: 80}, Resize: resize})
		outW.CloseWithError(orEOF(err))
		inR.Close()
	}()
	return p, nil
}

// execPty is an exec'd shell as a pty.
type execPty struct {
	in     *io.PipeWriter
	out    *io.PipeReader
	resize chan engine.Winsize
}

func (p *execPty) Read(b []byte) (int, error)  { return p.out.Read(b) }
func (p *execPty) Write(b []byte) (int, error) { return p.in.Write(b) }

// Close sends the shell an end of file (ctrl-d at the start of a line,
// which the tty's line discipline turns into EOF) and closes the streams.
func (p *execPty) Close() error {
	_, _ = p.in.Write([]byte{'\n', 4})
	return errors.Join(p.in.Close(), p.out.Close())
}

func (p *execPty) Resize(cols, rows int) error {
	select {
	case p.resize <- engine.Winsize{Rows: uint16(rows), Cols: uint16(cols)}:
	default:
	}
	return nil
}

func orEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}

// Logs follows the container's output until ctx ends (w then fails).
func (u *uiContainers) Logs(ctx context.Context, id string, w io.Writer) error {
	return u.e.Logs(ctx, id, true, w)
}

func (u *uiContainers) Stats(id string) (ui.Stats, error) {
	s, err := u.e.Stats(id)
	return ui.Stats{MemoryBytes: s.MemoryBytes, MemoryLimit: s.MemoryLimit, CPUNanos: s.CPUNanos, Pids: s.Pids}, err
}

// uiVolumeMounts are a container's volumes as the UI lists them: a store
// volume by its name, a bind by its host path.
func uiVolumeMounts(vols []engine.Volume) []ui.VolumeMount {
	var out []ui.VolumeMount
	for _, v := range vols {
		m := ui.VolumeMount{Type: v.Type, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
		switch v.Type {
		case "", engine.TypeBind:
			m.Type = engine.TypeBind
		case engine.TypeVolume:
			m.Source = v.Name
		}
		v.ReadOnly = false // shown on its own
		v.Options = slices.DeleteFunc(slices.Clone(v.Options), func(o string) bool { return o == "ro" || o == "rw" })
		m.Options = v.Mode()
		out = append(out, m)
	}
	return out
}

// uiCommitter commits containers from the UI: as docker commit does,
// pausing a running container while its upper directory is read.
type uiCommitter struct{ a *App }

func (u uiCommitter) CommitPreview(id string) ([]overlay.PackEntry, error) {
	return u.a.CommitPreview(id)
}

func (u uiCommitter) Commit(id string, c ui.CommitSpec) (ui.Image, error) {
	img, err := u.a.Commit(id, c.Name, CommitOptions{Message: c.Message, Pause: true})
	if err != nil {
		return ui.Image{}, err
	}
	s, err := u.a.Images()
	if err != nil {
		return ui.Image{}, err
	}
	return uiImages{s}.image(img), nil
}

// uiBuilder runs builds for the UI's build view.
type uiBuilder struct{ a *App }

func (u uiBuilder) Build(ctx context.Context, spec ui.BuildSpec, events func(ui.BuildEvent)) (ui.Image, error) {
	s, err := u.a.Images()
	if err != nil {
		return ui.Image{}, err
	}
	is := uiImages{s}
	o := BuildOptions{Context: spec.Context, Dockerfile: spec.Dockerfile, Tags: spec.Tags, NoCache: spec.NoCache,
		BuildArgs: spec.BuildArgs, Target: spec.Target, Zstd: spec.Zstd, Out: io.Discard,
		Events: func(ev BuildEvent) { events(is.buildEvent(ev)) }}
	img, err := u.a.Build(ctx, o)
	if err != nil {
		return ui.Image{}, err
	}
	return is.image(img), nil
}

// buildEvent is a build step's progress as the UI takes it: a step's
// image, not listed among the images, comes with the reader of its
// layers.
func (u uiImages) buildEvent(ev BuildEvent) ui.BuildEvent {
	out := ui.BuildEvent{Step: ev.Step, Total: ev.Total, Text: ev.Text, State: uiBuildState(ev.State),
		Container: ev.Container, Output: ev.Output, Elapsed: ev.Elapsed, Err: ev.Err}
	if img := ev.Image; img.ID != "" {
		shown := u.image(img)
		out.Image = &shown
		out.Stack = func() (layers.Stack, error) { return u.stack(img) }
	}
	return out
}

func uiBuildState(s StepState) ui.BuildState {
	switch s {
	case StepCached:
		return ui.BuildCached
	case StepDone:
		return ui.BuildDone
	case StepFailed:
		return ui.BuildFailed
	}
	return ui.BuildRunning
}
