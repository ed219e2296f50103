package ui

import (
	"context"
	"time"

	"minidocker/overlay"
	"minidocker/ui/layers"
)

// Committer makes an image of a container's changes: its upper directory
// as a new layer on the container's image.
type Committer interface {
	// CommitPreview lists what the layer would hold, each whiteout and
	// opaque directory in both its forms: the upper directory's and the
	// layer tar's.
	CommitPreview(id string) ([]overlay.PackEntry, error)
	Commit(id string, spec CommitSpec) (Image, error)
}

// CommitSpec is what the commit dialog asks for.
type CommitSpec struct {
	Name    string // NAME[:TAG]; "" makes an unnamed image
	Message string // kept in the image's history
}

// Builder builds an image from a Dockerfile, telling events of each
// step's progress from its own goroutine as the build goes.
type Builder interface {
	Build(ctx context.Context, spec BuildSpec, events func(BuildEvent)) (Image, error)
}

// BuildSpec is what the build form, or build --ui, asks for: docker
// build's flags.
type BuildSpec struct {
	// Context is the context directory; Dockerfile the file, "" for
	// Context/Dockerfile.
	Context, Dockerfile string
	Tags                []string
	NoCache             bool
	BuildArgs           map[string]string
	Target              string
	Zstd                bool
}

// BuildState is where a build step is.
type BuildState int

// The states a step goes through.
const (
	BuildRunning BuildState = iota
	BuildCached
	BuildDone
	BuildFailed
)

var buildStates = [...]string{"running", "cached", "done", "failed"}

// String returns the state's name, such as "cached".
func (s BuildState) String() string {
	if s >= 0 && int(s) < len(buildStates) {
		return buildStates[s]
	}
	return "unknown"
}

// BuildEvent is a step's progress.
type BuildEvent struct {
	Step, Total int // Step counts from 1
	Text        string
	State       BuildState
	// Container is the RUN step's container while it runs: its upper
	// directory is the layer forming.
	Container string
	// Image is the step's image once made or found in the cache, and
	// Stack reads its layers; a step's image is not listed among the
	// images, so the image source cannot read it by ID.
	Image *Image
	Stack func() (layers.Stack, error)
	// Output is a piece of a RUN step's output.
	Output  []byte
	Elapsed time.Duration
	Err     error
}
