package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"minidocker/demo"
	"minidocker/engine"
	"minidocker/internal/human"
	"minidocker/internal/lesson"
)

// Lessons returns the guided lessons the binary carries (demo/lessons).
func (a *App) Lessons() ([]*lesson.Lesson, error) {
	fsys, err := demo.Lessons()
	if err != nil {
		return nil, err
	}
	return lesson.Load(fsys)
}

// LessonContainer is the name of the container lesson l runs on.
func LessonContainer(l *lesson.Lesson) string { return "learn-" + l.Name }

// StartLesson makes the container of lesson l and starts it, with a shell
// as its process, the lesson's host name and its way into the root (a
// step's own: Lesson.ForStep), and the containers beside it the lesson
// asks for: it builds the lesson's image first when the lesson set holds
// its Dockerfile (the build cache makes that quick after the first time),
// and removes the containers a run before left. With fresh, the
// lesson's named volumes are made empty again (at the start of a lesson,
// not when the student asks for a new container). It returns the
// container's ID.
func (a *App) StartLesson(ctx context.Context, l *lesson.Lesson, fresh bool) (string, error) {
	e, err := a.Engine()
	if err != nil {
		return "", err
	}
	if err := a.lessonImage(ctx, l); err != nil {
		return "", err
	}
	name := LessonContainer(l)
	if err := a.EndLesson(name); err != nil {
		return "", err
	}
	if fresh {
		for _, v := range l.Volumes {
			if src, _, ok := strings.Cut(v, ":"); ok && !strings.HasPrefix(src, "/") {
				if err := e.RemoveVolume(src, true); err != nil {
					return "", fmt.Errorf("lesson %s: %w", l.Name, err)
				}
			}
		}
	}
	r, err := a.Resolve(l.Image)
	if err != nil {
		return "", fmt.Errorf("lesson %s: %w", l.Name, err)
	}
	spec, err := r.Spec(Options{Name: name, Interactive: true, Tty: true, Volumes: l.Volumes, Hostname: l.Hostname}, []string{"/bin/sh"})
	if err == nil {
		spec.Root, err = engine.ParseRootEntry(l.Root)
	}
	if err != nil {
		return "", fmt.Errorf("lesson %s: %w", l.Name, err)
	}
	st, err := a.Create(e, r, spec, nil)
	if err != nil {
		return "", fmt.Errorf("lesson %s: %w", l.Name, err)
	}
	sess, err := e.Start(st.ID, false)
	if sess != nil {
		err = errors.Join(err, sess.Close())
	}
	if err != nil {
		return "", errors.Join(fmt.Errorf("lesson %s: %w", l.Name, err), a.discard(e, st.ID))
	}
	if err := a.startSiblings(e, r, l); err != nil {
		return "", errors.Join(err, a.EndLesson(st.ID))
	}
	return st.ID, nil
}

// lessonImage builds the lesson's image from its Dockerfile, when the set
// holds one; otherwise the image must be in the store (or be base).
func (a *App) lessonImage(ctx context.Context, l *lesson.Lesson) error {
	if l.Dockerfile == "" {
		return nil
	}
	dir, err := os.MkdirTemp("", "minidocker-learn-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	df := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(df, []byte(l.Dockerfile), 0o644); err != nil {
		return err
	}
	if _, err := a.Build(ctx, BuildOptions{Context: dir, Dockerfile: df, Tags: []string{l.Image}, Out: io.Discard}); err != nil {
		return fmt.Errorf("lesson %s: build image %s: %w", l.Name, human.Visible(l.Image), err)
	}
	return nil
}

// EndLesson removes a lesson's container, by ID or name, and the
// anonymous volumes made for it, and the containers the lesson started
// beside it; a container already gone is no error.
func (a *App) EndLesson(ref string) error {
	e, err := a.Engine()
	if err != nil {
		return err
	}
	name := ref
	if st, err := e.Get(ref); err == nil {
		name = st.Name()
	}
	if _, err := a.RemoveWithVolumes(e, ref, true); err != nil && !errors.Is(err, engine.ErrNotFound) {
		return err
	}
	return a.endSiblings(e, name)
}

// LessonEnv says where a lesson's container keeps its files, for the
// lesson's checks: its upper directory and layers, its root as its
// process sees it (through /proc), its volumes, what the engine mounted
// over the root, the disk meter of its image, and the host's PID of its
// PID 1.
func (a *App) LessonEnv(id string) (lesson.Env, error) {
	e, err := a.Engine()
	if err != nil {
		return lesson.Env{}, err
	}
	st, err := e.Get(id)
	if err != nil {
		return lesson.Env{}, err
	}
	env := lesson.Env{Upper: st.Rootfs.Upper, Lower: st.Rootfs.Lower, MountPoints: st.MountPoints(), Volumes: map[string]string{},
		Meter: lessonMeter{a.NewMetering(e), st.ID}}
	if st.Status == engine.Running && st.Pid > 0 {
		env.Root = "/proc/" + strconv.Itoa(st.Pid) + "/root"
		env.Pid = st.Pid
	}
	for _, v := range st.Spec.Volumes {
		if v.Type == engine.TypeVolume || v.Type == engine.TypeBind || v.Type == "" {
			env.Volumes[v.Target] = v.Source
		}
	}
	return env, nil
}
