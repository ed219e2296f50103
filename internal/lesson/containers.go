package lesson

import (
	"fmt"
	"regexp"
	"strconv"
)

// MaxContainers is the most containers a lesson may run: the disk meter's
// point is made with three, and each costs a start.
const MaxContainers = 8

// containers reads the lesson block's "containers: N" at line n.
func (p *parser) containers(v string, n int) error {
	c, err := strconv.Atoi(v)
	if err != nil || c < 1 || c > MaxContainers {
		return p.errf(n, "containers %q: want a number from 1 to %d", v, MaxContainers)
	}
	p.l.Containers = c
	return nil
}

// siblingSuffix is what the name of a lesson's extra container adds to
// the name of the student's: learn-shared-2, learn-shared-3.
var siblingSuffix = regexp.MustCompile(`^(.+)-[0-9]+$`)

// siblingNames refuses a lesson whose name is another lesson's name and
// a number ("shared-2" beside "shared"): its container would be named as
// the other lesson's second one, and removed with it.
func siblingNames(ls []*Lesson) error {
	for _, l := range ls {
		m := siblingSuffix.FindStringSubmatch(l.Name)
		if m == nil {
			continue
		}
		if o, ok := Find(ls, m[1]); ok {
			return &SyntaxError{l.File, 1, fmt.Sprintf("lesson name %q: the containers of lesson %q are named so (rename the file)", l.Name, o.Name)}
		}
	}
	return nil
}
