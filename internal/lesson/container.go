package lesson

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Roots are the ways a lesson's container may enter its root, as the
// lesson and container blocks write them: pivot_root(2), the engine's
// way; runc's --no-pivot (MS_MOVE, then chroot(2)); chroot(2) alone. ""
// stands for pivot_root.
var Roots = []string{"pivot_root", "no-pivot", "chroot"}

// parseRoot reads the value of a root: key; pivot_root is "".
func parseRoot(v string) (string, error) {
	if !slices.Contains(Roots, v) {
		return "", fmt.Errorf("root %q: want one of %s", v, strings.Join(Roots, ", "))
	}
	if v == "pivot_root" {
		return "", nil
	}
	return v, nil
}

// hostnameRE is a host name for a lesson's container: one DNS label (RFC
// 1123), well within the 64 bytes sethostname(2) takes.
var hostnameRE = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// ForStep returns the lesson as step i's container is made from it: l
// itself, or a copy whose Root is the step's when the step's container
// enters its root otherwise.
func (l *Lesson) ForStep(i int) *Lesson {
	if i < 0 || i >= len(l.Steps) || l.Steps[i].Root == l.Root {
		return l
	}
	c := *l
	c.Root = l.Steps[i].Root
	return &c
}

// placeholders are the names a step's text may hold in {{ }}, and what
// the lesson view writes there.
var placeholders = map[string]func(Env) string{
	// The PID the host knows the container's PID 1 by.
	"host-pid": func(env Env) string {
		if env.Pid <= 0 {
			return "?"
		}
		return strconv.Itoa(env.Pid)
	},
}

// placeholderRE finds a {{NAME}} in a text.
var placeholderRE = regexp.MustCompile(`\{\{([^{}]*)\}\}`)

// Fill writes what env says in place of the {{NAME}}s of a step's text
// or hint.
func Fill(text string, env Env) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		if f, ok := placeholders[m[2:len(m)-2]]; ok {
			return f(env)
		}
		return m
	})
}

// checkPlaceholders returns an error for a {{NAME}} of line that no
// placeholder has, and for any outside a step (inStep false): the list of
// lessons shows the introduction before there is a container.
func checkPlaceholders(line string, inStep bool) error {
	for _, m := range placeholderRE.FindAllStringSubmatch(line, -1) {
		if !inStep {
			return fmt.Errorf("{{%s}} before the first step: the lesson view fills it in a step's text and hint only", m[1])
		}
		if _, ok := placeholders[m[1]]; !ok {
			return fmt.Errorf("unknown placeholder {{%s}} (want {{host-pid}})", m[1])
		}
	}
	return nil
}

// containerKey takes a key of the lesson block about the container.
func (p *parser) containerKey(k, v string, n int) error {
	if k == "hostname" {
		if !hostnameRE.MatchString(v) {
			return p.errf(n, "hostname %q: want letters, digits and dashes, up to 63", v)
		}
		p.l.Hostname = v
		return nil
	}
	r, err := parseRoot(v)
	if err != nil {
		return p.errf(n, "%v", err)
	}
	p.l.Root = r
	return nil
}

// stepContainer reads a step's container block: root: as the lesson
// block has it, for this step's container alone.
func (p *parser) stepContainer(f *fence) error {
	if p.step == nil {
		return p.errf(f.line, "a container block before the first step (## TITLE): the lesson block says it for the lesson")
	}
	seen := false
	err := p.pairs(f, func(n int, k, v string) error {
		switch {
		case k != "root":
			return p.errf(n, "unknown key %q in a container block (want root)", k)
		case seen:
			return p.errf(n, "a second root in step %q", p.step.Title)
		}
		r, err := parseRoot(v)
		if err != nil {
			return p.errf(n, "%v", err)
		}
		p.step.Root, seen = r, true
		return nil
	})
	if err != nil {
		return err
	}
	if !seen {
		return p.errf(f.line, "an empty container block (want root: %s)", strings.Join(Roots, "|"))
	}
	return nil
}

// placeholdersIn checks the {{NAME}}s of a fenced block's lines.
func (p *parser) placeholdersIn(f *fence) error {
	for i, l := range f.lines {
		if err := checkPlaceholders(l, p.step != nil); err != nil {
			return p.errf(f.line+1+i, "%v", err)
		}
	}
	return nil
}
