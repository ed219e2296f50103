package ui

import (
	"context"
	"io"
	"time"

	"minidocker/ui/layers"
	"minidocker/ui/terminal"
	"minidocker/ui/tree"
)

// Image is one image as the UI lists it.
type Image struct {
	ID, ShortID string
	Names       []string
	Size        int64 // bytes of the layers uncompressed, as docker shows it
	Created     time.Time
	Layers      []Layer
	History     []History
	// Config is the image config as indented JSON, for the Config tab.
	Config string
}

// Layer is one layer of an image.
type Layer struct {
	DiffID    string
	Size      int64 // bytes of the uncompressed layer
	CreatedBy string
}

// History is one line of an image's history.
type History struct {
	Created    time.Time
	CreatedBy  string
	Comment    string
	EmptyLayer bool
}

// Container is one container as the UI lists it.
type Container struct {
	ID, ShortID, Name string
	Image             string
	Command           string
	Status            string // created, running, exited
	Running           bool
	ExitCode          int
	Created           time.Time
	// Inspect is the container's state as indented JSON.
	Inspect string
}

// Mount is an overlay mount found on the host.
type Mount struct {
	ID          int
	Point       string
	Lower       []string // top first, as lowerdir lists them
	Upper, Work string
}

// Stats is one reading of a container's cgroup counters.
type Stats struct {
	MemoryBytes, MemoryLimit int64
	CPUNanos                 int64
	Pids                     int64
}

// RunSpec is what the run form asks for.
type RunSpec struct {
	Image   string
	Name    string
	Command []string
	Volumes []string // HOST:CTR[:ro]
	Memory  string   // as docker's --memory
	CPUs    float64
	Pids    int64
}

// ImageSource lists images and gives their layer trees.
type ImageSource interface {
	Images() ([]Image, error)
	ImageStack(id string) (layers.Stack, error)
	// Load imports the images of an archive and returns their names.
	Load(path string) ([]string, error)
	// Prune removes what no image or container uses and says what it freed.
	Prune() (string, error)
}

// ContainerSource lists and drives containers.
type ContainerSource interface {
	Containers() ([]Container, error)
	// ContainerStack gives the image's layers, the upper directory and the
	// merged view; Watch streams the upper directory's changes until ctx
	// ends.
	ContainerStack(id string) (layers.Stack, error)
	Watch(ctx context.Context, id string) (<-chan []tree.Node, error)
	Run(spec RunSpec) (id string, err error)
	Start(id string) error
	Stop(id string) error
	Remove(id string) error
	// Attach connects to the container's terminal; Exec starts a shell in
	// it with a terminal of its own.
	Attach(id string) (terminal.Pty, error)
	Exec(id string) (terminal.Pty, error)
	// Logs writes the container's output to w, following it until ctx ends.
	Logs(ctx context.Context, id string, w io.Writer) error
	Stats(id string) (Stats, error)
}

// MountSource lists the host's overlay mounts and reads their layers.
type MountSource interface {
	Mounts() ([]Mount, error)
	MountStack(m Mount) (layers.Stack, error)
	// WatchMount streams the changes in the mount's upper directory.
	WatchMount(ctx context.Context, m Mount) (<-chan []tree.Node, error)
}

// Sources are what the UI shows. Containers is nil when containers cannot
// run here; NoRun then says why in one line.
type Sources struct {
	Images     ImageSource
	Containers ContainerSource
	Mounts     MountSource
	NoRun      string
}
