package dockerfile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/util/suggest"

	"minidocker/internal/human"
)

// Kind is the instruction a step comes from.
type Kind int

// The instructions minidocker builds.
const (
	From Kind = iota
	Run
	Copy
	Add
	Env
	Arg
	Workdir
	User
	Label
	Expose
	Volume
	StopSignal
	Shell
	Entrypoint
	Cmd
	Maintainer
)

var kindNames = [...]string{
	From: "FROM", Run: "RUN", Copy: "COPY", Add: "ADD", Env: "ENV", Arg: "ARG",
	Workdir: "WORKDIR", User: "USER", Label: "LABEL", Expose: "EXPOSE", Volume: "VOLUME",
	StopSignal: "STOPSIGNAL", Shell: "SHELL", Entrypoint: "ENTRYPOINT", Cmd: "CMD",
	Maintainer: "MAINTAINER",
}

// String returns the instruction's name as written in a Dockerfile.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// ChangesFiles reports whether a step of this kind changes the root
// filesystem (RUN, COPY, ADD, and WORKDIR, which creates its directory);
// the others only change the image config and make an empty layer in the
// history.
func (k Kind) ChangesFiles() bool {
	return k == Run || k == Copy || k == Add || k == Workdir
}

// kinds maps the lower-case instruction names minidocker builds to their
// kind.
var kinds = func() map[string]Kind {
	m := make(map[string]Kind, len(kindNames))
	for k, name := range kindNames {
		m[strings.ToLower(name)] = Kind(k)
	}
	return m
}()

// unsupportedInstructions are the instructions docker knows and
// minidocker build refuses.
var unsupportedInstructions = map[string]bool{"healthcheck": true, "onbuild": true}

// kindOf returns the kind of a typed instruction from a supported name; it
// is only asked about instructions whose name is in kinds or refused
// before they are stepped.
func kindOf(cmd any) Kind {
	switch cmd.(type) {
	case *instructions.Stage:
		return From
	case *instructions.RunCommand:
		return Run
	case *instructions.CopyCommand:
		return Copy
	case *instructions.AddCommand:
		return Add
	case *instructions.EnvCommand:
		return Env
	case *instructions.ArgCommand:
		return Arg
	case *instructions.WorkdirCommand:
		return Workdir
	case *instructions.UserCommand:
		return User
	case *instructions.LabelCommand:
		return Label
	case *instructions.ExposeCommand:
		return Expose
	case *instructions.VolumeCommand:
		return Volume
	case *instructions.StopSignalCommand:
		return StopSignal
	case *instructions.ShellCommand:
		return Shell
	case *instructions.EntrypointCommand:
		return Entrypoint
	case *instructions.CmdCommand:
		return Cmd
	case *instructions.MaintainerCommand:
		return Maintainer
	}
	return -1
}

// unknownInstruction is docker's error for a name it does not know, with
// its suggestion taken from a sorted list so that it never varies.
func unknownInstruction(name string) error {
	names := make([]string, 0, len(kinds)+len(unsupportedInstructions))
	for n := range kinds {
		names = append(names, strings.ToUpper(n))
	}
	for n := range unsupportedInstructions {
		names = append(names, strings.ToUpper(n))
	}
	slices.Sort(names)
	return suggest.WrapError(fmt.Errorf("unknown instruction: %s", human.Visible(name)), name, names, false)
}

// instructionText is what docker prints after "Step N/M : ". A RUN
// heredoc adds the first line of its script, as BuildKit's progress does:
// "RUN <<EOF" alone says nothing.
func instructionText(node *parser.Node, cmd any) string {
	text := strings.TrimSpace(node.Original)
	if run, ok := cmd.(*instructions.RunCommand); ok && len(run.Files) > 0 {
		doc := strings.TrimSpace(run.Files[0].Data)
		first, _, more := strings.Cut(strings.ReplaceAll(doc, "\r\n", "\n"), "\n")
		if more {
			first += "..."
		}
		text += " (" + first + ")"
	}
	return text
}

// checkSupported refuses, with its line, every instruction and flag of the
// stage that minidocker cannot build, and records the ARG names the stage
// declares.
func (st *Stage) checkSupported(declared map[string]bool) error {
	for _, ins := range st.Steps[1:] {
		cmd, err := instructions.ParseInstruction(ins.node)
		if err != nil {
			return st.file.errAt(ins.Line, err)
		}
		if err := supported(cmd); err != nil {
			return st.file.errAt(ins.Line, err)
		}
		if a, ok := cmd.(*instructions.ArgCommand); ok {
			for _, kv := range a.Args {
				declared[kv.Key] = true
			}
		}
	}
	return nil
}

// supported returns an ErrUnsupported error for an instruction or a flag
// that minidocker build does not do, before anything is expanded.
func supported(cmd any) error {
	switch c := cmd.(type) {
	case *instructions.HealthCheckCommand:
		return unsupported("HEALTHCHECK")
	case *instructions.OnbuildCommand:
		return unsupported("ONBUILD")
	case *instructions.RunCommand:
		if len(c.FlagsUsed) > 0 {
			used := slices.Sorted(slices.Values(c.FlagsUsed))
			return unsupported("RUN --" + used[0])
		}
		if len(c.Files) > 0 && len(c.CmdLine) == 1 && strings.HasPrefix(parserChomp(c.Files[0]), "#!") && parser.MustParseHeredoc(c.CmdLine[0]) != nil {
			return unsupported("RUN of a heredoc with a #! line")
		}
	case *instructions.CopyCommand:
		return copyFlags("COPY", c.Link, c.Parents, c.ExcludePatterns, c.SourceContents)
	case *instructions.AddCommand:
		switch {
		case c.Checksum != "":
			return unsupported("ADD --checksum")
		case c.KeepGitDir != nil:
			return unsupported("ADD --keep-git-dir")
		case c.Unpack != nil:
			return unsupported("ADD --unpack")
		}
		return copyFlags("ADD", c.Link, false, c.ExcludePatterns, c.SourceContents)
	}
	return nil
}

func copyFlags(name string, link, parents bool, exclude []string, heredocs []instructions.SourceContent) error {
	switch {
	case link:
		return unsupported(name + " --link")
	case parents:
		return unsupported(name + " --parents")
	case len(exclude) > 0:
		return unsupported(name + " --exclude")
	case len(heredocs) > 0:
		return unsupported(name + " from a heredoc")
	}
	return nil
}

func parserChomp(f instructions.ShellInlineFile) string {
	if f.Chomp {
		return parser.ChompHeredocContent(f.Data)
	}
	return f.Data
}
