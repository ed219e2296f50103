package app

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The stores of podman and docker, read to name the owners of the host's
// overlay mounts. Their files are another program's, written while it
// runs: each is read whole or not at all, bounded in size, and a file that
// is missing or cannot be parsed only leaves owners unnamed, never fails a
// listing.

// maxMetadata bounds a metadata file read: containers/storage keeps every
// container and layer of the host in one JSON file each.
const maxMetadata = 64 << 20

// readJSON decodes the JSON file p into v.
func readJSON(p string, v any) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMetadata+1))
	if err != nil {
		return err
	}
	if len(b) > maxMetadata {
		return fmt.Errorf("%s: larger than %d bytes", p, maxMetadata)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// readLine is the first line of the small file p, trimmed.
func readLine(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 4096))
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

// storeLayer is a layer of another program's store: the ID it is stored
// under and, when recorded, the digest of its uncompressed tar.
type storeLayer struct{ ID, DiffID string }

// storeContainer is a container of another program's store.
type storeContainer struct{ ID, Name, Image string }

// hostStore is what podman's or docker's store says about the overlay
// directories it owns: whose writable layer each is (by the directory's
// ID), what each read-only one holds, and which image has which top layer.
type hostStore struct {
	Engine string // "podman" or "docker"
	// Home is the overlay driver's directory: layer ID → Home/ID/diff.
	Home       string
	Containers map[string]storeContainer // by the ID of their writable layer
	Layers     map[string]storeLayer     // by ID
	Images     map[string]string         // an image's name by its top layer's ID
}

// layerID is the ID of the layer directory dir of the store (Home/ID/diff,
// or a short link to it), "" when dir is not one of its layers.
func (s *hostStore) layerID(dir string) string {
	if s == nil {
		return ""
	}
	rel, err := filepath.Rel(s.Home, dir)
	if err != nil {
		return ""
	}
	id, rest, ok := strings.Cut(rel, "/")
	if !ok || rest != "diff" || id == "l" || id == "" || strings.HasPrefix(id, ".") {
		return ""
	}
	return id
}

// podmanContainers is containers/storage's containers.json.
type podmanContainerRecord struct {
	ID       string   `json:"id"`
	Names    []string `json:"names"`
	Image    string   `json:"image"`
	Layer    string   `json:"layer"`
	Metadata string   `json:"metadata"` // JSON in a string: image-name, name
}

type podmanLayerRecord struct {
	ID         string `json:"id"`
	DiffDigest string `json:"diff-digest"`
}

type podmanImageRecord struct {
	ID    string   `json:"id"`
	Names []string `json:"names"`
	Layer string   `json:"layer"`
}

// readPodman reads the store of containers/storage at root
// (/var/lib/containers/storage): containers, layers and images, each from
// its file and its "volatile" twin (what podman keeps for --rm containers
// and their layers). nil when the store has no overlay driver directory.
func readPodman(root string) *hostStore {
	home := filepath.Join(root, "overlay")
	if _, err := os.Stat(home); err != nil {
		return nil
	}
	s := &hostStore{Engine: "podman", Home: home, Containers: map[string]storeContainer{},
		Layers: map[string]storeLayer{}, Images: map[string]string{}}
	var imgs []podmanImageRecord
	_ = readJSON(filepath.Join(root, "overlay-images", "images.json"), &imgs)
	byID := map[string]string{}
	for _, im := range imgs {
		if len(im.Names) > 0 {
			byID[im.ID] = im.Names[0]
			if im.Layer != "" {
				s.Images[im.Layer] = im.Names[0]
			}
		}
	}
	for _, f := range []string{"layers.json", "volatile-layers.json"} {
		var ls []podmanLayerRecord
		_ = readJSON(filepath.Join(root, "overlay-layers", f), &ls)
		for _, l := range ls {
			if l.ID != "" {
				s.Layers[l.ID] = storeLayer{ID: l.ID, DiffID: l.DiffDigest}
			}
		}
	}
	for _, f := range []string{"containers.json", "volatile-containers.json"} {
		var cs []podmanContainerRecord
		_ = readJSON(filepath.Join(root, "overlay-containers", f), &cs)
		for _, c := range cs {
			if c.Layer != "" {
				s.Containers[c.Layer] = podmanContainer(c, byID)
			}
		}
	}
	return s
}

// podmanContainer names a container record: its first name, its image by
// the name it was made from (the record's metadata), else the image's
// first name, else the image's ID.
func podmanContainer(c podmanContainerRecord, images map[string]string) storeContainer {
	var meta struct {
		ImageName string `json:"image-name"`
		Name      string `json:"name"`
	}
	_ = json.Unmarshal([]byte(c.Metadata), &meta)
	out := storeContainer{ID: c.ID, Name: meta.Name, Image: meta.ImageName}
	if len(c.Names) > 0 {
		out.Name = c.Names[0]
	}
	if out.Image == "" {
		out.Image = images[c.Image]
	}
	if out.Image == "" {
		out.Image = shortID(c.Image)
	}
	return out
}

// dockerContainerRecord is the part of docker's config.v2.json read here.
type dockerContainerRecord struct {
	ID     string `json:"ID"`
	Name   string `json:"Name"` // "/name"
	Image  string `json:"Image"`
	Driver string `json:"Driver"`
	Config struct {
		Image string `json:"Image"` // the image as the user named it
	} `json:"Config"`
}

// readDocker reads the store of docker's overlay2 driver at root
// (/var/lib/docker): each container's config and writable layer
// (image/overlay2/layerdb/mounts/ID/mount-id), the layers' cache IDs and
// diffIDs (layerdb/sha256/CHAIN/{cache-id,diff}), and the images' names
// (repositories.json). nil when there is no overlay2 directory.
func readDocker(root string) *hostStore {
	home := filepath.Join(root, "overlay2")
	if _, err := os.Stat(home); err != nil {
		return nil
	}
	s := &hostStore{Engine: "docker", Home: home, Containers: map[string]storeContainer{},
		Layers: map[string]storeLayer{}, Images: map[string]string{}}
	db := filepath.Join(root, "image", "overlay2")
	names := dockerImageNames(filepath.Join(db, "repositories.json"))
	chains, _ := os.ReadDir(filepath.Join(db, "layerdb", "sha256"))
	for _, c := range chains {
		dir := filepath.Join(db, "layerdb", "sha256", c.Name())
		if id := readLine(filepath.Join(dir, "cache-id")); validStoreID(id) {
			s.Layers[id] = storeLayer{ID: id, DiffID: readLine(filepath.Join(dir, "diff"))}
		}
	}
	ctrs, _ := os.ReadDir(filepath.Join(root, "containers"))
	for _, c := range ctrs {
		var r dockerContainerRecord
		if readJSON(filepath.Join(root, "containers", c.Name(), "config.v2.json"), &r) != nil || r.ID == "" {
			continue
		}
		mount := readLine(filepath.Join(db, "layerdb", "mounts", r.ID, "mount-id"))
		if !validStoreID(mount) {
			continue
		}
		img := r.Config.Image
		if img == "" {
			img = names[r.Image]
		}
		if img == "" {
			img = shortID(r.Image)
		}
		s.Containers[mount] = storeContainer{ID: r.ID, Name: strings.TrimPrefix(r.Name, "/"), Image: img}
	}
	return s
}

// dockerImageNames maps image IDs to a name from docker's
// repositories.json: {"Repositories": {"alpine": {"alpine:3": "sha256:…"}}}.
func dockerImageNames(p string) map[string]string {
	var r struct {
		Repositories map[string]map[string]string `json:"Repositories"`
	}
	out := map[string]string{}
	if err := readJSON(p, &r); err != nil {
		return out
	}
	for _, tags := range r.Repositories {
		for name, id := range tags {
			// Several names for one image: the shortest, then the first
			// in byte order, so that the choice does not change between
			// two reads.
			if old, ok := out[id]; !ok || len(name) < len(old) || len(name) == len(old) && name < old {
				out[id] = name
			}
		}
	}
	return out
}

// validStoreID accepts a directory name a store could have made: no path
// separators, no dot names, not empty, not absurdly long.
func validStoreID(id string) bool {
	return id != "" && len(id) <= 128 && !strings.ContainsAny(id, "/\x00") && id != "." && id != ".."
}

// shortID is the first 12 hex digits of an ID, with or without its
// algorithm.
func shortID(id string) string {
	_, hex, ok := strings.Cut(id, ":")
	if !ok {
		hex = id
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}
