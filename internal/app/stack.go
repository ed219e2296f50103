package app

import (
	"errors"
	"fmt"
	"path/filepath"

	"minidocker/engine"
	"minidocker/images"
	"minidocker/internal/human"
	"minidocker/overlay"
)

// Stack is what the layer commands look at: the layers of an image, a
// container (its image's layers and its upper directory on top), an overlay
// mount of the host, or an image archive read in place.
type Stack struct {
	What   string          // "image", "container", "mount" or "archive"
	Name   string          // how to call it in output
	Layers []*overlay.Tree // bottom first; a container's upper last
	Labels []string        // one per layer: a short diffID, "upper", a directory
	// CreatedBy is the history line of each layer, "" where there is none.
	CreatedBy []string
	Merged    *overlay.Merged
	// Sizes are the layers' content sizes, as docker, dive, "images",
	// "history" and the UI give them (images.LayerInfo's ContentSize).
	Sizes []int64
	// Upper reports whether the top layer is a live upper directory (a
	// container's or a mount's) rather than an image layer.
	Upper bool
}

// Top is the index of the stack's last layer.
func (s *Stack) Top() int { return len(s.Layers) - 1 }

// Changes is what layer i changes over the layers below it.
func (s *Stack) Changes(i int) []overlay.Change {
	return overlay.Diff(overlay.Merge(s.Layers[:i]), s.Layers[i])
}

// OpenStack resolves ref as an image, then a container, then an overlay
// mount point, then (with archives) an archive file.
func (a *App) OpenStack(ref string, archives bool) (*Stack, error) {
	st, err := a.Images()
	if err != nil {
		// Without the store, a path is still read: an archive or a mount
		// needs none, as dive needs no daemon.
		if s, found, perr := a.openPath(ref, archives); found && errors.Is(err, ErrNeedsRoot) {
			return s, perr
		}
		return nil, err
	}
	img, err := st.Get(ref)
	if err != nil && !errors.Is(err, images.ErrNotFound) {
		return nil, err
	}
	var ctr *engine.State
	if e, eerr := engine.Open(engine.Options{Root: a.Root}); eerr == nil {
		if c, cerr := e.Get(ref); cerr == nil {
			ctr = &c
		}
	}
	switch {
	case err == nil && ctr != nil:
		return nil, fmt.Errorf("%s names both image %s and container %s: give an ID", human.Visible(ref), img.ShortID(), ctr.ShortID())
	case err == nil:
		return imageStack(st, img)
	case ctr != nil:
		return containerStack(st, *ctr)
	}
	if s, found, err := a.openPath(ref, archives); found {
		return s, err
	}
	return nil, fmt.Errorf("no image, container or overlay mount %s", human.Visible(ref))
}

func imageStack(st *images.Store, img images.Image) (*Stack, error) {
	dirs, err := st.LayerDirs(img)
	if err != nil {
		return nil, err
	}
	trees, err := overlay.ReadLayers(dirs)
	if err != nil {
		return nil, err
	}
	s := &Stack{What: "image", Name: ImageName(img), Layers: trees, CreatedBy: images.LayerHistory(img.Config, len(trees))}
	for _, d := range img.DiffIDs() {
		s.Labels = append(s.Labels, d.Encoded()[:12])
	}
	s.Merged = overlay.Merge(trees)
	s.sizes(layerSizes(st, img))
	return s, nil
}

// layerSizes are an image's layers' content sizes as the store records them.
func layerSizes(st *images.Store, img images.Image) []int64 {
	infos, _ := st.LayerInfo(img)
	sizes := make([]int64, len(infos))
	for i, l := range infos {
		sizes[i] = l.ContentSize
	}
	return sizes
}

// sizes sets the stack's layer sizes from known, bottom first, and counts
// the content of the layers it does not cover (an upper directory, a
// mount's layers, an archive's) from their trees, by the same rule.
func (s *Stack) sizes(known []int64) {
	s.Sizes = make([]int64, len(s.Layers))
	for i, t := range s.Layers {
		if i < len(known) && known[i] > 0 {
			s.Sizes[i] = known[i]
		} else {
			s.Sizes[i] = overlay.LayerBytes(t)
		}
	}
}

// ImageName is how output calls an image: its first name, else its short ID.
func ImageName(img images.Image) string {
	if len(img.Names) > 0 {
		return img.Names[0]
	}
	return img.ShortID()
}

func containerStack(st *images.Store, c engine.State) (*Stack, error) {
	trees, err := overlay.ReadLayers(append(append([]string{}, c.Rootfs.Lower...), c.Rootfs.Upper))
	if err != nil {
		return nil, err
	}
	s := &Stack{What: "container", Name: c.Name(), Layers: trees, CreatedBy: make([]string, len(trees)), Upper: true}
	for _, d := range c.Rootfs.Lower {
		s.Labels = append(s.Labels, filepath.Base(d))
	}
	var known []int64
	if img, err := st.Get(c.Spec.ImageID); err == nil && len(img.DiffIDs()) == len(c.Rootfs.Lower) {
		copy(s.CreatedBy, images.LayerHistory(img.Config, len(c.Rootfs.Lower)))
		for i, d := range img.DiffIDs() {
			s.Labels[i] = d.Encoded()[:12]
		}
		known = layerSizes(st, img)
	}
	s.Labels = append(s.Labels, "upper")
	s.CreatedBy[len(trees)-1] = "the container's changes"
	s.Merged = overlay.Merge(trees)
	s.sizes(known)
	return s, nil
}
