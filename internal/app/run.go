package app

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"minidocker/engine"
	"minidocker/images"
	"minidocker/internal/human"
)

// Options are what docker's run and create take besides the image and the
// command, as the CLI and the UI's run form give them.
type Options struct {
	Name, Workdir, Hostname, User string
	Interactive, Tty, AutoRemove  bool
	Volumes, Env                  []string // -v SOURCE:TARGET[:MODE] or TARGET, -e K=V or K
	Mounts, Tmpfs                 []string // --mount type=…,…, --tmpfs PATH[:OPTIONS]
	AddHosts                      []string // --add-host HOST:IP
	Memory                        string   // docker's units: 256m, 1g
	CPUs                          float64
	Pids                          int64
	Devices                       []string // --device HOST[:CTR][:rwm]
	// Privileged, CapAdd, CapDrop and SecurityOpt are docker's
	// --privileged, --cap-add, --cap-drop and --security-opt.
	Privileged                   bool
	CapAdd, CapDrop, SecurityOpt []string
	// NoPivot is runc's --no-pivot: MS_MOVE and chroot(2) into the root,
	// not pivot_root(2) (engine.RootNoPivot says why it is unsafe).
	NoPivot bool
}

// Resolved is an image found in the store with its layer directories,
// bottom first.
type Resolved struct {
	Store  *images.Store
	Ref    string
	Image  images.Image
	Layers []string
}

// Resolve finds an image, making the default one on first use.
func (a *App) Resolve(ref string) (Resolved, error) {
	s, err := a.Images()
	if err != nil {
		return Resolved{}, err
	}
	img, err := s.Get(ref)
	if errors.Is(err, images.ErrNotFound) && (ref == "base" || ref == images.BaseName) {
		img, err = s.EnsureBase()
	}
	if err != nil {
		return Resolved{}, err
	}
	dirs, err := s.LayerDirs(img)
	if err != nil {
		return Resolved{}, err
	}
	return Resolved{Store: s, Ref: ref, Image: img, Layers: dirs}, nil
}

// Spec turns an image's config, the options and a command (the image's
// own when args is empty) into an engine spec, as docker run does.
func (r Resolved) Spec(o Options, args []string) (engine.Spec, error) {
	cfg := r.Image.Config.Config
	argv := append([]string{}, cfg.Entrypoint...)
	if len(args) > 0 {
		argv = append(argv, args...)
	} else {
		argv = append(argv, cfg.Cmd...)
	}
	if len(argv) == 0 {
		return engine.Spec{}, Invalid(fmt.Errorf("image %s has no command; give one", human.Visible(r.Ref)))
	}
	s := engine.Spec{
		Name: o.Name, Image: r.Ref, ImageID: string(r.Image.ID), Layers: r.Layers, Hostname: o.Hostname, ExtraHosts: o.AddHosts,
		OpenStdin: o.Interactive, AutoRemove: o.AutoRemove,
		Process:   engine.Process{Args: argv, Cwd: cfg.WorkingDir, User: cfg.User, Tty: o.Tty},
		Resources: engine.Resources{CPUs: o.CPUs, Pids: o.Pids},
	}
	if o.Workdir != "" {
		s.Process.Cwd = o.Workdir
	}
	if o.User != "" {
		s.Process.User = o.User
	}
	env, err := Environment(o.Env)
	if err != nil {
		return engine.Spec{}, err
	}
	s.Process.Env = append(append([]string{}, cfg.Env...), env...)
	if s.Volumes, err = Volumes(o); err != nil {
		return engine.Spec{}, err
	}
	for _, h := range o.AddHosts {
		if _, err := engine.ParseHost(h); err != nil {
			return engine.Spec{}, Invalid(err)
		}
	}
	for _, d := range o.Devices {
		dev, err := engine.ParseDevice(d)
		if err != nil {
			return engine.Spec{}, Invalid(err)
		}
		s.Devices = append(s.Devices, dev)
	}
	if o.Memory != "" {
		m, err := human.ParseRAM(o.Memory)
		if err != nil {
			return engine.Spec{}, Invalid(fmt.Errorf("--memory: %w", err))
		}
		s.Resources.Memory = m
	}
	sec, err := security(o, readProfile)
	if err != nil {
		return engine.Spec{}, err
	}
	s.Privileged, s.Security = o.Privileged, sec
	if o.NoPivot {
		s.Root = engine.RootNoPivot
	}
	if o.CPUs < 0 || o.Pids < 0 {
		return engine.Spec{}, Invalid(errors.New("--cpus and --pids-limit must not be negative"))
	}
	return s, nil
}

// Volumes reads the -v, --mount and --tmpfs flags of o, in that order.
func Volumes(o Options) ([]engine.Volume, error) {
	var vols []engine.Volume
	for _, f := range []struct {
		specs []string
		parse func(string) (engine.Volume, error)
	}{{o.Volumes, engine.ParseVolume}, {o.Mounts, engine.ParseMount}, {o.Tmpfs, engine.ParseTmpfs}} {
		for _, spec := range f.specs {
			v, err := f.parse(spec)
			if err != nil {
				return nil, Invalid(err)
			}
			vols = append(vols, v)
		}
	}
	return vols, nil
}

// Notices are what a spec's volumes ask for that this host cannot do,
// once each: z and Z where SELinux is off.
func Notices(spec engine.Spec) []string {
	var notes []string
	for _, v := range spec.Volumes {
		if v.Label != "" && !engine.SELinuxEnabled() {
			notes = append(notes, "SELinux is not enabled on this host: the volume label options z and Z are ignored")
			break
		}
	}
	return notes
}

// Environment reads -e flags as docker does: K=V, or K alone for the value
// K has here (dropped when it has none).
func Environment(flags []string) ([]string, error) {
	var env []string
	for _, kv := range flags {
		k, _, hasValue := strings.Cut(kv, "=")
		if k == "" {
			return nil, Invalid(fmt.Errorf("environment %q: want K=V", human.Visible(kv)))
		}
		if !hasValue {
			v, ok := os.LookupEnv(k)
			if !ok {
				continue
			}
			kv = k + "=" + v
		}
		env = append(env, kv)
	}
	return env, nil
}

// Create makes a container of spec and holds its image, with the monitor
// mon when it is not nil (a run's, started early). A container whose hold
// fails is removed again.
func (a *App) Create(e *engine.Engine, r Resolved, spec engine.Spec, mon *engine.Monitor) (engine.State, error) {
	var st engine.State
	var err error
	if mon != nil {
		st, err = e.CreateFor(mon, spec)
	} else {
		st, err = e.Create(spec)
	}
	if err != nil {
		return st, err
	}
	engine.Trace("cli: container created")
	hold := r.Store.Hold
	if spec.AutoRemove {
		hold = r.Store.HoldVolatile // gone with the container, not worth an fsync
	}
	if err := hold(st.ID, r.Image); err != nil {
		return st, errors.Join(err, a.discard(e, st.ID))
	}
	engine.Trace("cli: image held")
	return st, nil
}

// discard removes a container that never ran, with the volumes made for
// it.
func (a *App) discard(e *engine.Engine, id string) error {
	_, err := a.RemoveWithVolumes(e, id, true)
	return err
}

// StartFailure is a container that could not start: its message, and the
// exit code docker gives (127 for a command not found, 126 for one that
// cannot run, 125 otherwise).
type StartFailure struct {
	Err  error
	Code int
}

func (e *StartFailure) Error() string { return e.Err.Error() }
func (e *StartFailure) Unwrap() error { return e.Err }

// StartFailed reports a start error with docker's exit code, removing the
// container when it was run with --rm.
func (a *App) StartFailed(e *engine.Engine, st engine.State, err error) error {
	if st.Spec.AutoRemove {
		err = errors.Join(err, a.discard(e, st.ID))
	}
	code := 125
	var se *engine.StartError
	if errors.As(err, &se) {
		code = se.Code
	}
	return &StartFailure{err, code}
}

// Finish releases the image of a container run with --rm once it has
// exited. Its monitor has removed it, unless that failed: then this says
// why.
func (a *App) Finish(e *engine.Engine, st engine.State) error {
	if _, err := os.Stat(st.Dir); err == nil {
		_, err := e.Remove(st.ID, false)
		if err == nil {
			err = e.RemoveAnonymousVolumes(st)
		}
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			return err
		}
	}
	s, err := a.Images()
	if err != nil {
		return err
	}
	return s.Release(st.ID)
}
