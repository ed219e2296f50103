package dockerfile

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"minidocker/internal/human"
)

// Step is one instruction expanded against the build state: what to run or
// copy, and how to name it in the cache and the history.
type Step struct {
	Kind Kind
	// Line is the 1-based line of the instruction in the Dockerfile.
	Line int
	// Text is the instruction as written, as docker's classic builder
	// prints it after "Step N/M : " (it prints it unexpanded).
	Text string

	// Args is a RUN's argv: the SHELL in force (default /bin/sh -c) and the
	// command for the shell form, the exec form as written. A heredoc's
	// script is the shell's command.
	Args []string
	// Env is a RUN's environment: the config's Env, then the ARGs in scope
	// that no ENV hides, sorted. Build args reach RUN but never the image.
	Env []string

	// Sources are COPY and ADD sources after expansion, as written (paths
	// in the context, or in the From stage or image; globs allowed).
	Sources []string
	// Dest is the absolute destination, resolved against WORKDIR; a
	// trailing slash (or a "." that names the working directory) is kept
	// as "/" to say "into this directory".
	Dest string
	// From is COPY --from after global ARGs: a stage name, a stage index or
	// an image; FromStage is the Index of the stage, or -1 for an image or
	// no --from. Files from a stage or an image keep their owners unless
	// Chown is set.
	From      string
	FromStage int
	// Chown and Chmod are --chown and --chmod after expansion.
	Chown string
	Chmod string

	// CacheText is what keys the step's cache besides its parent image and,
	// for COPY and ADD, the content of the sources: the expanded
	// instruction and the build args it sees ("|1 A=b /bin/sh -c make" for
	// a RUN, as docker keys it).
	CacheText string
	// CreatedBy is the history entry as docker's classic builder writes it
	// ("/bin/sh -c #(nop)  ENV A=b", "|1 A=b /bin/sh -c make"); empty for
	// FROM, and for COPY and ADD, whose entry names the content hash: see
	// CopyHistory.
	CreatedBy string

	// destAsWritten is COPY's destination before WORKDIR, which is what
	// docker's history shows; nop is the history prefix.
	destAsWritten string
	nopPrefix     string
}

// CopyHistory returns the history entry of a COPY or ADD step whose
// sources hash to contentHash (docker writes "file:<sha256>" for one file,
// "dir:<sha256>" for a directory, "multi:<sha256>" for several):
// "/bin/sh -c #(nop) COPY file:ab12… in /app/ ".
func (s Step) CopyHistory(contentHash string) string {
	var flags string
	if s.Chown != "" {
		flags += "--chown=" + s.Chown + " "
	}
	if s.Chmod != "" {
		flags += "--chmod=" + s.Chmod + " "
	}
	return fmt.Sprintf("%s#(nop) %s %s%s in %s ", s.nopPrefix, s.Kind, flags, contentHash, s.destAsWritten)
}

// run resolves a RUN. Docker keys and records it with the build args it
// sees in front ("|N K=V ..."), because they change its result but are
// not in the image; an undeclared proxy arg is left out.
func (s *State) run(c *instructions.RunCommand, step *Step) error {
	line := c.ShellDependantCmdLine
	if len(c.Files) > 0 {
		line.CmdLine = []string{heredocScript(c)}
	}
	if len(line.CmdLine) == 0 {
		return errors.New("RUN requires at least one argument")
	}
	step.Args = s.withShell(line)
	args := s.args.values(envKeys(s.Config.Env))
	step.Env = append(slices.Clone(s.Config.Env), args...)
	history := step.Args
	if len(args) > 0 {
		var kept []string
		for _, kv := range args {
			k, _, _ := strings.Cut(kv, "=")
			if s.args.recorded(k) {
				kept = append(kept, kv)
			}
		}
		history = append(append([]string{"|" + strconv.Itoa(len(kept))}, kept...), step.Args...)
	}
	step.CreatedBy = strings.Join(history, " ")
	return nil
}

// heredocScript is the shell command of a RUN with heredocs, as BuildKit
// makes it: "RUN <<EOF" alone runs the document as the script; a command
// around heredocs ("RUN cat <<EOF >f") gets them back inline for the shell
// to read.
func heredocScript(c *instructions.RunCommand) string {
	if parser.MustParseHeredoc(c.CmdLine[0]) != nil {
		return parserChomp(c.Files[0])
	}
	var b strings.Builder
	b.WriteString(c.CmdLine[0])
	for _, f := range c.Files {
		b.WriteString("\n" + f.Data + f.Name)
	}
	return b.String()
}

type copyArgs struct {
	name         string // COPY or ADD
	sd           instructions.SourcesAndDest
	chown, chmod string
	from         string
	fromStage    int
}

// copy resolves a COPY or ADD whose words are expanded.
func (s *State) copy(step *Step, a copyArgs) error {
	for _, src := range a.sd.SourcePaths {
		if isRemote(src) {
			if a.name == "COPY" {
				return errors.New("source can't be a URL for COPY")
			}
			return unsupported("ADD of a URL or git repository")
		}
	}
	if len(a.sd.SourcePaths) > 1 && !strings.HasSuffix(a.sd.DestPath, "/") {
		return fmt.Errorf("When using %s with more than one source file, the destination must be a directory and end with a /", a.name)
	}
	if a.chmod != "" {
		if m, err := strconv.ParseUint(a.chmod, 8, 32); err != nil || m > 0o7777 {
			return fmt.Errorf("invalid chmod parameter: '%s'. it should be octal string and between 0 and 07777", human.Visible(a.chmod))
		}
	}
	step.Sources = slices.Clone(a.sd.SourcePaths)
	step.Dest = resolveDest(s.Config.WorkingDir, a.sd.DestPath)
	step.From, step.FromStage = a.from, a.fromStage
	step.Chown, step.Chmod = a.chown, a.chmod
	step.destAsWritten = a.sd.DestPath
	step.nopPrefix = strings.Join(s.shell(), " ") + " "

	words := []string{a.name}
	for _, f := range [][2]string{{"from", a.from}, {"chown", a.chown}, {"chmod", a.chmod}} {
		if f[1] != "" {
			words = append(words, "--"+f[0]+"="+f[1])
		}
	}
	words = append(append(words, step.Sources...), step.Dest)
	step.CacheText = strings.Join(words, " ")
	return nil
}

// isRemote reports whether an ADD source is a URL or a git repository
// rather than a path in the context.
func isRemote(src string) bool {
	for _, p := range []string{"http://", "https://", "git://", "git@", "ssh://", "github.com/"} {
		if strings.HasPrefix(src, p) {
			return true
		}
	}
	return false
}

// resolveDest makes a COPY destination absolute against the working
// directory. A trailing "/" says the destination is a directory; "." and
// ".." (as BuildKit reads them) say so too.
func resolveDest(workdir, dest string) string {
	dir := dest == "" || strings.HasSuffix(dest, "/") || path.Base(dest) == "." || path.Base(dest) == ".."
	if !path.IsAbs(dest) {
		dest = path.Join("/", workdir, dest)
	}
	dest = path.Clean(dest)
	if dir && dest != "/" {
		dest += "/"
	}
	return dest
}

// setEnv sets key in a KEY=VALUE list, in place if present (ENV replaces,
// keeping the variable's position, as docker does).
func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}
