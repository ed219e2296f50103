package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"minidocker/images"
	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui"
	"minidocker/ui/layers"
	"minidocker/ui/tree"
)

// ArchiveUISources are the terminal UI's read-only view of an image
// archive (docker-archive or OCI, file or directory), read in place: its
// images and their layers, the host's mounts, nothing that runs or
// writes. It needs no store and so no root: "minidocker ui ARCHIVE"
// opens it for any user. close releases the archive when the UI is done.
func (a *App) ArchiveUISources(p string) (src ui.Sources, close func() error, err error) {
	ar, err := images.OpenArchive(p)
	if err != nil {
		return ui.Sources{}, nil, err
	}
	if len(ar.Images) == 0 {
		ar.Close()
		return ui.Sources{}, nil, fmt.Errorf("archive %s: holds no image", human.Visible(p))
	}
	src = ui.Sources{Images: &archiveImages{path: p, ar: ar, stacks: map[int]*archiveStackCache{}}, Mounts: uiMounts{a},
		NoRun: "read-only: " + human.Visible(p) + " read in place; minidocker load -i it to run it"}
	return src, ar.Close, nil
}

// archiveImages are an archive's images as the UI lists them.
type archiveImages struct {
	path   string
	ar     *images.Archive
	mu     sync.Mutex
	stacks map[int]*archiveStackCache
}

// archiveStackCache is an image's layers, read once: done is closed
// when trees and err are set.
type archiveStackCache struct {
	done  chan struct{}
	trees []*overlay.Tree
	err   error
}

// errReadOnly refuses what would write: there is no store behind an
// archive's view.
var errReadOnly = errors.New("a read-only view of an archive: nothing is written")

func (u *archiveImages) Images() ([]ui.Image, error) {
	out := make([]ui.Image, len(u.ar.Images))
	for i, ai := range u.ar.Images {
		out[i] = u.image(i, ai)
	}
	return out, nil
}

// image is image i of the archive. Its ID is the archive and the image's
// place in it; its layer sizes are the layers' content once they are read,
// else what the archive tells without decompressing them.
func (u *archiveImages) image(i int, ai images.ArchiveImage) ui.Image {
	r := ui.Image{ID: u.path + "#" + strconv.Itoa(i), ShortID: "archive", Names: ai.Names}
	if len(r.Names) == 0 {
		r.Names = []string{filepath.Base(u.path)}
	}
	if c := ai.Config.Created; c != nil {
		r.Created = *c
	}
	for _, h := range ai.Config.History {
		var t time.Time
		if h.Created != nil {
			t = *h.Created
		}
		r.History = append(r.History, ui.History{Created: t, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer})
	}
	sizes := u.sizes(i)
	infos, _ := ai.LayerInfo()
	for j, l := range infos {
		size := l.ContentSize
		if j < len(sizes) {
			size = sizes[j]
		}
		r.Size += size
		r.Layers = append(r.Layers, ui.Layer{DiffID: string(l.DiffID), Size: size, CreatedBy: l.CreatedBy})
	}
	if b, err := json.MarshalIndent(ai.Config, "", "  "); err == nil {
		r.Config = string(b)
	}
	return r
}

// sizes are the content sizes of image i's layers, when they were read.
func (u *archiveImages) sizes(i int) []int64 {
	u.mu.Lock()
	c := u.stacks[i]
	u.mu.Unlock()
	if c == nil {
		return nil
	}
	select {
	case <-c.done:
	default:
		return nil // being read
	}
	var out []int64
	for _, t := range c.trees {
		out = append(out, overlay.LayerBytes(t))
	}
	return out
}

func (u *archiveImages) ImageStack(id string) (layers.Stack, error) {
	i, err := u.index(id)
	if err != nil {
		return layers.Stack{}, err
	}
	ai := u.ar.Images[i]
	u.mu.Lock()
	c, reading := u.stacks[i]
	if !reading {
		c = &archiveStackCache{done: make(chan struct{})}
		u.stacks[i] = c
	}
	u.mu.Unlock()
	if !reading {
		c.trees, c.err = archiveTrees(u.path, ai)
		close(c.done)
	}
	<-c.done
	if c.err != nil {
		return layers.Stack{}, c.err
	}
	history := images.LayerHistory(ai.Config, len(c.trees))
	names := make([]string, len(c.trees))
	for j, d := range ai.DiffIDs() {
		names[j] = d.Encoded()[:12] + " " + history[j]
	}
	s := layers.FromTrees(c.trees, names, func(n tree.Node) (io.ReadCloser, error) {
		return openArchiveEntry(ai, n.Layer, n.Path)
	})
	for _, t := range c.trees {
		s.Sizes = append(s.Sizes, overlay.LayerBytes(t))
	}
	return s, nil
}

// index is the place in the archive of the image id names.
func (u *archiveImages) index(id string) (int, error) {
	p, n, ok := strings.Cut(id, "#")
	i, err := strconv.Atoi(n)
	if !ok || p != u.path || err != nil || i < 0 || i >= len(u.ar.Images) {
		return 0, fmt.Errorf("image %s: not in archive %s", human.Visible(id), human.Visible(u.path))
	}
	return i, nil
}

func (u *archiveImages) Load(string) ([]string, error) {
	return nil, fmt.Errorf("load: %w", errReadOnly)
}
func (u *archiveImages) Prune() (string, error) { return "", fmt.Errorf("prune: %w", errReadOnly) }
