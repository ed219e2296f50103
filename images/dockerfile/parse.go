// Package dockerfile turns a Dockerfile into the steps of a build. It reads
// the file with docker's own parser (github.com/moby/buildkit's
// frontend/dockerfile parser and instructions: line continuations, the
// escape directive, heredocs and comments as docker reads them) and expands
// variables with docker's shell lexer, then applies each instruction to an
// image config the way docker's classic builder does.
//
// Parse does what can be done before anything runs: the stages, FROM and
// COPY --from resolved against global ARGs, the stages a target needs, and
// every instruction minidocker cannot build refused with its file and line.
// A State then expands one instruction at a time, because ENV and ARG from
// the base image and from earlier steps feed later expansion; running RUN
// and copying files are the caller's.
package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"minidocker/internal/human"
)

// Options are the inputs of a build that are not in the Dockerfile.
type Options struct {
	// Filename names the file in error messages ("Dockerfile:12: ...");
	// empty means "Dockerfile".
	Filename string
	// BuildArgs are the --build-arg values. A key given without a value
	// takes it from the environment, which is the command line's job.
	BuildArgs map[string]string
	// Target is the --target stage: the build stops after it. Empty means
	// the last stage.
	Target string
}

// Plan is a parsed Dockerfile reduced to what one build runs.
type Plan struct {
	// GlobalArgs are the ARG instructions before the first FROM. They are
	// already applied (FROM and COPY --from use them); docker prints them as
	// steps, so they count in StepCount.
	GlobalArgs []Instruction
	// Stages are the stages the target needs, in file order; the last one
	// is the target.
	Stages []*Stage
	// UnusedArgs are the build args that no ARG declares, sorted; docker
	// warns about them.
	UnusedArgs []string
}

// StepCount is the M of docker's "Step N/M": the global ARGs plus every
// instruction, FROM included, of the planned stages.
func (p *Plan) StepCount() int {
	n := len(p.GlobalArgs)
	for _, st := range p.Stages {
		n += len(st.Steps)
	}
	return n
}

// Stage returns the planned stage whose Index is i, or nil.
func (p *Plan) Stage(i int) *Stage {
	for _, st := range p.Stages {
		if st.Index == i {
			return st
		}
	}
	return nil
}

// Stage is one FROM and the instructions after it.
type Stage struct {
	// Name is the AS name, lower-cased as docker does; empty if none.
	Name string
	// Index is the stage's position among all the file's stages (what
	// COPY --from=N counts), whether or not the plan keeps the others.
	Index int
	// Base is the FROM argument after global ARGs are expanded: an image
	// reference, "scratch", or the name of an earlier stage.
	Base string
	// BaseStage is the Index of the earlier stage FROM names, or -1.
	BaseStage int
	// Steps are the stage's instructions; Steps[0] is the FROM.
	Steps []Instruction

	file *fileContext
}

// Instruction is one parsed instruction of a stage, not yet expanded.
type Instruction struct {
	Kind Kind
	// Line is the 1-based line where the instruction starts.
	Line int
	// Text is the instruction as written (continuations joined), as
	// docker's classic builder prints it after "Step N/M : ".
	Text string

	node *parser.Node
	// from and fromStage are COPY --from after global ARGs: the value and
	// the Index of the stage it names, or -1 for an image.
	from      string
	fromStage int
}

// fileContext is what every stage of one file shares.
type fileContext struct {
	name    string
	escape  rune
	global  *argScope
	options map[string]string
}

// Error is an error at a line of a Dockerfile.
type Error struct {
	File string
	Line int
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// ErrUnsupported marks what docker builds and minidocker build does not
// (HEALTHCHECK, ONBUILD, RUN --mount, ADD of a URL, ...).
var ErrUnsupported = errors.New("not supported by minidocker build")

func unsupported(what string) error {
	return fmt.Errorf("%s is %w", what, ErrUnsupported)
}

// Parse reads a Dockerfile and plans the build of opts.Target.
func Parse(r io.Reader, opts Options) (*Plan, error) {
	fc := &fileContext{name: opts.Filename, options: opts.BuildArgs}
	if fc.name == "" {
		fc.name = "Dockerfile"
	}
	text, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", human.Visible(fc.name), err)
	}
	if len(text) == 0 {
		return nil, fmt.Errorf("the Dockerfile (%s) cannot be empty", human.Visible(fc.name))
	}
	res, err := parser.Parse(bytes.NewReader(text))
	if err != nil {
		return nil, &Error{File: fc.name, Line: errorLine(err, text), Err: err}
	}
	fc.escape = res.EscapeToken
	fc.global = newArgScope(nil, opts.BuildArgs)
	plan, stages, err := fc.readStages(res.AST)
	if err != nil {
		return nil, err
	}
	if err := plan.selectStages(stages, opts.Target); err != nil {
		return nil, err
	}
	declared := map[string]bool{}
	for k := range fc.global.declared {
		declared[k] = true
	}
	for _, st := range plan.Stages {
		if err := st.checkSupported(declared); err != nil {
			return nil, err
		}
	}
	plan.UnusedArgs = unusedArgs(opts.BuildArgs, declared)
	return plan, nil
}

// selectStages keeps the target (the last stage by default) and the
// stages it needs.
func (p *Plan) selectStages(stages []*Stage, target string) error {
	if len(stages) == 0 {
		return errors.New("No image was generated. Is your Dockerfile empty?")
	}
	t := len(stages) - 1
	if target != "" {
		if t = findStage(stages, target, len(stages)); t < 0 {
			return fmt.Errorf("target stage \"%s\" could not be found", human.Visible(target))
		}
	}
	p.Stages = needed(stages, t)
	return nil
}

// errorLine is the line a parser error names. The parser counts from 1,
// except for an error in a parser directive ("# escape=x"), which it puts
// on the line before (0 for the first line): a line that is a comment
// after a comment or at the top is that case, since other errors name an
// instruction or the end of the file.
func errorLine(err error, text []byte) int {
	var le *parser.LocationError
	if !errors.As(err, &le) || len(le.Locations) == 0 || len(le.Locations[0]) == 0 {
		return 1
	}
	l := le.Locations[0][0].Start.Line
	lines := strings.Split(string(text), "\n")
	isComment := func(n int) bool {
		return n >= 1 && n <= len(lines) && strings.HasPrefix(strings.TrimSpace(lines[n-1]), "#")
	}
	if (l == 0 || isComment(l)) && isComment(l+1) {
		return l + 1
	}
	return max(l, 1)
}

// readStages parses every instruction, applies the global ARGs and
// resolves each FROM and COPY --from.
func (fc *fileContext) readStages(ast *parser.Node) (*Plan, []*Stage, error) {
	plan := &Plan{}
	var stages []*Stage
	for _, node := range ast.Children {
		cmd, err := parseNode(node)
		if err == nil {
			stages, err = fc.add(plan, stages, node, cmd)
		}
		if err != nil {
			return nil, nil, fc.errAt(node.StartLine, err)
		}
	}
	return plan, stages, nil
}

// add puts one parsed instruction in its place: a new stage for FROM, the
// global ARGs before the first FROM, else the current stage.
func (fc *fileContext) add(plan *Plan, stages []*Stage, node *parser.Node, cmd any) ([]*Stage, error) {
	ins := Instruction{Kind: kindOf(cmd), Line: node.StartLine, Text: instructionText(node, cmd), node: node, fromStage: -1}
	if from, ok := cmd.(*instructions.Stage); ok {
		st, err := fc.newStage(from, stages)
		if err != nil {
			return nil, err
		}
		st.Steps = []Instruction{ins}
		return append(stages, st), nil
	}
	if len(stages) == 0 {
		arg, ok := cmd.(*instructions.ArgCommand)
		if !ok {
			return nil, errors.New("no build stage in current context")
		}
		plan.GlobalArgs = append(plan.GlobalArgs, ins)
		return stages, fc.globalArg(arg)
	}
	if cp, ok := cmd.(*instructions.CopyCommand); ok && cp.From != "" {
		var err error
		if ins.from, ins.fromStage, err = fc.resolveFrom(cp.From, stages); err != nil {
			return nil, err
		}
	}
	cur := stages[len(stages)-1]
	cur.Steps = append(cur.Steps, ins)
	return stages, nil
}

func (fc *fileContext) errAt(line int, err error) error {
	return &Error{File: fc.name, Line: line, Err: err}
}

// parseNode turns a parser node into a typed instruction. An unknown
// instruction is caught here rather than by instructions, whose suggestion
// depends on map order when two names are as close.
func parseNode(node *parser.Node) (any, error) {
	if _, ok := kinds[strings.ToLower(node.Value)]; !ok {
		if _, known := unsupportedInstructions[strings.ToLower(node.Value)]; !known {
			return nil, unknownInstruction(node.Value)
		}
	}
	return instructions.ParseInstruction(node)
}

// globalArg applies an ARG before the first FROM: its default may use the
// global ARGs before it.
func (fc *fileContext) globalArg(c *instructions.ArgCommand) error {
	env := shell.EnvsFromSlice(fc.global.values(nil))
	lex := shell.NewLex(fc.escape)
	err := c.Expand(func(word string) (string, error) {
		s, _, err := lex.ProcessWord(word, env)
		return s, err
	})
	if err != nil {
		return err
	}
	for _, a := range c.Args {
		fc.global.declare(a.Key, a.Value)
	}
	return nil
}

// expandGlobal expands word with the global ARGs, as FROM and COPY --from
// are.
func (fc *fileContext) expandGlobal(word string) (string, error) {
	s, _, err := shell.NewLex(fc.escape).ProcessWord(word, shell.EnvsFromSlice(fc.global.values(nil)))
	return s, err
}

func (fc *fileContext) newStage(c *instructions.Stage, earlier []*Stage) (*Stage, error) {
	if c.Name != "" && findStage(earlier, c.Name, len(earlier)) >= 0 {
		return nil, fmt.Errorf("%s stage name already used", c.Name)
	}
	if c.Platform != "" {
		p, err := fc.expandGlobal(c.Platform)
		if err != nil {
			return nil, err
		}
		if err := checkPlatform(p); err != nil {
			return nil, err
		}
	}
	base, err := fc.expandGlobal(c.BaseName)
	if err != nil {
		return nil, err
	}
	if base == "" {
		return nil, fmt.Errorf("base name (%s) should not be blank", human.Visible(c.BaseName))
	}
	st := &Stage{Name: c.Name, Index: len(earlier), Base: base, BaseStage: -1, file: fc}
	if i := findStage(earlier, base, len(earlier)); i >= 0 {
		st.BaseStage = i
	} else if c.Name != "" && strings.EqualFold(base, c.Name) {
		return nil, fmt.Errorf("stage %q cannot be its own base", c.Name)
	}
	return st, nil
}

// resolveFrom resolves COPY --from: an earlier stage by name or by index,
// else an image. The current stage is the last of stages.
func (fc *fileContext) resolveFrom(raw string, stages []*Stage) (string, int, error) {
	from, err := fc.expandGlobal(raw)
	if err != nil {
		return "", -1, err
	}
	cur := len(stages) - 1
	if i := findStage(stages, from, cur); i >= 0 {
		return from, i, nil
	}
	if strings.EqualFold(from, stages[cur].Name) {
		return "", -1, fmt.Errorf("invalid from flag value %s: refers to current build stage", human.Visible(from))
	}
	if n, err := strconv.Atoi(from); err == nil {
		switch {
		case n == cur:
			return "", -1, fmt.Errorf("invalid from flag value %s: refers to current build stage", human.Visible(from))
		case n < 0 || n > cur:
			return "", -1, fmt.Errorf("invalid from flag value %s: index out of bounds", human.Visible(from))
		}
		return from, n, nil
	}
	if from == "" {
		return "", -1, fmt.Errorf("invalid from flag value %s: empty after expansion", human.Visible(raw))
	}
	return from, -1, nil
}

// findStage returns the index of the stage named name (case-insensitive)
// among the first n stages, or -1.
func findStage(stages []*Stage, name string, n int) int {
	for i := range n {
		if stages[i].Name != "" && strings.EqualFold(stages[i].Name, name) {
			return i
		}
	}
	return -1
}

// needed returns the target and the stages it depends on through FROM and
// COPY --from, in file order.
func needed(stages []*Stage, target int) []*Stage {
	keep := make([]bool, len(stages))
	var visit func(i int)
	visit = func(i int) {
		if i < 0 || keep[i] {
			return
		}
		keep[i] = true
		visit(stages[i].BaseStage)
		for _, ins := range stages[i].Steps {
			visit(ins.fromStage)
		}
	}
	visit(target)
	var out []*Stage
	for i, st := range stages {
		if keep[i] {
			out = append(out, st)
		}
	}
	return out
}
