package dockerfile

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// defaultPath is the PATH docker adds to a stage whose base image sets
// none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultShell is what shell-form RUN, CMD and ENTRYPOINT run under
// until a SHELL instruction says otherwise.
var defaultShell = []string{"/bin/sh", "-c"}

// State is a stage being built: the image config so far and what the
// next instruction may expand.
type State struct {
	// Config is the image config the steps so far have made.
	Config ocispec.ImageConfig
	// Shell is the SHELL in force; nil means /bin/sh -c. An OCI config has
	// no field for it, so it lives here and is lost when the image is
	// stored; a stage built FROM another stage inherits it (NewStateFrom).
	Shell []string
	// Author is what MAINTAINER sets (the image's "author"); docker does
	// not carry it over from the base image.
	Author string

	stage  *Stage
	args   *argScope
	lex    *shell.Lex
	cmdSet bool // a CMD in this stage: ENTRYPOINT then keeps it
}

// NewState starts the stage on the config of its base image (the zero
// config for scratch). As docker does, PATH is set if the base does not
// set it.
func (st *Stage) NewState(base ocispec.ImageConfig) *State {
	s := &State{
		Config: cloneConfig(base),
		stage:  st,
		args:   newArgScope(st.file.global, st.file.options),
		lex:    shell.NewLex(st.file.escape),
	}
	if !envKeys(s.Config.Env)["PATH"] {
		s.Config.Env = append(s.Config.Env, defaultPath)
	}
	return s
}

// NewStateFrom starts the stage on the final state of the earlier stage
// its FROM names: that stage's config and SHELL, not its ARGs.
func (st *Stage) NewStateFrom(parent *State) *State {
	s := st.NewState(parent.Config)
	s.Shell = slices.Clone(parent.Shell)
	return s
}

func cloneConfig(c ocispec.ImageConfig) ocispec.ImageConfig {
	c.Env = slices.Clone(c.Env)
	c.Entrypoint = slices.Clone(c.Entrypoint)
	c.Cmd = slices.Clone(c.Cmd)
	c.ExposedPorts = maps.Clone(c.ExposedPorts)
	c.Volumes = maps.Clone(c.Volumes)
	c.Labels = maps.Clone(c.Labels)
	return c
}

// Step expands ins against the state, applies it to the state as docker's
// classic builder does, and returns what the caller must do for it. A step
// that fails leaves the state as it was. The instruction is parsed afresh
// each time, so a plan can be stepped more than once.
func (s *State) Step(ins Instruction) (Step, error) {
	step := Step{Kind: ins.Kind, Line: ins.Line, Text: ins.Text, FromStage: -1}
	if ins.node == nil {
		return Step{}, s.stage.file.errAt(ins.Line, errors.New("instruction not from a parsed plan"))
	}
	if ins.Kind == From {
		return step, nil
	}
	next := s.clone()
	if err := next.apply(ins, &step); err != nil {
		return Step{}, s.stage.file.errAt(ins.Line, err)
	}
	*s = *next
	if step.CacheText == "" {
		step.CacheText = step.CreatedBy
	}
	return step, nil
}

func (s *State) clone() *State {
	c := *s
	c.Config = cloneConfig(s.Config)
	c.Shell = slices.Clone(s.Shell)
	c.args = &argScope{declared: maps.Clone(s.args.declared), global: s.args.global, options: s.args.options}
	return &c
}

func (s *State) apply(ins Instruction, step *Step) error {
	cmd, err := instructions.ParseInstruction(ins.node)
	if err != nil {
		return err
	}
	if err := supported(cmd); err != nil {
		return err
	}
	env := shell.EnvsFromSlice(s.expansionEnv())
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		err := ex.Expand(func(word string) (string, error) {
			w, _, err := s.lex.ProcessWord(word, env)
			return w, err
		})
		if err != nil {
			return err
		}
	}
	switch c := cmd.(type) {
	case *instructions.RunCommand:
		return s.run(c, step)
	case *instructions.CopyCommand:
		return s.copy(step, copyArgs{name: "COPY", sd: c.SourcesAndDest, chown: c.Chown, chmod: c.Chmod, from: ins.from, fromStage: ins.fromStage})
	case *instructions.AddCommand:
		return s.copy(step, copyArgs{name: "ADD", sd: c.SourcesAndDest, chown: c.Chown, chmod: c.Chmod, fromStage: -1})
	case *instructions.ExposeCommand:
		return s.expose(c, env, step)
	case *instructions.WorkdirCommand:
		return s.workdir(c, step)
	}
	msg, err := s.applyMeta(cmd)
	if err != nil {
		return err
	}
	step.CreatedBy = s.nop(msg)
	return nil
}

// expansionEnv is what $VAR sees: the config's Env, then every ARG in
// scope that no ENV of the same name hides.
func (s *State) expansionEnv() []string {
	return append(slices.Clone(s.Config.Env), s.args.values(envKeys(s.Config.Env))...)
}

// shell returns the argv prefix of a shell-form command.
func (s *State) shell() []string {
	if len(s.Shell) == 0 {
		return slices.Clone(defaultShell)
	}
	return slices.Clone(s.Shell)
}

// nop is the history entry of an instruction that runs nothing: docker's
// "/bin/sh -c #(nop)  ENV A=b" (two spaces: "#(nop) " and the message
// were two words of the commit's Cmd).
func (s *State) nop(msg string) string {
	return strings.Join(append(s.shell(), "#(nop) ", msg), " ")
}

// workdir sets the working directory, relative to the previous one
// unless absolute. Its history entry has one word after the shell where
// the other instructions have two: "/bin/sh -c #(nop) WORKDIR /app".
func (s *State) workdir(c *instructions.WorkdirCommand, step *Step) error {
	if c.Path == "" {
		return errors.New("WORKDIR cannot be empty")
	}
	wd := c.Path
	if !path.IsAbs(wd) {
		wd = path.Join("/", s.Config.WorkingDir, wd)
	}
	s.Config.WorkingDir = path.Clean(wd)
	step.CreatedBy = strings.Join(append(s.shell(), "#(nop) WORKDIR "+s.Config.WorkingDir), " ")
	return nil
}

// withShell is a RUN, CMD or ENTRYPOINT command line: shell form under
// the SHELL in force, exec form as written.
func (s *State) withShell(line instructions.ShellDependantCmdLine) []string {
	if line.PrependShell && line.CmdLine != nil {
		return append(s.shell(), line.CmdLine...)
	}
	return slices.Clone(line.CmdLine)
}

// applyMeta applies an instruction that only changes the config and
// returns its history message.
func (s *State) applyMeta(cmd any) (string, error) {
	cfg := &s.Config
	switch c := cmd.(type) {
	case *instructions.EnvCommand:
		msg := "ENV"
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
			msg += " " + kv.Key + "=" + kv.Value
		}
		return msg, nil
	case *instructions.ArgCommand:
		var parts []string
		for _, kv := range c.Args {
			s.args.declare(kv.Key, kv.Value)
			parts = append(parts, kv.String())
			if kv.Value == nil {
				parts[len(parts)-1] = kv.Key
			}
		}
		return "ARG " + strings.Join(parts, " "), nil
	case *instructions.UserCommand:
		cfg.User = c.User
		return "USER " + c.User, nil
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		msg := "LABEL"
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
			msg += " " + kv.Key + "=" + kv.Value
		}
		return msg, nil
	case *instructions.VolumeCommand:
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			if v == "" {
				return "", errors.New("VOLUME specified can not be an empty string")
			}
			cfg.Volumes[v] = struct{}{}
		}
		return fmt.Sprintf("VOLUME %v", c.Volumes), nil
	case *instructions.StopSignalCommand:
		if err := checkSignal(c.Signal); err != nil {
			return "", err
		}
		cfg.StopSignal = c.Signal
		return "STOPSIGNAL " + c.Signal, nil
	case *instructions.ShellCommand:
		s.Shell = slices.Clone(c.Shell)
		return fmt.Sprintf("SHELL %v", c.Shell), nil
	case *instructions.CmdCommand:
		cfg.Cmd = s.withShell(c.ShellDependantCmdLine)
		if len(c.CmdLine) > 0 {
			s.cmdSet = true
		}
		return fmt.Sprintf("CMD %q", cfg.Cmd), nil
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = s.withShell(c.ShellDependantCmdLine)
		// An ENTRYPOINT drops the CMD it inherited from the base image
		// (which was meant for another entrypoint), not one this stage set.
		if !s.cmdSet {
			cfg.Cmd = nil
		}
		return fmt.Sprintf("ENTRYPOINT %q", cfg.Entrypoint), nil
	case *instructions.MaintainerCommand:
		s.Author = c.Maintainer
		return "MAINTAINER " + c.Maintainer, nil
	}
	return "", fmt.Errorf("%T is not an instruction minidocker builds", cmd)
}
