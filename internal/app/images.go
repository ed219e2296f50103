package app

import (
	"errors"
	"fmt"
	"io"
	"time"

	"minidocker/images"
	"minidocker/internal/human"
)

// BaseName is the default image's name, made from the host on first use.
const BaseName = images.BaseName

// DefaultFormat is the archive format save writes unless told otherwise.
const DefaultFormat = string(images.OCIArchive)

// ImageRow is one name of an image, as docker images lists it: an image
// without a name is one row with repository and tag "<none>".
type ImageRow struct {
	Repo, Tag, ShortID string
	Created            *time.Time
	Size               int64 // the layers' content, as docker shows it
}

// ImageRows lists every name of every image.
func (a *App) ImageRows() ([]ImageRow, error) {
	s, err := a.Images()
	if err != nil {
		return nil, err
	}
	imgs, err := s.List()
	if err != nil {
		return nil, err
	}
	var rows []ImageRow
	for _, img := range imgs {
		size, _ := s.Size(img) // a layer not unpacked counts 0
		names := img.Names
		if len(names) == 0 {
			names = []string{"<none>:<none>"}
		}
		for _, n := range names {
			r := ImageRow{ShortID: img.ShortID(), Created: img.Config.Created, Size: size}
			r.Repo, r.Tag = images.SplitName(n)
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// HistoryRow is one entry of an image's history, oldest first, with the
// layer it made ("" for an empty layer) and that layer's content size.
type HistoryRow struct {
	Layer              string // short diffID
	Created            *time.Time
	CreatedBy, Comment string
	Size               int64
}

// History pairs an image's history with its layers.
func (a *App) History(ref string) ([]HistoryRow, error) {
	s, err := a.Images()
	if err != nil {
		return nil, err
	}
	img, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	infos, _ := s.LayerInfo(img) // a layer not unpacked shows 0
	var rows []HistoryRow
	for i, l := range images.HistoryLayers(img.Config) {
		e := img.Config.History[i]
		r := HistoryRow{Created: e.Created, CreatedBy: e.CreatedBy, Comment: e.Comment}
		if l >= 0 {
			r.Layer, r.Size = infos[l].DiffID.Encoded()[:12], infos[l].ContentSize
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// Inspected is an image as inspect shows it.
type Inspected struct {
	ID             string   `json:"Id"`
	RepoTags       []string `json:"RepoTags"`
	ManifestDigest string   `json:"ManifestDigest"`
	Size           int64    `json:"Size"`
	LayerDirs      []string `json:"LayerDirs"`
	Manifest       any      `json:"Manifest"`
	Config         any      `json:"Config"`
}

// Inspect returns the image ref as an Inspected or, with containersToo and
// no such image, the container ref's state, as docker inspect does.
func (a *App) Inspect(ref string, containersToo bool) (any, error) {
	s, err := a.Images()
	if err != nil {
		return nil, err
	}
	img, err := s.Get(ref)
	if errors.Is(err, images.ErrNotFound) && containersToo {
		e, err := a.Engine()
		if err != nil {
			return nil, err
		}
		st, err := e.Get(ref)
		if err != nil {
			return nil, fmt.Errorf("no image or container %s", human.Visible(ref))
		}
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	dirs, _ := s.LayerDirs(img)
	size, _ := s.Size(img)
	return Inspected{ID: string(img.ID), RepoTags: orEmpty(img.Names), ManifestDigest: string(img.ManifestDigest),
		Size: size, LayerDirs: orEmpty(dirs), Manifest: img.Manifest, Config: img.Config}, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Loaded is an image a load brought in: its ID and the names it got.
type Loaded struct {
	ID    string
	Names []string
}

// Load reads the images of an archive file or OCI layout directory at p,
// or of r when p is "" or "-".
func (a *App) Load(p string, r io.Reader) ([]Loaded, error) {
	s, err := a.Images()
	if err != nil {
		return nil, err
	}
	var imgs []images.Image
	if p == "" || p == "-" {
		imgs, err = s.LoadReader(r)
	} else {
		imgs, err = s.Load(p)
	}
	out := make([]Loaded, len(imgs))
	for i, img := range imgs {
		out[i] = Loaded{ID: string(img.ID), Names: img.Names}
	}
	return out, err
}

// Imported is the image an import made and what it left out of the tar.
type Imported struct {
	ID string
	// SkippedDevices counts the device nodes left out.
	SkippedDevices int
}

// Import makes a one-layer image named name from the root filesystem tar
// at p. Its device nodes are left out and counted (a container gets its
// /dev from the engine), or refused with strict.
func (a *App) Import(p, name string, strict bool) (Imported, error) {
	s, err := a.Images()
	if err != nil {
		return Imported{}, err
	}
	img, st, err := s.Import(p, name, images.ImportOptions{Strict: strict})
	if err != nil {
		return Imported{}, err
	}
	return Imported{ID: string(img.ID), SkippedDevices: st.Devices}, nil
}

// Save writes the images refs in format (oci-archive or docker-archive)
// to the file p, or to w when p is "" or "-". The format is checked first.
func (a *App) Save(w io.Writer, p string, refs []string, format string) error {
	f, err := images.ParseFormat(format)
	if err != nil {
		return Invalid(err)
	}
	s, err := a.Images()
	if err != nil {
		return err
	}
	if p == "" || p == "-" {
		return s.Save(w, refs, f)
	}
	return s.SaveFile(p, refs, f)
}
