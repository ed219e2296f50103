package lesson

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"minidocker/internal/human"
)

// ErrSyntax marks an error in a lesson file.
var ErrSyntax = errors.New("lesson syntax")

// SyntaxError is an error in a lesson file at a line.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Is makes a SyntaxError match ErrSyntax.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// fileName is the name of a lesson file: an order, a dash, the lesson's
// name.
var fileName = regexp.MustCompile(`^[0-9]+-([a-z0-9][a-z0-9-]*)\.md$`)

// Load reads the lesson set in fsys: every NN-NAME.md at its top, in the
// order of their names, and the NAME.Dockerfile their images are built
// from. Other files are left alone.
func Load(fsys fs.FS) ([]*Lesson, error) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read lessons: %w", err)
	}
	var out []*Lesson
	for _, e := range ents {
		if e.IsDir() || !fileName.MatchString(e.Name()) {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read lesson: %w", err)
		}
		l, err := Parse(e.Name(), b)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(o *Lesson) bool { return o.Name == l.Name }) {
			return nil, &SyntaxError{e.Name(), 1, fmt.Sprintf("a second lesson named %q", l.Name)}
		}
		if df, err := fs.ReadFile(fsys, l.Image+".Dockerfile"); err == nil {
			l.Dockerfile = string(df)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read %s.Dockerfile: %w", human.Visible(l.Image), err)
		}
		out = append(out, l)
	}
	if err := siblingNames(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Find returns the lesson named name.
func Find(ls []*Lesson, name string) (*Lesson, bool) {
	i := slices.IndexFunc(ls, func(l *Lesson) bool { return l.Name == name })
	if i < 0 {
		return nil, false
	}
	return ls[i], true
}

// parser is one lesson file being read.
type parser struct {
	file    string
	l       *Lesson
	step    *Step // the step being read; nil before the first
	text    []string
	hasMeta bool // a lesson block was read
	// hintAfter is the lesson's default.
	hintAfter time.Duration
}

// fence is a fenced block: its info string, lines and opening line.
type fence struct {
	info  string
	lines []string
	line  int
}

// Parse reads one lesson file; name is its file name.
func Parse(name string, src []byte) (*Lesson, error) {
	p := &parser{file: name, l: &Lesson{File: name, Containers: 1}, hintAfter: DefaultHintAfter}
	if m := fileName.FindStringSubmatch(path.Base(name)); m != nil {
		p.l.Name = m[1]
	} else {
		p.l.Name = strings.TrimSuffix(path.Base(name), ".md")
	}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var open *fence
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if err := p.line(line, n, &open); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &SyntaxError{name, n + 1, err.Error()}
	}
	if open != nil {
		return nil, p.errf(open.line, "the %q block is not closed", open.info)
	}
	return p.finish(n)
}

// line takes one line: a fence's edge or content, a heading, or text.
func (p *parser) line(line string, n int, open **fence) error {
	if f := *open; f != nil {
		if strings.HasPrefix(line, "```") {
			if strings.TrimSpace(line) != "```" {
				return p.errf(n, "a block ends with ``` alone")
			}
			*open = nil
			return p.block(f)
		}
		f.lines = append(f.lines, line)
		return nil
	}
	switch {
	case strings.HasPrefix(line, "```"):
		*open = &fence{info: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: n}
	case strings.HasPrefix(line, "# "):
		if p.l.Title != "" {
			return p.errf(n, "a second title: steps start with ## ")
		}
		if len(strings.TrimSpace(strings.Join(p.text, ""))) > 0 {
			return p.errf(n, "the title must come first")
		}
		p.l.Title = strings.TrimSpace(line[2:])
		p.text = nil
	case strings.HasPrefix(line, "## "):
		if p.l.Title == "" {
			return p.errf(n, "a step before the title: the file starts with # TITLE")
		}
		if err := p.endStep(); err != nil {
			return err
		}
		p.step = &Step{Title: strings.TrimSpace(line[3:]), Line: n, HintAfter: p.hintAfter, Root: p.l.Root}
	default:
		if p.l.Title == "" && strings.TrimSpace(line) != "" {
			return p.errf(n, "text before the title: the file starts with # TITLE")
		}
		if err := checkPlaceholders(line, p.step != nil); err != nil {
			return p.errf(n, "%v", err)
		}
		p.text = append(p.text, line)
	}
	return nil
}

// block takes a closed fenced block.
func (p *parser) block(f *fence) error {
	word, arg, _ := strings.Cut(f.info, " ")
	arg = strings.TrimSpace(arg)
	if word != "hint" && arg != "" {
		return p.errf(f.line, "the %s block takes nothing after its name", word)
	}
	switch word {
	case "", "sh", "console", "text":
		// Code in the text, shown as written.
		if err := p.placeholdersIn(f); err != nil {
			return err
		}
		p.text = append(p.text, "```"+f.info)
		p.text = append(p.text, f.lines...)
		p.text = append(p.text, "```")
		return nil
	case "lesson":
		return p.meta(f)
	case "container":
		return p.stepContainer(f)
	}
	s := p.step
	if s == nil {
		return p.errf(f.line, "a %s block before the first step (## TITLE)", word)
	}
	switch word {
	case "check":
		for i, l := range f.lines {
			if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			c, err := parseCheck(l)
			if err != nil {
				return p.errf(f.line+1+i, "check %q: %v", strings.TrimSpace(l), err)
			}
			c.Line = f.line + 1 + i
			s.Checks = append(s.Checks, c)
		}
	case "hint":
		if s.Hint != "" {
			return p.errf(f.line, "a second hint in step %q", s.Title)
		}
		if arg != "" {
			d, err := time.ParseDuration(arg)
			if err != nil || d < 0 {
				return p.errf(f.line, "hint after %q: want a duration such as 30s", arg)
			}
			s.HintAfter = d
		}
		if err := p.placeholdersIn(f); err != nil {
			return err
		}
		s.Hint = strings.TrimSpace(strings.Join(f.lines, "\n"))
	case "solution":
		s.Solution = append(s.Solution, commands(f.lines)...)
	case "wrong":
		s.Wrong = append(s.Wrong, commands(f.lines)...)
	default:
		return p.errf(f.line, "unknown block %q (want check, hint, solution, wrong, lesson, container, or sh for code)", word)
	}
	return nil
}

// meta reads the lesson block: key: value lines.
func (p *parser) meta(f *fence) error {
	if p.step != nil {
		return p.errf(f.line, "the lesson block comes before the first step")
	}
	if p.hasMeta {
		return p.errf(f.line, "a second lesson block")
	}
	p.hasMeta = true
	return p.pairs(f, func(n int, k, v string) error {
		switch k {
		case "image":
			p.l.Image = v
		case "volume":
			p.l.Volumes = append(p.l.Volumes, v)
		case "hint-after":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return p.errf(n, "hint-after %q: want a duration such as 60s", v)
			}
			p.hintAfter = d
		case "containers":
			if err := p.containers(v, n); err != nil {
				return err
			}
		case "hostname", "root":
			if err := p.containerKey(k, v, n); err != nil {
				return err
			}
		default:
			return p.errf(n, "unknown key %q (want image, volume, containers, hint-after, hostname or root)", k)
		}
		return nil
	})
}

// pairs hands each KEY: VALUE line of a block to fn, with its line
// number; blank lines are skipped, and any other line is an error.
func (p *parser) pairs(f *fence, fn func(n int, k, v string) error) error {
	for i, l := range f.lines {
		n := f.line + 1 + i
		if strings.TrimSpace(l) == "" {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			return p.errf(n, "want KEY: VALUE, got %q", l)
		}
		if err := fn(n, k, v); err != nil {
			return err
		}
	}
	return nil
}

// endStep closes the step being read: its text is what came since its
// heading.
func (p *parser) endStep() error {
	text := strings.TrimSpace(strings.Join(p.text, "\n"))
	p.text = nil
	if p.step == nil {
		p.l.Intro = text
		return nil
	}
	if len(p.step.Checks) == 0 {
		return p.errf(p.step.Line, "step %q has no check block", p.step.Title)
	}
	p.step.Text = text
	p.l.Steps = append(p.l.Steps, *p.step)
	return nil
}

// finish closes the last step and checks what the whole file needs.
func (p *parser) finish(lines int) (*Lesson, error) {
	if p.l.Title == "" {
		return nil, p.errf(1, "no title: the file starts with # TITLE")
	}
	if err := p.endStep(); err != nil {
		return nil, err
	}
	if !p.hasMeta || p.l.Image == "" {
		return nil, p.errf(lines, "no lesson block naming the image (```lesson, then image: NAME)")
	}
	if len(p.l.Steps) == 0 {
		return nil, p.errf(lines, "no steps: each starts with ## TITLE")
	}
	return p.l, nil
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &SyntaxError{File: p.file, Line: line, Msg: human.Line(fmt.Sprintf(format, args...))}
}

// commands are the non-empty lines of a block.
func commands(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
