package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
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
		execCmd(a), diffCmd(a), statsCmd(a), containerInspectCmd(a), pauseCmd(a), unpauseCmd(a))
	return []*cobra.Command{group, runCmd(a), createCmd(a), psCmd(a), startCmd(a), stopCmd(a), killCmd(a), rmCmd(a), logsCmd(a),
		attachCmd(a), execCmd(a), diffCmd(a), statsCmd(a), pauseCmd(a), unpauseCmd(a)}
}

// runFlags are run's and create's flags, as docker spells them.
type runFlags struct {
	app.Options
	detach bool
}

func runCmd(a *app.App) *cobra.Command {
	var o runFlags
	c := &cobra.Command{
		Annotations: map[string]string{startsContainer: "yes"},
		Use:         "run [OPTIONS] IMAGE [COMMAND [ARG...]]",
		Short:       "Run a command in a new container",
		Args:        minArgs(1, "an image"),
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
		Annotations: map[string]string{startsContainer: "yes"},
		Use:         "create [OPTIONS] IMAGE [COMMAND [ARG...]]",
		Short:       "Create a container without starting it",
		Args:        minArgs(1, "an image"),
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
			notify(cmd, spec)
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
	f.StringArrayVarP(&o.Volumes, "volume", "v", nil, "bind mount a host path or a volume: SOURCE:TARGET[:ro,z,rslave,nocopy…], or TARGET for an anonymous volume")
	f.StringArrayVar(&o.Mounts, "mount", nil, "attach a mount: type=bind|volume|tmpfs,source=…,target=…[,readonly][,bind-propagation=…][,volume-nocopy][,tmpfs-size=…][,tmpfs-mode=…]")
	f.StringArrayVar(&o.Tmpfs, "tmpfs", nil, "mount a tmpfs: PATH[:OPTIONS], e.g. /run:size=64m,mode=1777")
	f.StringArrayVar(&o.Devices, "device", nil, "add a host device HOST[:CONTAINER][:PERMISSIONS], permissions of rwm")
	f.StringArrayVarP(&o.Env, "env", "e", nil, "set an environment variable K=V")
	f.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.User, "user", "u", "", "user to run as: name|uid[:group|gid], looked up in the image")
	f.StringVarP(&o.Hostname, "hostname", "h", "", "container host name")
	f.StringArrayVar(&o.AddHosts, "add-host", nil, "add a line to /etc/hosts: HOST:IP (the engine then writes the file)")
	f.StringVarP(&o.Memory, "memory", "m", "", "memory limit (e.g. 256m, 1g, 512MiB)")
	f.Float64Var(&o.CPUs, "cpus", 0, "number of CPUs")
	f.Int64Var(&o.Pids, "pids-limit", 0, "tune container pids limit")
	f.BoolVar(&o.Privileged, "privileged", false, "give the container every capability, no seccomp filter, all of /proc and a writable /sys")
	f.StringArrayVar(&o.CapAdd, "cap-add", nil, "add a capability (CAP_X, X or ALL)")
	f.StringArrayVar(&o.CapDrop, "cap-drop", nil, "drop a capability (CAP_X, X or ALL)")
	f.StringArrayVar(&o.SecurityOpt, "security-opt", nil, "seccomp=unconfined|builtin|PROFILE.json, no-new-privileges")
	f.BoolVar(&o.NoPivot, "no-pivot", false, "enter the root with MS_MOVE and chroot(2), not pivot_root(2), as runc's --no-pivot: unsafe, the host's root "+
		"stays mounted beneath the container's; for hosts whose root is a ramdisk, and for teaching")
	f.Bool("help", false, "help for "+c.Name()) // -h is --hostname, as in docker
}

// notify prints, once each, what the spec asks for that this host cannot
// do (z and Z without SELinux).
func notify(cmd *cobra.Command, spec engine.Spec) {
	for _, n := range app.Notices(spec) {
		fmt.Fprintf(cmd.ErrOrStderr(), "minidocker: notice: %s\n", n)
	}
}

func run(cmd *cobra.Command, a *app.App, o runFlags, ref string, args []string) error {
	if !o.detach {
		if err := checkTTY(cmd.InOrStdin(), o.Interactive, o.Tty); err != nil {
			return err
		}
	}
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
	notify(cmd, spec)
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
		Annotations: map[string]string{startsContainer: "yes"},
		Use:         "start [-a] CONTAINER...", Short: "Start stopped containers", Args: minArgs(1, "a container"),
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
	var force, volumes bool
	c := &cobra.Command{
		Use: "rm [-f] [-v] CONTAINER...", Short: "Remove containers", Args: minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(a, cmd, args, func(e *engine.Engine, ref string) error {
				remove := a.Remove
				if volumes {
					remove = a.RemoveWithVolumes
				}
				_, err := remove(e, ref, force)
				return err
			})
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "kill a running container first")
	c.Flags().BoolVarP(&volumes, "volumes", "v", false, "remove the anonymous volumes of the container")
	return c
}
