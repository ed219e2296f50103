package app

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"minidocker/internal/human"
)

// LoadSources are the engines "load --from" takes images from, dive's
// --source values: each writes a docker-archive of an image to its
// standard output with its save command.
var LoadSources = []string{"docker", "podman"}

// LoadFrom imports an image of docker's or podman's store: it runs
// "TOOL save" of ref, whose docker-archive streams through a pipe into
// the store as "load" reads its standard input, and returns what was
// loaded. The tool's own error (no such image, no daemon) is the error
// when it fails, on one line: what the archive reader then meets, a tar
// cut short, is only its consequence.
func (a *App) LoadFrom(tool, ref string) ([]Loaded, error) {
	if !slices.Contains(LoadSources, tool) {
		return nil, Invalid(fmt.Errorf("load --from %s: want %s", human.Visible(tool), strings.Join(LoadSources, " or ")))
	}
	if ref == "" || strings.HasPrefix(ref, "-") {
		return nil, Invalid(fmt.Errorf("load --from %s: image %q", tool, human.Visible(ref)))
	}
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, fmt.Errorf("load --from %s: %s is not installed (not found in PATH)", tool, tool)
	}
	if _, err := a.Images(); err != nil { // before the tool runs: a store we cannot open
		return nil, err
	}
	args := []string{"save", "--", ref}
	if tool == "podman" {
		// Its default format may be changed in containers.conf.
		args = []string{"save", "--format", "docker-archive", "--", ref}
	}
	cmd := exec.Command(path, args...)
	stderr := &tailBuffer{max: 64 << 10}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("load --from %s: %w", tool, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load --from %s: %w", tool, err)
	}
	loaded, lerr := a.Load("", out)
	if lerr != nil {
		// The archive was refused: stop the tool rather than wait for it
		// to fill a pipe nobody reads.
		_ = cmd.Process.Kill()
	}
	if werr := cmd.Wait(); werr != nil && lerr == nil || werr != nil && !killed(werr) {
		return nil, fmt.Errorf("load --from %s: %s save %s: %s", tool, tool, human.Visible(ref), toolError(werr, stderr.String()))
	}
	if lerr != nil {
		return nil, fmt.Errorf("load --from %s %s: %w", tool, human.Visible(ref), lerr)
	}
	return loaded, nil
}

// killed reports whether the tool ended on our kill.
func killed(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == -1
}

// toolError is the last line the tool wrote to its standard error, else
// how it ended.
func toolError(err error, stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return human.Line(strings.TrimPrefix(last, "Error: "))
	}
	return err.Error()
}

// tailBuffer keeps the last max bytes written to it: of a tool's
// standard error only the end is shown, and it must not grow without
// bound.
type tailBuffer struct {
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
