package cli

import (
	"errors"
	"os"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"minidocker/internal/app"
	"minidocker/ui"
)

// uiCmd is "minidocker ui [IMAGE]": the terminal UI over this store,
// opened on an image's view when one is named, pulled first when it is a
// registry's and not here (dive's "dive alpine").
func uiCmd(a *app.App) *cobra.Command {
	var f uiFlags
	c := &cobra.Command{
		Use:   "ui [--presenter] [--tls-verify=false] [--platform OS/ARCH] [--pull] [IMAGE|ARCHIVE]",
		Short: "Open the terminal UI: images, containers and their layers, live; with IMAGE, on its view (pulled first when it is a registry's; an archive read-only, without root)",
		Args:  maxArgs(1, "at most an image or an archive file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return runUIOn(cmd, a, f, args[0])
			}
			return runUI(a, f)
		},
	}
	f.add(c)
	f.reg.addFallback(c)
	return c
}

// uiFlags are the UI's flags, on "ui" and on minidocker alone, which
// opens the UI too; reg are ui IMAGE's, for its pull.
type uiFlags struct {
	presenter bool
	reg       registryFlags
}

func (f *uiFlags) add(c *cobra.Command) {
	c.Flags().BoolVar(&f.presenter, "presenter", false,
		"for a class: high contrast, and the keys that stop, remove, prune, pull or push refused")
}

// runUI opens the sources and runs the program until it quits. Without
// root the UI still opens: images and host mounts can be browsed, and one
// line says why containers cannot run.
func runUI(a *app.App, f uiFlags) error {
	_, err := runProgram(a, ui.Options{Presenter: f.presenter})
	return err
}

// runBuildUI opens the UI on the build view of o (build --ui) and returns
// the build's error once the UI quits.
func runBuildUI(a *app.App, o app.BuildOptions) error {
	spec := ui.BuildSpec{Context: o.Context, Dockerfile: o.Dockerfile, Tags: o.Tags, NoCache: o.NoCache,
		BuildArgs: o.BuildArgs, Target: o.Target, Zstd: o.Zstd}
	buildErr, err := runProgram(a, ui.Options{Build: &spec})
	if err != nil {
		return err
	}
	return buildErr
}

// runProgram runs the UI with o until it quits, then waits for a build
// still under way to stop, so that its container does not outlive the
// program, and for a pull or push to end, clearing what it had begun,
// and removes the container of a lesson under way; it returns the last
// build's error and the program's.
func runProgram(a *app.App, o ui.Options) (buildErr, err error) {
	if o.Build != nil && os.Geteuid() != 0 {
		return nil, errors.New("build --ui: a build runs containers, which need root")
	}
	return runSources(a, a.UISources(), o)
}

// runSources is runProgram over src.
func runSources(a *app.App, src ui.Sources, o ui.Options) (buildErr, err error) {
	o.Dark = lipgloss.HasDarkBackground(os.Stdin, os.Stdout)
	o.NoColor = os.Getenv("NO_COLOR") != ""
	p := tea.NewProgram(ui.New(src, o))
	final, err := p.Run()
	if m, ok := final.(ui.Model); ok {
		buildErr = m.WaitBuild()
		m.WaitTransfer()
		for _, l := range m.WaitLessons() {
			err = errors.Join(err, a.EndLesson(app.LessonContainer(l)))
		}
	}
	return buildErr, err
}
