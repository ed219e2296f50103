package cli

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
	"minidocker/internal/app"
	"minidocker/internal/human"
)

// containerCommands are the verbs over containers, each also under
// "container".
func containerCommands(a *app.App) []*cobra.Command {
	group := &cobra.Command{Use: "container", Short: "Manage containers"}
	ls := psCmd(a)
	ls.Use, ls.Aliases = "ls", []string{"ps", "list"}
	group.AddCommand(ls, runCmd(a), createCmd(a), startCmd(a), stopCmd(a), killCmd(a), rmCmd(a), logsCmd(a), attachCmd(a),
		execCmd(a), diffCmd(a), statsCmd(a), containerInspectCmd(a))
	return []*cobra.Command{group, runCmd(a), createCmd(a), psCmd(a), startCmd(a), stopCmd(a), killCmd(a), rmCmd(a), logsCmd(a),
		attachCmd(a), execCmd(a), diffCmd(a), statsCmd(a)}
}

// runFlags are run's and create's flags, as docker spells them.
type runFlags struct {
	app.Options
	detach bool
}

func runCmd(a *app.App) *cobra.Command {
	var o runFlags
	c := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND [ARG...]]",
		Short: "Run a command in a new container",
		Args:  minArgs(1, "an image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, a, o, args[0], args[1:])
		},
	}
	o.declare(c, true)
	return c
}

func createCmd(a *app.App) *cobra.Command {
	var o runFlags
	c := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND [ARG...]]",
		Short: "Create a container without starting it",
		Args:  minArgs(1, "an image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			r, err := a.Resolve(args[0])
			if err != nil {
				return err
			}
			spec, err := r.Spec(o.Options, args[1:])
			if err != nil {
				return err
			}
			st, err := a.Create(e, r, spec, nil)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), st.ID)
			return nil
		},
	}
	o.declare(c, false)
	return c
}

// declare declares run's (and, without -d, create's) flags on c.
func (o *runFlags) declare(c *cobra.Command, detach bool) {
	c.Flags().SetInterspersed(false)
	f := c.Flags()
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "keep stdin open")
	f.BoolVarP(&o.Tty, "tty", "t", false, "allocate a pseudo-terminal")
	if detach {
		f.BoolVarP(&o.detach, "detach", "d", false, "run in the background and print the container ID")
	}
	f.BoolVar(&o.AutoRemove, "rm", false, "remove the container when it exits")
	f.StringVar(&o.Name, "name", "", "name the container")
	f.StringArrayVarP(&o.Volumes, "volume", "v", nil, "bind mount a volume HOST:CONTAINER[:ro]")
	f.StringArrayVarP(&o.Env, "env", "e", nil, "set an environment variable K=V")
	f.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.User, "user", "u", "", "user to run as: name|uid[:group|gid], looked up in the image")
	f.StringVarP(&o.Hostname, "hostname", "h", "", "container host name")
	f.StringVarP(&o.Memory, "memory", "m", "", "memory limit (e.g. 256m, 1g, 512MiB)")
	f.Float64Var(&o.CPUs, "cpus", 0, "number of CPUs")
	f.Int64Var(&o.Pids, "pids-limit", 0, "tune container pids limit")
	f.Bool("help", false, "help for "+c.Name()) // -h is --hostname, as in docker
}

func run(cmd *cobra.Command, a *app.App, o runFlags, ref string, args []string) error {
	e, err := engine.Open(engine.Options{Root: a.Root})
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
	if err := a.Tidy(e); err != nil {
		return err
	}
	r, err := a.Resolve(ref)
	if err != nil {
		return err
	}
	engine.Trace("cli: image resolved")
	spec, err := r.Spec(o.Options, args)
	if err != nil {
		return err
	}
	if f, ok := cmd.InOrStdin().(*os.File); ok && o.Tty && isTerminal(f) {
		spec.Process.ConsoleSize, _ = terminalSize(int(f.Fd()))
	}
	st, err := a.Create(e, r, spec, mon)
	if err != nil {
		return err
	}
	sess, err := e.StartWith(mon, st.ID, !o.detach)
	if err != nil {
		return a.StartFailed(e, st, err)
	}
	engine.Trace("cli: started")
	if o.detach {
		fmt.Fprintln(cmd.OutOrStdout(), st.ID)
		return nil
	}
	code, detached, err := stream(cmd, sess, o.Interactive, o.Tty, killer(e, st.ID))
	if err != nil || detached {
		return err
	}
	engine.Trace("cli: exit code received")
	if o.AutoRemove {
		if err := a.Finish(e, st); err != nil {
			return err
		}
		engine.Trace("cli: removed")
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}

// stream connects the terminal to a session until the container exits or
// the user detaches with ctrl-p ctrl-q. Without a tty, the signals that
// would end the CLI are passed to the container instead (docker's
// --sig-proxy), through kill.
func stream(cmd *cobra.Command, sess *engine.Session, interactive, tty bool, kill func(unix.Signal) error) (code int, detached bool, err error) {
	defer sess.Close()
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && tty && isTerminal(f) {
		restore, err := makeRaw(int(f.Fd()))
		if err != nil {
			return 0, false, err
		}
		defer restore()
		stop := watchSize(int(f.Fd()), func(ws engine.Winsize) { sess.Resize(ws.Rows, ws.Cols) })
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
				r = &detachReader{r: in}
			}
			_, err := io.Copy(sess, r)
			if errors.Is(err, errDetached) {
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

func psCmd(a *app.App) *cobra.Command {
	var all, quiet bool
	c := &cobra.Command{
		Use: "ps", Short: "List containers", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
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
				fmt.Fprintln(tw, strings.Join(psRow(st, time.Now()), "\t"))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "show all containers, not only running ones")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "only show IDs")
	return c
}

// psRow is a container's line of ps: the command cut to 20 characters as
// docker cuts it, escaped once and never cut inside a character.
func psRow(st engine.State, now time.Time) []string {
	command := human.Truncate(human.Visible(strings.Join(st.Spec.Process.Args, " ")), 20)
	return []string{st.ShortID(), human.Visible(st.Spec.Image), `"` + command + `"`,
		human.Ago(now.Sub(st.Created)), status(st), human.Visible(st.Name())}
}

// status is a container's STATUS column, as docker writes it.
func status(st engine.State) string {
	switch st.Status {
	case engine.Running:
		return "Up " + strings.TrimSuffix(human.Ago(time.Since(st.Started)), " ago")
	case engine.Exited:
		return fmt.Sprintf("Exited (%d) %s", st.ExitCode, human.Ago(time.Since(st.Finished)))
	}
	return "Created"
}

// eachContainer runs fn on every argument, printing each name done and
// joining the errors.
func eachContainer(a *app.App, cmd *cobra.Command, args []string, fn func(*engine.Engine, string) error) error {
	e, err := a.Engine()
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range args {
		if err := fn(e, ref); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(cmd.OutOrStdout(), human.Visible(ref))
	}
	return errors.Join(errs...)
}

func startCmd(a *app.App) *cobra.Command {
	var attach bool
	c := &cobra.Command{
		Use: "start [-a] CONTAINER...", Short: "Start stopped containers", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if attach {
				if len(args) != 1 {
					return usageError{errors.New("start -a: want one container")}
				}
				e, err := a.Engine()
				if err != nil {
					return err
				}
				st, err := e.Get(args[0])
				if err != nil {
					return err
				}
				sess, err := e.Start(st.ID, true)
				if err != nil {
					return a.StartFailed(e, st, err)
				}
				code, _, err := stream(cmd, sess, st.Spec.OpenStdin, st.Spec.Process.Tty, killer(e, st.ID))
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

func stopCmd(a *app.App) *cobra.Command {
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

func killCmd(a *app.App) *cobra.Command {
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
	return 0, fmt.Errorf("kill: unknown signal %q", human.Visible(s))
}

func rmCmd(a *app.App) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use: "rm [-f] CONTAINER...", Short: "Remove containers", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(a, cmd, args, func(e *engine.Engine, ref string) error {
				_, err := a.Remove(e, ref, force)
				return err
			})
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "kill a running container first")
	return c
}

func logsCmd(a *app.App) *cobra.Command {
	var follow bool
	c := &cobra.Command{
		Use: "logs [-f] CONTAINER", Short: "Show a container's output", Args: exactArgs(1, "one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			return e.Logs(cmd.Context(), args[0], follow, cmd.OutOrStdout())
		},
	}
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep following the output")
	return c
}

func attachCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "attach CONTAINER", Short: "Attach to a running container (detach with ctrl-p ctrl-q)", Args: exactArgs(1, "one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
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
			code, detached, err := stream(cmd, sess, st.Spec.OpenStdin, st.Spec.Process.Tty, nil)
			if err == nil && !detached && code != 0 {
				err = exitError{code}
			}
			return err
		},
	}
}

func execCmd(a *app.App) *cobra.Command {
	var interactive, tty bool
	var env []string
	var workdir, user string
	c := &cobra.Command{
		Use: "exec [-it] [-u USER] CONTAINER COMMAND [ARG...]", Short: "Run a command in a running container", Args: minArgs(2, "a container and a command"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			stdio := engine.Stdio{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}
			if interactive {
				stdio.Stdin = cmd.InOrStdin()
			}
			if f, ok := cmd.InOrStdin().(*os.File); ok && tty && isTerminal(f) {
				fd := int(f.Fd())
				restore, err := makeRaw(fd)
				if err != nil {
					return err
				}
				defer restore()
				stdio.Size, _ = terminalSize(fd)
				resize := make(chan engine.Winsize, 1)
				stop := watchSize(fd, func(ws engine.Winsize) {
					select {
					case resize <- ws:
					default:
					}
				})
				defer stop()
				stdio.Resize = resize
			}
			vars, err := app.Environment(env)
			if err != nil {
				return err
			}
			code, err := e.Exec(args[0], engine.Process{Args: args[1:], Env: vars, Cwd: workdir, User: user, Tty: tty}, stdio)
			var se *engine.StartError
			if errors.As(err, &se) {
				return &app.StartFailure{Err: err, Code: se.Code}
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

func diffCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "diff CONTAINER", Short: "Show what a container changed in its filesystem", Args: exactArgs(1, "one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			changes, err := e.Diff(args[0])
			if err != nil {
				return err
			}
			for _, c := range changes {
				fmt.Fprintf(cmd.OutOrStdout(), "%c %s\n", c.Kind, human.Visible(c.Path))
			}
			return nil
		},
	}
}

func statsCmd(a *app.App) *cobra.Command {
	var noStream bool
	c := &cobra.Command{
		Use: "stats [--no-stream] [CONTAINER...]", Short: "Show running containers' CPU, memory and pids, refreshed every second",
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
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

// streamStats prints docker's stats table for refs (every running
// container when there are none) every interval until ctx ends, or once
// when stream is false, the CPU column over the half interval before it.
// With clear, each table replaces the last on the terminal.
func streamStats(ctx context.Context, e *engine.Engine, refs []string, w io.Writer, stream bool, every time.Duration, clear bool) error {
	s := app.NewSampler(e)
	if !stream {
		if _, err := s.Sample(refs); err != nil {
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
		rows, err := s.Sample(refs)
		if err != nil && (!stream || first) {
			return err
		}
		printStats(w, rows, clear)
		if !stream {
			return nil
		}
	}
}

// printStats writes the table, first clearing the terminal when clear is set.
func printStats(w io.Writer, rows []app.Usage, clear bool) {
	if clear {
		fmt.Fprint(w, "\x1b[2J\x1b[H")
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS")
	for _, r := range rows {
		memPct := 0.0
		if r.Limit > 0 {
			memPct = float64(r.Mem) / float64(r.Limit) * 100
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%d\n", r.ID, human.Visible(r.Name), r.CPU,
			human.BinarySize(r.Mem), human.BinarySize(r.Limit), memPct, r.Pids)
	}
	tw.Flush()
}

func containerInspectCmd(a *app.App) *cobra.Command {
	return &cobra.Command{
		Use: "inspect CONTAINER...", Short: "Show containers' state, mounts, cgroup and limits as JSON", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
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
