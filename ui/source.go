package ui

import (
	"context"
	"io"
	"time"

	"minidocker/ui/layers"
	"minidocker/ui/meter"
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
	// Paused is a running container frozen; OOMKilled an exited one the
	// kernel's OOM killer ended.
	Paused, OOMKilled bool
	// ImageID is the image it was made from, which removing the image
	// names as a user.
	ImageID string
	Created time.Time
	// Inspect is the container's state as indented JSON.
	Inspect string
	// Mounts are its volumes, binds and tmpfs mounts, shown beside its
	// layers.
	Mounts []VolumeMount
}

// VolumeMount is one mount of a container besides its layers: a host path
// (bind), a volume of the store by name (volume) or a tmpfs.
type VolumeMount struct {
	Type, Source, Target string
	ReadOnly             bool
	// Options are the rest of its mode: z, rslave, nocopy, a tmpfs's size.
	Options string
}

// Mount is an overlay mount found on the host, in any mount namespace.
type Mount struct {
	ID int
	// Point is where the host reaches the mount: its mount point, or
	// /proc/PID/root/POINT for a mount of another namespace.
	Point       string
	Lower       []string // top first, as lowerdir lists them
	Upper, Work string
	// Namespace names the mount namespace the mount is in when it is not
	// the UI's own: "mnt:[4026532173] pid 7635".
	Namespace string
	// Owner says who made the mount, when a store knows: "podman
	// container web (alpine:3)"; for another namespace's mount no store
	// knows, a process in it.
	Owner string
	// Layers are the IDs of the lower layers in their store, as Lower
	// lists them; "" where no store names the directory.
	Layers []string
	// DiffIDs are the digests of the lower layers' content, as Lower lists
	// them, where their store records them; "" elsewhere.
	DiffIDs []string
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
	Volumes []string // as docker's -v
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

// ImageManager removes, tags and saves images, from the Images panel.
type ImageManager interface {
	// RemoveImage removes the image id and its names (with force, also
	// while a container uses it) and says what it removed.
	RemoveImage(id string, force bool) (string, error)
	// TagImage gives the image id the name name.
	TagImage(id, name string) error
	// SaveImage writes the image id to the file path, as an OCI archive
	// or a docker-archive (format as save's --format takes it).
	SaveImage(id, path, format string) error
}

// ContainerLister lists containers, for the home panel and its refresh.
type ContainerLister interface {
	Containers() ([]Container, error)
}

// StackWatcher reads a container's layers for the layer view: the image's
// layers, the upper directory and the merged view (ContainerStack), then
// the upper directory's changes until ctx ends (Watch).
type StackWatcher interface {
	ContainerStack(id string) (layers.Stack, error)
	Watch(ctx context.Context, id string) (<-chan []tree.Node, error)
}

// Lifecycle runs a container from the run form, and starts, stops,
// kills (SIGKILL), restarts and removes one; force removes a running
// one, killing it first.
type Lifecycle interface {
	Run(spec RunSpec) (id string, err error)
	Start(id string) error
	Stop(id string) error
	Kill(id string) error
	Restart(id string) error
	Remove(id string, force bool) error
}

// Terminals connects the shell tab to a container: Attach to its own
// terminal, Exec to a shell started in it with a terminal of its own.
type Terminals interface {
	Attach(id string) (terminal.Pty, error)
	Exec(id string) (terminal.Pty, error)
}

// LogReader feeds the logs tab.
type LogReader interface {
	// Logs writes the container's output to w, following it until ctx
	// ends.
	Logs(ctx context.Context, id string, w io.Writer) error
}

// StatsReader feeds the stats tab: one reading of the counters a call.
type StatsReader interface {
	Stats(id string) (Stats, error)
}

// ContainerSource is every container role at once, as one adapter of the
// application layer implements them; Sources.SetContainers spreads it over
// the roles. No view takes it whole.
type ContainerSource interface {
	ContainerLister
	StackWatcher
	Lifecycle
	Terminals
	LogReader
	StatsReader
}

// MountSource lists the host's overlay mounts and reads their layers.
type MountSource interface {
	Mounts() ([]Mount, error)
	MountStack(m Mount) (layers.Stack, error)
	// WatchMount streams the changes in the mount's upper directory.
	WatchMount(ctx context.Context, m Mount) (<-chan []tree.Node, error)
}

// MountWatcher is a MountSource that tells when the host's mounts may
// have changed, until ctx ends; the Host mounts panel then lists them
// again.
type MountWatcher interface {
	WatchMounts(ctx context.Context) (<-chan struct{}, error)
}

// Sources are what the UI shows and drives, one field a role; the
// application layer fills them, most simply with SetContainers for the
// container roles. A nil role disables what needs it: without Lifecycle
// nothing runs, starts, stops or removes, without Terminals there is no
// shell, and so on; NoRun then says why in one line.
type Sources struct {
	Images ImageSource
	Mounts MountSource
	// ImageManager removes, tags and saves images; nil turns those keys
	// off.
	ImageManager ImageManager
	// Registry pulls and pushes images (source_registry.go); nil turns
	// those keys off.
	Registry Registry

	ContainerList   ContainerLister
	ContainerStacks StackWatcher
	Lifecycle       Lifecycle
	Terminals       Terminals
	Logs            LogReader
	Stats           StatsReader

	// Committer and Builder make images: a commit from a container's
	// view, a build from a Dockerfile.
	Committer Committer
	Builder   Builder
	// Lessons runs the guided lessons (minidocker learn).
	Lessons LessonSource

	// Meter reads the disk meter drawn over an image's or a container's
	// layers (package meter).
	Meter meter.Source

	NoRun string
}

// SetContainers fills every container role with c; a nil c leaves them
// as they are.
func (s *Sources) SetContainers(c ContainerSource) {
	if c == nil {
		return
	}
	s.ContainerList, s.ContainerStacks, s.Lifecycle, s.Terminals, s.Logs, s.Stats = c, c, c, c, c, c
}
