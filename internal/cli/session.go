package cli

// The verbs that connect to a container's streams: attach, exec, logs,
// and the terminal session run and start -a share with them.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"minidocker/engine"
	"minidocker/internal/app"
)

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
	var interactive, tty, privileged bool
	var env []string
	var workdir, user string
	c := &cobra.Command{
		Annotations: map[string]string{startsContainer: "yes"},
		Use:         "exec [-it] [-u USER] CONTAINER COMMAND [ARG...]", Short: "Run a command in a running container", Args: minArgs(2, "a container and a command"),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := a.Engine()
			if err != nil {
				return err
			}
			if err := checkTTY(cmd.InOrStdin(), interactive, tty); err != nil {
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
			code, err := e.Exec(args[0], engine.Process{Args: args[1:], Env: vars, Cwd: workdir, User: user, Tty: tty, Privileged: privileged}, stdio)
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
	c.Flags().BoolVar(&privileged, "privileged", false, "give the command every capability (the container's seccomp filter stays)")
	c.Flags().BoolVarP(&tty, "tty", "t", false, "allocate a pseudo-terminal")
	c.Flags().StringArrayVarP(&env, "env", "e", nil, "set an environment variable K=V")
	c.Flags().StringVarP(&workdir, "workdir", "w", "", "working directory inside the container")
	c.Flags().StringVarP(&user, "user", "u", "", "user to run as (default: the container's)")
	return c
}
