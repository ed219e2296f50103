package app

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/images"
	"minidocker/internal/human"
)

// The container actions of the UI's manager keys, as docker's verbs do
// them.

// Kill sends SIGKILL to the container, as docker kill does.
func (u *uiContainers) Kill(id string) error { return u.e.Kill(id, unix.SIGKILL) }

// Restart stops the container (SIGTERM, then SIGKILL after 10 seconds)
// and starts it again, as docker restart does; one that is not running
// just starts.
func (u *uiContainers) Restart(id string) error {
	if _, err := u.e.Stop(id, 10*time.Second); err != nil {
		return err
	}
	return u.Start(id)
}

// Remove removes the container and releases its image; force kills a
// running one first.
func (u *uiContainers) Remove(id string, force bool) error {
	_, err := u.a.Remove(u.e, id, force)
	return err
}

// The image actions of the UI's Images panel.

// RemoveImage removes the image id with every name, as rmi does (force
// while a container uses it, or for more than one name), and says what
// went.
func (u uiImages) RemoveImage(id string, force bool) (string, error) {
	untagged, deleted, err := u.s.Remove(id, force)
	if err != nil {
		return "", err
	}
	var said []string
	if len(untagged) > 0 {
		said = append(said, "untagged "+human.Visible(strings.Join(untagged, ", ")))
	}
	if deleted != "" {
		said = append(said, "deleted "+deleted.Encoded()[:12])
	}
	return strings.Join(said, "; "), nil
}

// TagImage gives the image id another name, as tag does.
func (u uiImages) TagImage(id, name string) error {
	_, err := u.s.Tag(id, name)
	return err
}

// SaveImage writes the image id, under its first name, to the file path,
// as save -o does; the file appears only when complete.
func (u uiImages) SaveImage(id, path, format string) error {
	f, err := images.ParseFormat(format)
	if err != nil {
		return Invalid(err)
	}
	if path == "" {
		return Invalid(fmt.Errorf("save: no file named"))
	}
	return u.s.SaveFile(path, []string{id}, f)
}
