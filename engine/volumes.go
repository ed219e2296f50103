package engine

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/internal/human"
)

// Volumes of the store live as docker's do: ROOT/volumes/NAME/_data is
// what containers mount, ROOT/volumes/NAME/volume.json what was recorded
// when it was made. Which containers use one is read from their state, so
// that it cannot drift; the containers' directory lock (taken by create)
// keeps a removal from racing a container being made with the volume.

// Errors about volumes, checked with errors.Is.
var (
	ErrNoSuchVolume = errors.New("no such volume")
	ErrVolumeInUse  = errors.New("volume is in use")
)

// VolumeInfo is a volume as docker's volume inspect shows it, and the
// containers that use it.
type VolumeInfo struct {
	CreatedAt  time.Time         `json:"CreatedAt"`
	Driver     string            `json:"Driver"`
	Labels     map[string]string `json:"Labels"`
	Mountpoint string            `json:"Mountpoint"`
	Name       string            `json:"Name"`
	Options    map[string]string `json:"Options"`
	Scope      string            `json:"Scope"`
	// UsedBy are the IDs of the containers that mount it, oldest first.
	UsedBy []string `json:"-"`
}

// anonymousLabel marks a volume made for one container, as docker's does.
const anonymousLabel = "com.docker.volume.anonymous"

// Anonymous reports whether the volume was made for one container's -v
// PATH, removed with it by rm -v or --rm.
func (v VolumeInfo) Anonymous() bool { _, ok := v.Labels[anonymousLabel]; return ok }

const (
	volumeData = "_data"
	volumeMeta = "volume.json"
)

// volumesDir is the store's volume directory beside containers, the
// engine's containers directory.
func volumesDir(containers string) string { return filepath.Join(filepath.Dir(containers), "volumes") }

// volumeError is docker's wording of a refused volume operation: "remove
// NAME: volume is in use - [ID]".
func volumeError(op, name string, err error, refs []string) error {
	if len(refs) > 0 {
		return fmt.Errorf("%s %s: %w - [%s]", op, human.Visible(name), err, strings.Join(refs, ", "))
	}
	return fmt.Errorf("%s %s: %w", op, human.Visible(name), err)
}

// CreateVolume makes a volume, or returns the one of that name (docker's
// create is idempotent). An empty name makes an anonymous volume.
func (e *Engine) CreateVolume(name string) (VolumeInfo, error) {
	if name != "" && !validVolumeName(name) {
		return VolumeInfo{}, specError{fmt.Sprintf("create %s: %q includes invalid characters for a local volume name, only %q are allowed",
			human.Visible(name), human.Visible(name), "[a-zA-Z0-9][a-zA-Z0-9_.-]")}
	}
	unlock, err := lockDir(e.dir)
	if err != nil {
		return VolumeInfo{}, err
	}
	defer unlock()
	return e.ensureVolume(name)
}

// ensureVolume returns the volume name, made when missing, or a new
// anonymous volume when name is empty.
func (e *Engine) ensureVolume(name string) (VolumeInfo, error) {
	anonymous := name == ""
	if anonymous {
		var raw [32]byte
		rand.Read(raw[:])
		name = hex.EncodeToString(raw[:])
	}
	if v, err := e.readVolume(name); err == nil {
		return v, nil
	}
	dir := filepath.Join(volumesDir(e.dir), name)
	v := VolumeInfo{CreatedAt: time.Now().UTC().Truncate(time.Second), Driver: "local", Labels: map[string]string{},
		Mountpoint: filepath.Join(dir, volumeData), Name: name, Scope: "local"}
	if anonymous {
		v.Labels[anonymousLabel] = ""
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		err = os.MkdirAll(v.Mountpoint, 0o755) // docker's _data: root's, open to read
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, volumeMeta), b, 0o600)
	}
	if err != nil {
		return VolumeInfo{}, errors.Join(fmt.Errorf("create volume %s: %w", name, err), os.RemoveAll(dir))
	}
	return v, nil
}

// readVolume reads one volume's record, without its users.
func (e *Engine) readVolume(name string) (VolumeInfo, error) {
	if !validVolumeName(name) {
		return VolumeInfo{}, volumeError("get", name, ErrNoSuchVolume, nil)
	}
	dir := filepath.Join(volumesDir(e.dir), name)
	b, err := os.ReadFile(filepath.Join(dir, volumeMeta))
	if errors.Is(err, fs.ErrNotExist) {
		return VolumeInfo{}, volumeError("get", name, ErrNoSuchVolume, nil)
	}
	var v VolumeInfo
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		return VolumeInfo{}, fmt.Errorf("read volume %s: %w", name, err)
	}
	v.Name, v.Mountpoint = name, filepath.Join(dir, volumeData)
	return v, nil
}

// users maps each volume's name to the IDs of the containers that use it.
func (e *Engine) users() (map[string][]string, error) {
	all, err := e.list()
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, s := range all {
		for _, v := range s.Spec.Volumes {
			if v.kind() == TypeVolume && !slices.Contains(users[v.Name], s.ID) {
				users[v.Name] = append(users[v.Name], s.ID)
			}
		}
	}
	return users, nil
}

// Volume returns one volume and its users.
func (e *Engine) Volume(name string) (VolumeInfo, error) {
	v, err := e.readVolume(name)
	if err != nil {
		return v, err
	}
	users, err := e.users()
	v.UsedBy = users[name]
	return v, err
}

// Volumes lists the volumes of the store by name, with their users.
func (e *Engine) Volumes() ([]VolumeInfo, error) {
	ents, err := os.ReadDir(volumesDir(e.dir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	users, err := e.users()
	if err != nil {
		return nil, err
	}
	var out []VolumeInfo
	for _, ent := range ents {
		v, err := e.readVolume(ent.Name())
		if err != nil {
			continue // being made or removed
		}
		v.UsedBy = users[v.Name]
		out = append(out, v)
	}
	return out, nil
}

// RemoveVolume deletes a volume no container uses, even a stopped one, as
// docker refuses ("remove NAME: volume is in use - [ID]"). With force, a
// missing volume is no error.
func (e *Engine) RemoveVolume(name string, force bool) error {
	unlock, err := lockDir(e.dir)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := e.readVolume(name); err != nil {
		if force && errors.Is(err, ErrNoSuchVolume) {
			return nil
		}
		return err
	}
	users, err := e.users()
	if err != nil {
		return err
	}
	if refs := users[name]; len(refs) > 0 {
		return volumeError("remove", name, ErrVolumeInUse, refs)
	}
	return removeVolumeDir(volumesDir(e.dir), name)
}

// removeVolumeDir deletes a volume's directory, never through a mount.
func removeVolumeDir(vols, name string) error {
	dir := filepath.Join(vols, name)
	if m := mountsUnder(dir); len(m) > 0 {
		return fmt.Errorf("remove volume %s: %w: %s", name, ErrMounted, strings.Join(m, ", "))
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

// PruneVolumes removes the volumes no container uses: the anonymous ones,
// or every one with all (docker's prune -a). It returns the names removed
// and the bytes their files took.
func (e *Engine) PruneVolumes(all bool) ([]string, int64, error) {
	unlock, err := lockDir(e.dir)
	if err != nil {
		return nil, 0, err
	}
	defer unlock()
	vols, err := e.Volumes()
	if err != nil {
		return nil, 0, err
	}
	var names []string
	var size int64
	var errs []error
	for _, v := range vols {
		if len(v.UsedBy) > 0 || !all && !v.Anonymous() {
			continue
		}
		n := diskUsage(v.Mountpoint)
		if err := removeVolumeDir(volumesDir(e.dir), v.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		names, size = append(names, v.Name), size+n
	}
	return names, size, errors.Join(errs...)
}

// diskUsage is the bytes of the regular files under dir.
func diskUsage(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// RemoveAnonymousVolumes removes the anonymous volumes of a removed
// container that no other container uses: docker's rm -v, and --rm.
func (e *Engine) RemoveAnonymousVolumes(st State) error {
	return removeAnonymous(e.dir, st)
}

// removeAnonymous is RemoveAnonymousVolumes for the containers directory
// dir, which the monitor of a container run with --rm knows.
func removeAnonymous(dir string, st State) error {
	if !slices.ContainsFunc(st.Spec.Volumes, func(v Volume) bool { return v.Anonymous }) {
		return nil
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	e := &Engine{dir: dir}
	users, err := e.users()
	if err != nil {
		return err
	}
	var errs []error
	for _, v := range st.Spec.Volumes {
		if v.Anonymous && validVolumeName(v.Name) && len(slices.DeleteFunc(users[v.Name], func(id string) bool { return id == st.ID })) == 0 {
			errs = append(errs, removeVolumeDir(volumesDir(dir), v.Name))
		}
	}
	return errors.Join(errs...)
}

// resolveVolumes makes the store volumes of a spec being created (called
// under the containers' lock): each gets its name and data directory, and
// is seeded from the image only when its directory is empty now. It
// returns the anonymous volumes it made, for an undo.
func (e *Engine) resolveVolumes(spec *Spec) (made []string, err error) {
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if v.kind() != TypeVolume {
			continue
		}
		info, err := e.ensureVolume(v.Name)
		if err != nil {
			return made, err
		}
		if v.Name == "" {
			v.Anonymous = true
			made = append(made, info.Name)
		}
		v.Name, v.Source = info.Name, info.Mountpoint
		ents, err := os.ReadDir(info.Mountpoint)
		v.Seed = !v.NoCopy && err == nil && len(ents) == 0 // docker copies into an empty volume only

	}
	return made, nil
}

// SELinuxEnabled reports whether the host enforces or audits SELinux,
// which z and Z relabel volumes for.
func SELinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

// dropVolumes removes the anonymous volumes of a container that could not
// be made.
func (e *Engine) dropVolumes(names []string) error {
	var errs []error
	for _, n := range names {
		errs = append(errs, removeVolumeDir(volumesDir(e.dir), n))
	}
	return errors.Join(errs...)
}

// containerFileLabel is the SELinux type docker gives shared volume
// content (z). Without a label of its own for each container's processes
// the engine gives Z's content the same one.
const containerFileLabel = "system_u:object_r:container_file_t:s0"

// relabelVolumes relabels the volumes with z or Z, where SELinux is on.
func relabelVolumes(vols []Volume) error {
	if !SELinuxEnabled() {
		return nil
	}
	for _, v := range vols {
		if v.Label == "" || v.Type == TypeTmpfs {
			continue
		}
		if v.Source == "/" || v.Source == "/usr" || v.Source == "/etc" {
			return specError{fmt.Sprintf("relabeling content in %s is not allowed", v.Source)}
		}
		err := filepath.WalkDir(v.Source, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return unix.Lsetxattr(p, "security.selinux", []byte(containerFileLabel), 0)
		})
		if err != nil {
			return fmt.Errorf("relabel %s (%s): %w", v.Source, v.Label, err)
		}
	}
	return nil
}
