package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"minidocker/engine"
	"minidocker/images"
)

// containerCommands are the verbs over containers, each also under
// "container".
func containerCommands(a *app) []*cobra.Command {
	group := &cobra.Command{Use: "container", Short: "Manage containers"}
	ls := psCmd(a)
	ls.Use, ls.Aliases = "ls", []string{"ps", "list"}
	group.AddCommand(ls, runCmd(a), createCmd(a), startCmd(a), stopCmd(a), killCmd(a), rmCmd(a), logsCmd(a), attachCmd(a),
		execCmd(a), diffCmd(a), statsCmd(a), containerInspectCmd(a))
	return []*cobra.Command{group, runCmd(a), createCmd(a), psCmd(a), startCmd(a), stopCmd(a), killCmd(a), rmCmd(a), logsCmd(a),
		attachCmd(a), execCmd(a), diffCmd(a), statsCmd(a)}
}

// containers opens the engine on the store root and tidies up first.
func (a *app) containers() (*engine.Engine, error) {
	e, err := engine.Open(engine.Options{Root: a.root})
	if err != nil {
		return nil, err
	}
	return e, a.tidy(e)
}

// tidy removes the containers run with --rm that ended while nobody
// waited, and releases the images of containers that are gone (a
// container run with --rm is removed by its monitor, which cannot release
// the image: the engine knows no images).
func (a *app) tidy(e *engine.Engine) error {
	// Holders before containers: a container is made before its hold, so
	// a hold seen here whose container is not listed below has lost it.
	var holders []string
	s, err := a.images()
	if err == nil {
		holders, err = s.Holders()
	}
	if err != nil {
		return err
	}
	all, err := e.List()
	if err != nil {
		return err
	}
	ids := map[string]bool{}
	for _, st := range all {
		ids[st.ID] = true
		if st.Spec.AutoRemove && st.Status == engine.Exited {
			a.removeContainer(e, st.ID, false)
		}
	}
	for _, h := range holders {
		if engine.IsID(h) && !ids[h] {
			s.Release(h)
		}
	}
	return nil
}

// removeContainer removes a container and lets go of its image.
func (a *app) removeContainer(e *engine.Engine, ref string, force bool) (engine.State, error) {
	st, err := e.Remove(ref, force)
	if err != nil {
		return st, err
	}
	if s, err := a.images(); err == nil {
		if err := s.Release(st.ID); err != nil {
			return st, err
		}
	}
	return st, nil
}

// startFailure is a container that could not start: its message, and the
// exit code docker gives (127 for a command not found).
type startFailure struct {
	err  error
	code int
}

func (e startFailure) Error() string   { return e.err.Error() }
func (e startFailure) Unwrap() []error { return []error{e.err, exitError{e.code}} }

// runOptions are the flags of run, as docker spells them.
type runOptions struct {
	interactive, tty, detach, rm  bool
	name, workdir, hostname, user string
	volumes, env                  []string
	memory                        string
	cpus                          float64
	pids                          int64
}

func runCmd(a *app) *cobra.Command {
	var o runOptions
	c := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND [ARG...]]",
		Short: "Run a command in a new container",
		Args:  minArgs(1, "an image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, o, args[0], args[1:])
		},
	}
	o.flags(c, true)
	return c
}

func createCmd(a *app) *cobra.Command {
	var o runOptions
	c := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND [ARG...]]",
		Short: "Create a container without starting it",
		Args:  minArgs(1, "an image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.containers()
			if err != nil {
				return err
			}
			s, img, layers, err := a.resolveImage(args[0])
			if err != nil {
				return err
			}
			spec, err := o.spec(args[0], img, layers, args[1:])
			if err != nil {
				return err
			}
			st, err := e.Create(spec)
			if err != nil {
				return err
			}
			if err := s.Hold(st.ID, img); err != nil {
				return errors.Join(err, a.discard(e, st.ID))
			}
			fmt.Fprintln(cmd.OutOrStdout(), st.ID)
			return nil
		},
	}
	o.flags(c, false)
	return c
}

// flags declares run's (and, without -d, create's) flags on c.
func (o *runOptions) flags(c *cobra.Command, detach bool) {
	c.Flags().SetInterspersed(false)
	f := c.Flags()
	f.BoolVarP(&o.interactive, "interactive", "i", false, "keep stdin open")
	f.BoolVarP(&o.tty, "tty", "t", false, "allocate a pseudo-terminal")
	if detach {
		f.BoolVarP(&o.detach, "detach", "d", false, "run in the background and print the container ID")
	}
	f.BoolVar(&o.rm, "rm", false, "remove the container when it exits")
	f.StringVar(&o.name, "name", "", "name the container")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "bind mount a volume HOST:CONTAINER[:ro]")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable K=V")
	f.StringVarP(&o.workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.user, "user", "u", "", "user to run as: name|uid[:group|gid], looked up in the image")
	f.StringVarP(&o.hostname, "hostname", "h", "", "container host name")
	f.StringVarP(&o.memory, "memory", "m", "", "memory limit (e.g. 256m)")
	f.Float64Var(&o.cpus, "cpus", 0, "number of CPUs")
	f.Int64Var(&o.pids, "pids-limit", 0, "tune container pids limit")
	f.Bool("help", false, "help for "+c.Name()) // -h is --hostname, as in docker
}

// spec turns run's flags, an image and a command into an engine spec.
func (o runOptions) spec(ref string, img images.Image, layers []string, args []string) (engine.Spec, error) {
	cfg := img.Config.Config
	argv := append([]string{}, cfg.Entrypoint...)
	if len(args) > 0 {
		argv = append(argv, args...)
	} else {
		argv = append(argv, cfg.Cmd...)
	}
	if len(argv) == 0 {
		return engine.Spec{}, usageError{fmt.Errorf("run: image %s has no command; give one", ref)}
	}
	s := engine.Spec{
		Name: o.name, Image: ref, ImageID: string(img.ID), Layers: layers, Hostname: o.hostname,
		OpenStdin: o.interactive, AutoRemove: o.rm,
		Process:   engine.Process{Args: argv, Cwd: cfg.WorkingDir, User: cfg.User, Tty: o.tty},
		Resources: engine.Resources{CPUs: o.cpus, Pids: o.pids},
	}
	if o.workdir != "" {
		s.Process.Cwd = o.workdir
	}
	if o.user != "" {
		s.Process.User = o.user
	}
	env, err := environment(o.env)
	if err != nil {
		return engine.Spec{}, err
	}
	s.Process.Env = append(append([]string{}, cfg.Env...), env...)
	for _, v := range o.volumes {
		vol, err := engine.ParseVolume(v)
		if err != nil {
			return engine.Spec{}, usageError{err}
		}
		s.Volumes = append(s.Volumes, vol)
	}
	if o.memory != "" {
		m, err := engine.ParseBytes(o.memory)
		if err != nil {
			return engine.Spec{}, usageError{fmt.Errorf("run: --memory: %w", err)}
		}
		s.Resources.Memory = m
	}
	return s, nil
}

// environment reads -e flags as docker does: K=V, or K alone for the
// value K has here (dropped when it has none).
func environment(flags []string) ([]string, error) {
	var env []string
	for _, kv := range flags {
		k, _, hasValue := strings.Cut(kv, "=")
		if k == "" {
			return nil, usageError{fmt.Errorf("environment %q: want K=V", printable(kv))}
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

// resolveImage finds an image, making the default one on first use.
func (a *app) resolveImage(ref string) (*images.Store, images.Image, []string, error) {
	s, err := a.images()
	if err != nil {
		return nil, images.Image{}, nil, err
	}
	img, err := s.Get(ref)
	if errors.Is(err, images.ErrNotFound) && (ref == "base" || ref == images.BaseName) {
		img, err = s.EnsureBase()
	}
	if err != nil {
		return nil, images.Image{}, nil, err
	}
	dirs, err := s.LayerDirs(img)
	if err != nil {
		return nil, images.Image{}, nil, err
	}
	return s, img, dirs, nil
}

func (a *app) run(cmd *cobra.Command, o runOptions, ref string, args []string) error {
	e, err := engine.Open(engine.Options{Root: a.root})
	if err != nil {
		return err
	}
	// The monitor starts up while the image is resolved and the
	// container made: forked before this process's Go runtime started,
	// as a run's are, or now.
	mon := e.PreforkedMonitor()
	if mon == nil {
		if mon, err = e.NewMonitor(); err != nil {
			return err
		}
	}
	engine.Trace("cli: monitor started")
	defer mon.Close()
	if err := a.tidy(e); err != nil {
		return err
	}
	s, img, layers, err := a.resolveImage(ref)
	if err != nil {
		return err
	}
	engine.Trace("cli: image resolved")
	spec, err := o.spec(ref, img, layers, args)
	if err != nil {
		return err
	}
	if f, ok := cmd.InOrStdin().(*os.File); ok && o.tty && isTerminal(f) {
		spec.Process.ConsoleSize, _ = engine.TerminalSize(int(f.Fd()))
	}
	st, err := e.CreateFor(mon, spec)
	if err != nil {
		return err
	}
	engine.Trace("cli: container created")
	hold := s.Hold
	if spec.AutoRemove {
		hold = s.HoldVolatile
	}
	if err := hold(st.ID, img); err != nil {
		return errors.Join(err, a.discard(e, st.ID))
	}
	engine.Trace("cli: image held")
	sess, err := e.StartWith(mon, st.ID, !o.detach)
	if err != nil {
		return a.startFailed(e, st, err)
	}
	engine.Trace("cli: started")
	if o.detach {
		fmt.Fprintln(cmd.OutOrStdout(), st.ID)
		return nil
	}
	code, detached, err := a.stream(cmd, sess, o.interactive, o.tty, killer(e, st.ID))
	if err != nil || detached {
		return err
	}
	engine.Trace("cli: exit code received")
	if o.rm {
		// The monitor has removed it, unless that failed: then this says why.
		if _, err := os.Stat(st.Dir); err == nil {
			if _, err := e.Remove(st.ID, false); err != nil && !errors.Is(err, engine.ErrNotFound) {
				return err
			}
		}
		if err := s.Release(st.ID); err != nil {
			return err
		}
		engine.Trace("cli: removed")
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}

// discard removes a container that never ran.
func (a *app) discard(e *engine.Engine, id string) error {
	_, err := a.removeContainer(e, id, true)
	return err
}

// startFailed reports a start error with docker's exit code, removing the
// container when it was run with --rm.
func (a *app) startFailed(e *engine.Engine, st engine.State, err error) error {
	if st.Spec.AutoRemove {
		err = errors.Join(err, a.discard(e, st.ID))
	}
	var se *engine.StartError
	if errors.As(err, &se) {
		return startFailure{err, se.Code}
	}
	return startFailure{err, 125}
}

// stream connects the terminal to a session until the container exits or
// the user detaches with ctrl-p ctrl-q. Without a tty, the signals that
// would end the CLI are passed to the container instead (docker's
// --sig-proxy), through kill.
func (a *app) stream(cmd *cobra.Command, sess *engine.Session, interactive, tty bool, kill func(unix.Signal) error) (code int, detached bool, err error) {
	defer sess.Close()
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && tty && isTerminal(f) {
		restore, err := engine.MakeRaw(int(f.Fd()))
		if err != nil {
			return 0, false, err
		}
		defer restore()
		stop := engine.WatchSize(int(f.Fd()), func(ws engine.Winsize) { sess.Resize(ws.Rows, ws.Cols) })
		defer stop()
	}
	if !tty && kill != nil {
		sigs := make(chan os.Signal, 4)
		signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
		defer signal.Stop(sigs)
		go func() {
			for sig := range sigs {
				kill(sig.(unix.Signal))
			}
		}()
	}
	detach := make(chan struct{})
	if interactive {
		go func() {
			var r io.Reader = in
			if tty {
				r = &engine.DetachReader{R: in}
			}
			_, err := io.Copy(sess, r)
			if errors.Is(err, engine.ErrDetached) {
				close(detach)
				sess.Close()
				return
			}
			sess.CloseStdin()
		}()
	}
	done := make(chan struct{})
	go func() {
		code, err = sess.Wait(cmd.OutOrStdout(), cmd.ErrOrStderr())
		close(done)
	}()
	select {
	case <-done:
		return code, false, err
	case <-detach:
		<-done
		fmt.Fprint(cmd.ErrOrStderr(), "\r\n")
		return 0, true, nil
	}
}

// killer sends signals to a container.
func killer(e *engine.Engine, id string) func(unix.Signal) error {
	return func(sig unix.Signal) error { return e.Kill(id, sig) }
}

func psCmd(a *app) *cobra.Command {
	var all, quiet bool
	c := &cobra.Command{
		Use: "ps", Short: "List containers", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.containers()
			if err != nil {
				return err
			}
			list, err := e.List()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if quiet {
				for i := len(list) - 1; i >= 0; i-- {
					if all || list[i].Status == engine.Running {
						fmt.Fprintln(w, list[i].ShortID())
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tNAMES")
			for i := len(list) - 1; i >= 0; i-- {
				st := list[i]
				if !all && st.Status != engine.Running {
					continue
				}
				command := printable(strings.Join(st.Spec.Process.Args, " "))
				if len(command) > 20 {
					command = command[:19] + "…"
				}
				fmt.Fprintf(tw, "%s\t%s\t%q\t%s\t%s\t%s\n", st.ShortID(), printable(st.Spec.Image), command,
					ago(time.Since(st.Created)), status(st), st.Name())
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "show all containers, not only running ones")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only show IDs")
	return c
}

// status is a container's STATUS column, as docker writes it.
func status(st engine.State) string {
	switch st.Status {
	case engine.Running:
		return "Up " + strings.TrimSuffix(ago(time.Since(st.Started)), " ago")
	case engine.Exited:
		return fmt.Sprintf("Exited (%d) %s", st.ExitCode, ago(time.Since(st.Finished)))
	}
	return "Created"
}

// eachContainer runs fn on every argument, printing each name done and
// joining the errors.
func eachContainer(a *app, cmd *cobra.Command, args []string, fn func(*engine.Engine, string) error) error {
	e, err := a.containers()
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range args {
		if err := fn(e, ref); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), printable(ref))
	}
	return errors.Join(errs...)
}

func startCmd(a *app) *cobra.Command {
	var attach bool
	c := &cobra.Command{
		Use: "start [-a] CONTAINER...", Short: "Start stopped containers", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if attach {
				if len(args) != 1 {
					return usageError{errors.New("start -a: want one container")}
				}
				e, err := a.containers()
				if err != nil {
					return err
				}
				st, err := e.Get(args[0])
				if err != nil {
					return err
				}
				sess, err := e.Start(st.ID, true)
				if err != nil {
					return a.startFailed(e, st, err)
				}
				code, _, err := a.stream(cmd, sess, st.Spec.OpenStdin, st.Spec.Process.Tty, killer(e, st.ID))
				if err == nil && code != 0 {
					err = exitError{code}
				}
				return err
			}
			return eachContainer(a, cmd, args, func(e *engine.Engine, ref string) error {
				_, err := e.Start(ref, false)
				return err
			})
		},
	}
	c.Flags().BoolVarP(&attach, "attach", "a", false, "attach to the container's output")
	return c
}

func stopCmd(a *app) *cobra.Command {
	var secs int
	c := &cobra.Command{
		Use: "stop [-t SECONDS] CONTAINER...", Short: "Stop containers: SIGTERM, then SIGKILL", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(a, cmd, args, func(e *engine.Engine, ref string) error {
				_, err := e.Stop(ref, time.Duration(secs)*time.Second)
				return err
			})
		},
	}
	c.Flags().IntVarP(&secs, "time", "t", 10, "seconds to wait before killing")
	return c
}

func killCmd(a *app) *cobra.Command {
	var sig string
	c := &cobra.Command{
		Use: "kill [-s SIGNAL] CONTAINER...", Short: "Send a signal to containers", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := parseSignal(sig)
			if err != nil {
				return usageError{err}
			}
			return eachContainer(a, cmd, args, func(e *engine.Engine, ref string) error { return e.Kill(ref, s) })
		},
	}
	c.Flags().StringVarP(&sig, "signal", "s", "KILL", "signal to send")
	return c
}

// parseSignal reads a signal as a number, KILL or SIGKILL.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("kill: unknown signal %q", printable(s))
}

func rmCmd(a *app) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use: "rm [-f] CONTAINER...", Short: "Remove containers", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(a, cmd, args, func(e *engine.Engine, ref string) error {
				_, err := a.removeContainer(e, ref, force)
				return err
			})
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "kill a running container first")
	return c
}

func logsCmd(a *app) *cobra.Command {
	var follow bool
	c := &cobra.Command{
		Use: "logs [-f] CONTAINER", Short: "Show a container's output", Args: exactArgs(1, "one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.containers()
			if err != nil {
				return err
			}
			return e.Logs(args[0], follow, cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep following the output")
	return c
}

func attachCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use: "attach CONTAINER", Short: "Attach to a running container (detach with ctrl-p ctrl-q)", Args: exactArgs(1, "one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.containers()
			if err != nil {
				return err
			}
			st, err := e.Get(args[0])
			if err != nil {
				return err
			}
			sess, err := e.Attach(st.ID)
			if err != nil {
				return err
			}
			code, detached, err := a.stream(cmd, sess, st.Spec.OpenStdin, st.Spec.Process.Tty, nil)
			if err == nil && !detached && code != 0 {
				err = exitError{code}
			}
			return err
		},
	}
}

func execCmd(a *app) *cobra.Command {
	var interactive, tty bool
	var env []string
	var workdir, user string
	c := &cobra.Command{
		Use: "exec [-it] [-u USER] CONTAINER COMMAND [ARG...]", Short: "Run a command in a running container", Args: minArgs(2, "a container and a command"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.containers()
			if err != nil {
				return err
			}
			stdio := engine.Stdio{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}
			if interactive {
				stdio.Stdin = cmd.InOrStdin()
			}
			if f, ok := cmd.InOrStdin().(*os.File); ok && tty && isTerminal(f) {
				fd := int(f.Fd())
				restore, err := engine.MakeRaw(fd)
				if err != nil {
					return err
				}
				defer restore()
				stdio.Size, _ = engine.TerminalSize(fd)
				resize := make(chan engine.Winsize, 1)
				stop := engine.WatchSize(fd, func(ws engine.Winsize) {
					select {
					case resize <- ws:
					default:
					}
				})
				defer stop()
				stdio.Resize = resize
			}
			vars, err := environment(env)
			if err != nil {
				return err
			}
			code, err := e.Exec(args[0], engine.Process{Args: args[1:], Env: vars, Cwd: workdir, User: user, Tty: tty}, stdio)
			var se *engine.StartError
			if errors.As(err, &se) {
				return startFailure{err, se.Code}
			}
			if err != nil {
				return err
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	c.Flags().SetInterspersed(false)
	c.Flags().BoolVarP(&interactive, "interactive", "i", false, "keep stdin open")
	c.Flags().BoolVarP(&tty, "tty", "t", false, "allocate a pseudo-terminal")
	c.Flags().StringArrayVarP(&env, "env", "e", nil, "set an environment variable K=V")
	c.Flags().StringVarP(&workdir, "workdir", "w", "", "working directory inside the container")
	c.Flags().StringVarP(&user, "user", "u", "", "user to run as (default: the container's)")
	return c
}

func diffCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use: "diff CONTAINER", Short: "Show what a container changed in its filesystem", Args: exactArgs(1, "one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.containers()
			if err != nil {
				return err
			}
			changes, err := e.Diff(args[0])
			if err != nil {
				return err
			}
			for _, c := range changes {
				fmt.Fprintf(cmd.OutOrStdout(), "%c %s\n", c.Kind, printable(c.Path))
			}
			return nil
		},
	}
}

func statsCmd(a *app) *cobra.Command {
	var noStream bool
	c := &cobra.Command{
		Use: "stats [--no-stream] [CONTAINER...]", Short: "Show running containers' CPU, memory and pids, refreshed every second",
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.containers()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), unix.SIGINT, unix.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			f, ok := out.(*os.File)
			clear := ok && isTerminal(f)
			return streamStats(ctx, e, args, out, !noStream, time.Second, clear)
		},
	}
	c.Flags().BoolVar(&noStream, "no-stream", false, "print once instead of refreshing every second")
	return c
}

// statsSample is one reading of a container's counters and when it was made.
type statsSample struct {
	u  engine.Usage
	at time.Time
}

// streamStats prints docker's stats table for refs (every running
// container when there are none) every interval until ctx ends, or once
// when stream is false, the CPU column over the half interval before it.
// With clear, each table replaces the last on the terminal.
func streamStats(ctx context.Context, e *engine.Engine, refs []string, w io.Writer, stream bool, every time.Duration, clear bool) error {
	prev := map[string]statsSample{}
	if !stream {
		if _, err := statsRows(e, refs, prev); err != nil {
			return err
		}
		every /= 2
	}
	for first := true; ; first = false {
		if !first || !stream {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(every):
			}
		}
		rows, err := statsRows(e, refs, prev)
		if err != nil && (!stream || first) {
			return err
		}
		printStats(w, rows, clear)
		if !stream {
			return nil
		}
	}
}

// statsRow is one line of the stats table.
type statsRow struct {
	id, name   string
	cpu        float64 // percent of one CPU
	mem, limit int64
	pids       int64
}

// statsRows reads the containers' usage; the CPU share is the CPU time
// used since the reading in prev (which it replaces) over the wall time.
func statsRows(e *engine.Engine, refs []string, prev map[string]statsSample) ([]statsRow, error) {
	all := len(refs) == 0
	if all {
		list, err := e.List()
		if err != nil {
			return nil, err
		}
		for _, st := range list {
			if st.Status == engine.Running {
				refs = append(refs, st.ID)
			}
		}
	}
	var rows []statsRow
	var errs []error
	for _, ref := range refs {
		st, err := e.Get(ref)
		var u engine.Usage
		if err == nil {
			u, err = e.Stats(st.ID)
		}
		if err != nil {
			if !all {
				errs = append(errs, err)
			}
			continue
		}
		now := time.Now()
		r := statsRow{id: st.ShortID(), name: st.Name(), mem: u.MemoryBytes, limit: u.MemoryLimit, pids: u.Pids}
		if p, ok := prev[st.ID]; ok && now.After(p.at) {
			r.cpu = float64(u.CPUNanos-p.u.CPUNanos) / float64(now.Sub(p.at).Nanoseconds()) * 100
		}
		if r.limit == 0 {
			r.limit = hostMemory()
		}
		prev[st.ID] = statsSample{u, now}
		rows = append(rows, r)
	}
	return rows, errors.Join(errs...)
}

// printStats writes the table, first clearing the terminal when clear is set.
func printStats(w io.Writer, rows []statsRow, clear bool) {
	if clear {
		fmt.Fprint(w, "\x1b[2J\x1b[H")
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS")
	for _, r := range rows {
		memPct := 0.0
		if r.limit > 0 {
			memPct = float64(r.mem) / float64(r.limit) * 100
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%d\n", r.id, printable(r.name), max(r.cpu, 0),
			binarySize(r.mem), binarySize(r.limit), memPct, r.pids)
	}
	tw.Flush()
}

// binarySize writes n in binary units, as docker stats does (1.5MiB).
func binarySize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

// hostMemory is the machine's memory, the limit of a container without one.
func hostMemory() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}

func containerInspectCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use: "inspect CONTAINER...", Short: "Show containers' state, mounts, cgroup and limits as JSON", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.containers()
			if err != nil {
				return err
			}
			var out []engine.State
			for _, ref := range args {
				st, err := e.Get(ref)
				if err != nil {
					return err
				}
				out = append(out, st)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "    ")
			return enc.Encode(out)
		},
	}
}
