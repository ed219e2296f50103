package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"minidocker/engine"
	"minidocker/images"
	"minidocker/images/buildctx"
	"minidocker/images/dockerfile"
	"minidocker/internal/human"
	"minidocker/overlay"
)

// BuildOptions are docker build's flags.
type BuildOptions struct {
	// Context is the build context directory; Dockerfile the file, ""
	// for Context/Dockerfile.
	Context, Dockerfile string
	Tags                []string
	NoCache             bool
	BuildArgs           map[string]string
	Target              string
	Zstd                bool
	// Out receives docker's classic builder output and the RUN steps'
	// output; nil discards it.
	Out io.Writer
	// Events, when set, hears each step's progress (the TUI's build view
	// and the CLI's terminal display).
	Events func(BuildEvent)
}

// StepState is where a build step is.
type StepState int

// The states a step goes through.
const (
	StepRunning StepState = iota
	StepCached
	StepDone
	StepFailed
)

// BuildEvent is a step's progress.
type BuildEvent struct {
	Step, Total int
	Text        string
	State       StepState
	// Container is the RUN step's container while it runs: its upper
	// directory is the layer forming.
	Container string
	// Image is the step's image once made or found in the cache.
	Image images.Image
	// Output is a piece of a RUN step's output.
	Output  []byte
	Elapsed time.Duration
	Err     error
}

// BuildError is a RUN step that failed: the build stops with its exit
// code.
type BuildError struct {
	Step int
	Args []string
	Code int
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("the command '%s' returned a non-zero code: %d", human.Line(strings.Join(e.Args, " ")), e.Code)
}

// Build builds the Dockerfile in o's context, as docker's classic builder
// does: one image per step, each found in the build cache when its parent,
// its instruction and, for COPY and ADD, its sources' content are those of
// a step built before. A failed step leaves no container and no image
// behind; the steps before it stay in the cache.
func (a *App) Build(ctx context.Context, o BuildOptions) (images.Image, error) {
	b, err := a.newBuilder(o)
	if err != nil {
		return images.Image{}, err
	}
	defer b.close()
	return b.build(ctx)
}

// builder is one build under way.
type builder struct {
	a      *App
	o      BuildOptions
	out    io.Writer
	file   string // the Dockerfile's name in messages
	plan   *dockerfile.Plan
	bctx   *buildctx.Context
	hashes *buildctx.HashCache
	store  *images.Store
	engine *engine.Engine
	n      int // the step under way, from 1
	// stages are the finished stages by Index: their image (nil for an
	// empty scratch stage) and their final state.
	stages map[int]stageResult
}

type stageResult struct {
	img   *images.Image
	state *dockerfile.State
}

func (a *App) newBuilder(o BuildOptions) (*builder, error) {
	if o.Context == "" {
		return nil, Invalid(errors.New("build: want a context directory"))
	}
	df := o.Dockerfile
	if df == "" {
		df = filepath.Join(o.Context, "Dockerfile")
	}
	f, err := os.Open(df)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	defer f.Close()
	name := filepath.Base(df)
	plan, err := dockerfile.Parse(f, dockerfile.Options{Filename: name, BuildArgs: o.BuildArgs, Target: o.Target})
	if err != nil {
		return nil, Invalid(err)
	}
	bctx, err := buildctx.Open(o.Context, df)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	b := &builder{a: a, o: o, out: o.Out, file: name, plan: plan, bctx: bctx, stages: map[int]stageResult{}}
	if b.out == nil {
		b.out = io.Discard
	}
	if b.store, err = a.Images(); err == nil {
		b.engine, err = a.Engine()
	}
	if err == nil {
		err = b.tidyWorkspaces()
	}
	if err == nil {
		// The context's file hashes, by inode and change time, kept
		// between builds: an unchanged file is not read again.
		b.hashes, err = buildctx.LoadHashCache(b.hashCachePath())
		bctx.SetHashCache(b.hashes)
	}
	if err != nil {
		bctx.Close()
		return nil, err
	}
	return b, nil
}

func (b *builder) close() {
	b.bctx.Close()
	if b.hashes != nil && os.MkdirAll(b.workspaceDir(), 0o700) == nil {
		b.hashes.Save(b.hashCachePath()) // a cache not saved is only slower next time
	}
}

func (b *builder) hashCachePath() string { return filepath.Join(b.workspaceDir(), "hashes.json") }

func (b *builder) build(ctx context.Context) (images.Image, error) {
	if len(b.plan.UnusedArgs) > 0 {
		fmt.Fprintf(b.out, "[Warning] One or more build-args %v were not consumed\n", b.plan.UnusedArgs)
	}
	for _, ins := range b.plan.GlobalArgs {
		b.begin(ins.Text)
		b.event(BuildEvent{Text: ins.Text, State: StepDone})
	}
	var last stageResult
	for _, st := range b.plan.Stages {
		res, err := b.stage(ctx, st)
		if err != nil {
			return images.Image{}, err
		}
		b.stages[st.Index] = res
		last = res
	}
	if last.img == nil {
		return images.Image{}, errors.New("build: no image was generated: the target stage is FROM scratch with no step that makes one")
	}
	img, err := b.store.Publish(*last.img, b.o.Tags...)
	if err != nil {
		return images.Image{}, err
	}
	fmt.Fprintf(b.out, "Successfully built %s\n", img.ShortID())
	for _, t := range img.Names {
		for _, want := range b.o.Tags {
			if n, err := images.ParseName(want); err == nil && n == t {
				fmt.Fprintf(b.out, "Successfully tagged %s\n", t)
			}
		}
	}
	return img, nil
}

// begin prints and announces the next step.
func (b *builder) begin(text string) {
	b.n++
	fmt.Fprintf(b.out, "Step %d/%d : %s\n", b.n, b.plan.StepCount(), human.Line(text))
	b.event(BuildEvent{Text: text, State: StepRunning})
}

func (b *builder) event(ev BuildEvent) {
	if b.o.Events != nil {
		ev.Step, ev.Total = b.n, b.plan.StepCount()
		b.o.Events(ev)
	}
}

// stage builds one stage from its FROM on.
func (b *builder) stage(ctx context.Context, st *dockerfile.Stage) (stageResult, error) {
	b.begin(st.Steps[0].Text)
	var res stageResult
	switch {
	case st.BaseStage >= 0:
		base := b.stages[st.BaseStage]
		res = stageResult{img: base.img, state: st.NewStateFrom(base.state)}
	case st.Base == "scratch":
		res = stageResult{state: st.NewState(ocispec.ImageConfig{})}
	default:
		r, err := b.a.Resolve(st.Base)
		if err != nil {
			return res, b.errAt(st.Steps[0].Line, err)
		}
		res = stageResult{img: &r.Image, state: st.NewState(r.Image.Config.Config)}
	}
	done := BuildEvent{Text: st.Steps[0].Text, State: StepDone}
	if res.img != nil {
		fmt.Fprintf(b.out, " ---> %s\n", res.img.ShortID())
		done.Image = *res.img
	}
	b.event(done)
	for _, ins := range st.Steps[1:] {
		b.begin(ins.Text)
		start := time.Now()
		step, err := res.state.Step(ins)
		if err != nil {
			return res, err
		}
		img, cached, err := b.step(ctx, res.img, res.state, step)
		if err != nil {
			b.event(BuildEvent{Text: ins.Text, State: StepFailed, Err: err, Elapsed: time.Since(start)})
			return res, err
		}
		state := StepDone
		if cached {
			fmt.Fprintln(b.out, " ---> Using cache")
			state = StepCached
		}
		fmt.Fprintf(b.out, " ---> %s\n", img.ShortID())
		b.event(BuildEvent{Text: ins.Text, State: state, Image: img, Elapsed: time.Since(start)})
		res.img = &img
	}
	return res, nil
}

// errAt places err at a line of the Dockerfile.
func (b *builder) errAt(line int, err error) error {
	var de *dockerfile.Error
	if errors.As(err, &de) {
		return err
	}
	return &dockerfile.Error{File: b.file, Line: line, Err: err}
}

// cacheKey is a step's key: its parent image, its instruction as
// expanded with the build args it sees, and what else makes its result
// (the sources' content hash of a COPY).
func cacheKey(parent *images.Image, text, extra string) digest.Digest {
	h := sha256.New()
	p := "scratch"
	if parent != nil {
		p = parent.ManifestDigest.String()
	}
	fmt.Fprintf(h, "parent %s\nstep %q\nextra %q\n", p, text, extra)
	return digest.NewDigest(digest.SHA256, h)
}

// step makes, or finds in the cache, the image of one step on parent.
func (b *builder) step(ctx context.Context, parent *images.Image, state *dockerfile.State, step dockerfile.Step) (images.Image, bool, error) {
	d := images.Derivation{Parent: parent, Config: state.Config, CreatedBy: step.CreatedBy, Author: state.Author, Compression: images.Gzip}
	if b.o.Zstd {
		d.Compression = images.Zstd
	}
	// prepare makes the step's layer, which Derive then stores; cleanup
	// drops what made it (a RUN's container, a COPY's directory).
	var prepare func() (layer func(io.Writer) error, cleanup func(), err error)
	extra := ""
	switch step.Kind {
	case dockerfile.Run:
		prepare = func() (func(io.Writer) error, func(), error) { return b.run(ctx, parent, state, step) }
	case dockerfile.Copy, dockerfile.Add:
		fill, hash, err := b.copyStep(step)
		if err != nil {
			return images.Image{}, false, b.errAt(step.Line, fmt.Errorf("%s failed: %w", step.Kind, err))
		}
		extra = hash
		d.CreatedBy = step.CopyHistory(hash)
		prepare = func() (func(io.Writer) error, func(), error) {
			layer, cleanup, err := b.workspace(parent, false, fill)
			if err != nil {
				err = b.errAt(step.Line, fmt.Errorf("%s failed: %w", step.Kind, err))
			}
			return layer, cleanup, err
		}
	case dockerfile.Workdir:
		// Docker makes the working directory when it is missing, in a
		// layer of its own; when it is there, the step is config only.
		prepare = func() (func(io.Writer) error, func(), error) {
			return b.workspace(parent, true, func(root string, _ mounter) error { return mkdirInRoot(root, state.Config.WorkingDir) })
		}
	}
	key := cacheKey(parent, step.CacheText, extra)
	if !b.o.NoCache {
		img, ok, err := b.store.CachedImage(key)
		if err != nil || ok {
			return img, ok, err
		}
	}
	if prepare != nil {
		layer, cleanup, err := prepare()
		if err != nil {
			return images.Image{}, false, err
		}
		defer cleanup()
		d.Layer = layer
	}
	img, err := b.store.Derive(d, nil)
	if err != nil {
		return images.Image{}, false, b.errAt(step.Line, err)
	}
	return img, false, b.store.CacheImage(key, img)
}

// copyStep returns how a COPY or ADD fills its root, and the hash that
// keys its cache: the content of its sources in the context, or the image
// they come from with --from.
func (b *builder) copyStep(step dockerfile.Step) (fill func(string, mounter) error, hash string, err error) {
	opts := buildctx.CopyOptions{Chown: step.Chown, Chmod: step.Chmod, Add: step.Kind == dockerfile.Add}
	if step.From == "" {
		srcs, err := b.bctx.Sources(step.Sources)
		if err != nil {
			return nil, "", err
		}
		h, err := b.bctx.Hash(srcs)
		if err != nil {
			return nil, "", err
		}
		kind := "multi"
		if len(srcs) == 1 {
			kind = "file"
			if srcs[0].Dir {
				kind = "dir"
			}
		}
		fill = func(root string, _ mounter) error { return b.bctx.CopyInto(root, srcs, step.Dest, opts) }
		return fill, kind + ":" + h.Encoded(), nil
	}
	var from *images.Image
	if step.FromStage >= 0 {
		from = b.stages[step.FromStage].img
	} else {
		r, err := b.a.Resolve(step.From)
		if err != nil {
			return nil, "", err
		}
		from = &r.Image
	}
	fill = func(root string, mount mounter) error {
		dir, err := mount(from)
		if err != nil {
			return err
		}
		c, err := buildctx.OpenDir(dir)
		if err != nil {
			return err
		}
		defer c.Close()
		srcs, err := c.Sources(step.Sources)
		if err != nil {
			return err
		}
		return c.CopyInto(root, srcs, step.Dest, opts)
	}
	id := "scratch"
	if from != nil {
		id = from.ID.Encoded()
	}
	return fill, "from:" + id, nil
}

// run runs a RUN step in a container of the engine on parent, with the
// stage's environment, user and working directory, its output to the
// build's. It returns the layer the container's upper directory makes
// and the cleanup that removes the container.
func (b *builder) run(ctx context.Context, parent *images.Image, state *dockerfile.State, step dockerfile.Step) (func(io.Writer) error, func(), error) {
	if parent == nil || len(parent.DiffIDs()) == 0 {
		return nil, nil, b.errAt(step.Line, errors.New("RUN needs files to run: the stage is FROM scratch with nothing copied in"))
	}
	dirs, err := b.store.LayerDirs(*parent)
	if err != nil {
		return nil, nil, err
	}
	cwd := state.Config.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	spec := engine.Spec{
		Image: parent.ShortID(), ImageID: string(parent.ID), Layers: dirs,
		Process: engine.Process{Args: step.Args, Env: step.Env, Cwd: cwd, User: state.Config.User},
	}
	r := Resolved{Store: b.store, Ref: parent.ID.String(), Image: *parent, Layers: dirs}
	st, err := b.a.Create(b.engine, r, spec, nil)
	if err != nil {
		return nil, nil, b.errAt(step.Line, err)
	}
	remove := func() { b.a.RemoveWithVolumes(b.engine, st.ID, true) }
	fmt.Fprintf(b.out, " ---> Running in %s\n", st.ShortID())
	b.event(BuildEvent{Text: step.Text, State: StepRunning, Container: st.ID})
	code, err := b.wait(ctx, st)
	switch {
	case err != nil:
		// A command that cannot start (not found, an unknown USER) is
		// the step's fault: say which.
		err = b.errAt(step.Line, err)
	case code != 0:
		err = &BuildError{Step: b.n, Args: step.Args, Code: code}
	}
	if err == nil {
		st, err = b.engine.Get(st.ID)
	}
	if err != nil {
		remove()
		return nil, nil, err
	}
	layer := func(w io.Writer) error {
		_, err := overlay.Pack(st.Rootfs.Upper, w, packOptions(st, nil))
		return err
	}
	cleanup := func() {
		remove()
		fmt.Fprintf(b.out, " ---> Removed intermediate container %s\n", st.ShortID())
	}
	return layer, cleanup, nil
}

// wait starts the container and waits for its exit code, its output to
// the build's; a cancelled ctx kills it.
func (b *builder) wait(ctx context.Context, st engine.State) (int, error) {
	sess, err := b.engine.Start(st.ID, true)
	if err != nil {
		return 0, err
	}
	defer sess.Close()
	stop := context.AfterFunc(ctx, func() { b.engine.Kill(st.ID, unix.SIGKILL) })
	defer stop()
	w := &stepOutput{b: b}
	code, err := sess.Wait(w, w)
	if err == nil {
		err = ctx.Err()
	}
	return code, err
}

// stepOutput passes a RUN's output to the build's, and to Events.
type stepOutput struct{ b *builder }

func (o *stepOutput) Write(p []byte) (int, error) {
	if o.b.o.Events != nil {
		o.b.event(BuildEvent{State: StepRunning, Output: append([]byte(nil), p...)})
	}
	return o.b.out.Write(p)
}
