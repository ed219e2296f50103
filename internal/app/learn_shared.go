package app

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"minidocker/engine"
	"minidocker/internal/lesson"
)

// LessonSibling is the name of lesson l's container i (2 … Containers):
// the containers the lesson starts beside the student's, of its image, so
// that the disk meter has several containers sharing the image's layers.
func LessonSibling(l *lesson.Lesson, i int) string {
	return fmt.Sprintf("%s-%d", LessonContainer(l), i)
}

// startSiblings makes and starts lesson l's other containers from r, each
// with a shell as the student's has (nobody attaches to it: it waits on
// its terminal, and the container keeps running).
func (a *App) startSiblings(e *engine.Engine, r Resolved, l *lesson.Lesson) error {
	for i := 2; i <= l.Containers; i++ {
		if err := a.startShell(e, r, Options{Name: LessonSibling(l, i), Interactive: true, Tty: true, Volumes: l.Volumes}); err != nil {
			return fmt.Errorf("lesson %s: container %d: %w", l.Name, i, err)
		}
	}
	return nil
}

// startShell makes a container of r with o and a shell, and starts it; a
// container that does not start is removed.
func (a *App) startShell(e *engine.Engine, r Resolved, o Options) error {
	spec, err := r.Spec(o, []string{"/bin/sh"})
	if err != nil {
		return err
	}
	st, err := a.Create(e, r, spec, nil)
	if err != nil {
		return err
	}
	sess, err := e.Start(st.ID, false)
	if sess != nil {
		err = errors.Join(err, sess.Close())
	}
	if err != nil {
		return errors.Join(err, a.discard(e, st.ID))
	}
	return nil
}

// endSiblings removes the containers started beside the lesson container
// named name (name-2, name-3 …), with their anonymous volumes. The lesson
// set refuses a lesson named as another's sibling (lesson.Load), so these
// names are the lesson's alone.
func (a *App) endSiblings(e *engine.Engine, name string) error {
	if !strings.HasPrefix(name, "learn-") {
		return nil
	}
	sibling := regexp.MustCompile("^" + regexp.QuoteMeta(name) + "-[0-9]+$")
	all, err := e.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, st := range all {
		if !sibling.MatchString(st.Name()) {
			continue
		}
		if _, err := a.RemoveWithVolumes(e, st.ID, true); err != nil && !errors.Is(err, engine.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// lessonMeter reads the disk meter of a lesson container's image for the
// lesson's meter checks: the Meter the TUI's meter line draws, and the
// same reading of it.
type lessonMeter struct {
	m  *Metering
	id string
}

func (l lessonMeter) ReadMeter() (lesson.MeterReading, error) {
	mt, err := l.m.Container(l.id)
	if err != nil {
		return lesson.MeterReading{}, err
	}
	r := reading(mt, l.id)
	return lesson.MeterReading{Containers: r.Containers, Layers: r.Layers, Self: r.SelfUpper,
		Others: r.Uppers - r.SelfUpper, Savings: r.Savings}, nil
}
