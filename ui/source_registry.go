package ui

import "context"

// Registry moves images between the store and registries: a pull from the
// Images panel (or ui REF) and a push of its selection. Both tell their
// progress from other goroutines as they go, and stop when ctx ends,
// leaving nothing half-made in the store.
type Registry interface {
	Pull(ctx context.Context, spec PullSpec, progress func(PullLayer)) (Pulled, error)
	// Push sends the image spec.Image to spec.Dest; progress is told how
	// many of the bytes to upload have gone.
	Push(ctx context.Context, spec PushSpec, progress func(done, total int64)) (Pushed, error)
}

// PullSpec is what the pull dialog, or ui REF, asks for.
type PullSpec struct {
	// Ref is the reference: "alpine", "127.0.0.1:5000/base:v1",
	// "repo@sha256:…".
	Ref string
	// Insecure skips the check of the registry's TLS certificate and
	// allows plain HTTP, for a local registry (--tls-verify=false).
	Insecure bool
	// Platform is "OS/ARCH[/VARIANT]" to take from an index; "" is this
	// machine's.
	Platform string
}

// PushSpec is what the push dialog asks for.
type PushSpec struct {
	Image string // the stored image's ID
	// Dest is the registry reference to push to.
	Dest     string
	Insecure bool // as PullSpec's
}

// PullState is where a layer of a pull is.
type PullState int

// The states of a layer in a pull, in their order.
const (
	PullWaiting  PullState = iota // to fetch, not started
	PullExists                    // in the store already: not fetched
	PullFetching                  // being downloaded, checked and unpacked
	PullResuming                  // the connection dropped: asking for the rest
	PullDone                      // checked, unpacked and in the store
)

// String is docker's word for the state.
func (s PullState) String() string {
	if s < PullWaiting || s > PullDone {
		return "?"
	}
	return [...]string{"waiting", "already exists", "downloading", "resuming", "pull complete"}[s]
}

// PullLayer is the state of one layer blob of a pull.
type PullLayer struct {
	Index  int    // in the image's manifest, bottom first
	Digest string // the blob's, "sha256:…"
	Size   int64  // the blob's, from the manifest
	Done   int64  // bytes received
	State  PullState
}

// Pulled is what a pull stored.
type Pulled struct {
	Image Image
	// Name is the name the image was given, "" for a pull by digest.
	Name string
	// Digest is the registry's digest of the image's manifest.
	Digest string
	// Fetched counts the layers downloaded; UpToDate says the store had
	// the image already.
	Fetched  int
	UpToDate bool
}

// Pushed is where a push went.
type Pushed struct {
	Ref    string // in full: "127.0.0.1:5000/base:latest"
	Digest string // of the manifest, the same in the store and the registry
	Size   int64  // the manifest's length
}
