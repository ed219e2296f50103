// Package demo holds the classroom material the binary carries: the guided
// lessons of `minidocker learn`, as data files in lessons/ (the format is
// internal/lesson's), and the images they run on (lessons/*.Dockerfile).
// The shell scripts beside it set up the walkthrough of README.md.
package demo

import (
	"embed"
	"io/fs"
)

//go:embed lessons/*.md lessons/*.Dockerfile
var files embed.FS

// Lessons returns the lesson set: NN-NAME.md files and the Dockerfiles of
// the images they name.
func Lessons() (fs.FS, error) { return fs.Sub(files, "lessons") }
