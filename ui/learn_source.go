package ui

import (
	"context"

	"minidocker/internal/lesson"
)

// LessonSource runs the guided lessons: it lists them, makes a lesson's
// container (building its image when needed), says where the container
// keeps its files for the lesson's checks, and removes it.
type LessonSource interface {
	Lessons() ([]*lesson.Lesson, error)
	// StartLesson makes the lesson's container afresh and starts it, with
	// a shell; fresh also empties the lesson's volumes.
	StartLesson(ctx context.Context, l *lesson.Lesson, fresh bool) (id string, err error)
	LessonEnv(id string) (lesson.Env, error)
	EndLesson(id string) error
}
