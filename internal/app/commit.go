package app

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/engine"
	"minidocker/images"
	"minidocker/images/dockerfile"
	"minidocker/internal/human"
	"minidocker/overlay"
)

// CommitOptions are docker commit's flags.
type CommitOptions struct {
	// Message and Author are -m and -a.
	Message, Author string
	// Changes are -c's Dockerfile instructions (CMD, ENTRYPOINT, ENV,
	// EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL), applied in order.
	Changes []string
	// Pause freezes a running container while its upper directory is
	// read (docker's default).
	Pause bool
	// Zstd stores the layer zstd-compressed instead of gzip.
	Zstd bool
	// Epoch, when set, is the time of the image and the latest mtime any
	// entry keeps (SOURCE_DATE_EPOCH): the same changes then give the same
	// layer and the same image ID.
	Epoch *time.Time
}

// Commit turns a container's upper directory into a layer on top of its
// image and stores the new image under name (none: an unnamed image), as
// docker commit does.
func (a *App) Commit(ref, name string, o CommitOptions) (images.Image, error) {
	e, err := a.Engine()
	if err != nil {
		return images.Image{}, err
	}
	st, err := e.Get(ref)
	if err != nil {
		return images.Image{}, err
	}
	s, err := a.Images()
	if err != nil {
		return images.Image{}, err
	}
	parent, err := s.Get(st.Spec.ImageID)
	if err != nil {
		return images.Image{}, fmt.Errorf("commit %s: the container's image: %w", st.Name(), err)
	}
	cfg, err := commitConfig(parent.Config.Config, st.Spec, o.Changes)
	if err != nil {
		return images.Image{}, err
	}
	// A container paused already stays paused after; docker does the same.
	if o.Pause && st.Status == engine.Running && !st.Paused {
		if err := e.Pause(st.ID); err != nil {
			return images.Image{}, fmt.Errorf("commit %s: %w", st.Name(), err)
		}
		defer e.Unpause(st.ID)
	}
	d := images.Derivation{
		// Lazy: the layer is unpacked into the store when first used
		// (run, build, the layer view), not by the commit: on a disk where
		// making 10,000 files takes seconds, that doubled a commit.
		Parent: &parent, Config: cfg, Compression: images.Gzip, Lazy: true,
		Layer: func(w io.Writer) error {
			_, err := overlay.Pack(st.Rootfs.Upper, w, packOptions(st, o.Epoch))
			return err
		},
		CreatedBy: human.Line(shellWords(st.Spec.Process.Args)), Comment: o.Message, Author: o.Author,
	}
	if o.Zstd {
		d.Compression = images.Zstd
	}
	if o.Epoch != nil {
		d.Created = *o.Epoch
	}
	var names []string
	if name != "" {
		names = []string{name}
	}
	img, err := s.Derive(d, names)
	if err != nil {
		return images.Image{}, fmt.Errorf("commit %s: %w", st.Name(), err)
	}
	if name == "" {
		return s.Publish(img)
	}
	return img, nil
}

// CommitPreview lists what a commit of the container would put in its
// layer, each whiteout in both its forms (commit --dry-run).
func (a *App) CommitPreview(ref string) ([]overlay.PackEntry, error) {
	e, err := a.Engine()
	if err != nil {
		return nil, err
	}
	st, err := e.Get(ref)
	if err != nil {
		return nil, err
	}
	return overlay.PackList(st.Rootfs.Upper, packOptions(st, nil))
}

// packOptions are how a container's upper directory becomes a layer: its
// image's layers beneath, and the engine's mount points left out.
func packOptions(st engine.State, epoch *time.Time) overlay.PackOptions {
	return overlay.PackOptions{Lower: st.Spec.Layers, MountPoints: st.MountPoints(), ModTime: epoch}
}

// commitConfig is the new image's config: the image's, with the
// container's command, environment, working directory and user as it ran
// (docker commit keeps what the container was given), then the changes.
func commitConfig(img ocispec.ImageConfig, spec engine.Spec, changes []string) (ocispec.ImageConfig, error) {
	cfg := img
	cfg.Env = givenEnv(spec, img.Env)
	cfg.WorkingDir = spec.Process.Cwd
	cfg.User = spec.Process.User
	args := spec.Process.Args
	if len(cfg.Entrypoint) > 0 && len(args) >= len(cfg.Entrypoint) && slices.Equal(args[:len(cfg.Entrypoint)], cfg.Entrypoint) {
		args = args[len(cfg.Entrypoint):]
	}
	cfg.Cmd = slices.Clone(args)
	if len(changes) == 0 {
		return cfg, nil
	}
	return applyChanges(cfg, changes)
}

// givenEnv is the container's environment less what the engine added to
// it when missing (engine's processEnv): HOSTNAME, its own hostname, and
// with a tty TERM=xterm. Docker adds them as each container starts and
// commit leaves them out; kept, HOSTNAME would name the committed
// container in every container of the image. An entry the image itself
// holds stays. (A -e HOSTNAME= equal to the container's hostname cannot be
// told from the engine's and goes too.)
func givenEnv(spec engine.Spec, imageEnv []string) []string {
	added := []string{"HOSTNAME=" + spec.Hostname}
	if spec.Process.Tty {
		added = append(added, "TERM=xterm")
	}
	var out []string
	for _, kv := range spec.Process.Env {
		if slices.Contains(added, kv) && !slices.Contains(imageEnv, kv) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// applyChanges applies docker commit's --change instructions to cfg, each
// read by the Dockerfile parser as a line after a FROM.
func applyChanges(cfg ocispec.ImageConfig, changes []string) (ocispec.ImageConfig, error) {
	for _, c := range changes {
		bad := func(err error) error {
			return Invalid(fmt.Errorf("--change %q: %w", human.Visible(c), err))
		}
		plan, err := dockerfile.Parse(strings.NewReader("FROM scratch\n"+c+"\n"), dockerfile.Options{Filename: "--change"})
		if err != nil {
			return cfg, bad(err)
		}
		st := plan.Stages[0]
		if len(st.Steps) != 2 {
			return cfg, bad(errors.New("want one instruction"))
		}
		if k := st.Steps[1].Kind; !slices.Contains(commitChanges, k) {
			return cfg, bad(fmt.Errorf("%s cannot be a change: want one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL", k))
		}
		state := st.NewState(cfg)
		if _, err := state.Step(st.Steps[1]); err != nil {
			return cfg, bad(err)
		}
		cfg = state.Config
	}
	return cfg, nil
}

// commitChanges are the instructions docker commit --change takes
// (docker's ONBUILD aside, which minidocker does not support).
var commitChanges = []dockerfile.Kind{dockerfile.Cmd, dockerfile.Entrypoint, dockerfile.Env, dockerfile.Expose,
	dockerfile.Label, dockerfile.User, dockerfile.Volume, dockerfile.Workdir, dockerfile.StopSignal}

// shellWords joins args as a shell would read them back, quoting where needed.
func shellWords(args []string) string {
	out := ""
	for i, a := range args {
		if i > 0 {
			out += " "
		}
		out += quoteWord(a)
	}
	return out
}

func quoteWord(s string) string {
	if s != "" && !slices.ContainsFunc([]rune(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '.' || r == '-' || r == '_' || r == '=' || r == ':' || r == ',')
	}) {
		return s
	}
	q := "'"
	for _, r := range s {
		if r == '\'' {
			q += `'\''`
			continue
		}
		q += string(r)
	}
	return q + "'"
}
