package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"minidocker/internal/app"
	"minidocker/internal/human"
)

// What works without root, as dive works: analyze, layers and tree of an
// archive file or of a mount (read in place, no store needed), mounts,
// the terminal UI (read-only), learn's list, help. Everything else needs
// the store, and the store at its default place is root's: app refuses it
// with an app.NeedsRootError. The verbs below need root whatever the
// store, and say so before they touch anything.

// Why the verbs that make, enter, signal or freeze containers need root.
const (
	whyContainers = "containers need namespaces, mounts and cgroups"
	whySignal     = "a container's processes are root's"
	whyFreeze     = "freezing a container writes its cgroup"
	whyCommit     = "a commit reads a container's upper directory and pauses it"
	whyBuild      = "a build runs its steps in containers"
)

// rootVerbs maps the commands that need root, by their path without
// "container ", to why.
var rootVerbs = map[string]string{
	"run": whyContainers, "create": whyContainers, "start": whyContainers, "exec": whyContainers,
	"attach": whySignal, "stop": whySignal, "kill": whySignal, "rm": whyContainers,
	"pause": whyFreeze, "unpause": whyFreeze,
	"commit": whyCommit, "build": whyBuild,
}

// checkRoot refuses a verb of rootVerbs when the caller is not root.
func checkRoot(cmd *cobra.Command) error {
	why, ok := rootVerbs[strings.TrimPrefix(cmdName(cmd), "container ")]
	if !ok {
		return nil
	}
	return app.NeedsRoot(why)
}

// rootLine is the one line a command that needs root fails with, naming
// the command: "minidocker: run: needs root (containers need namespaces,
// mounts and cgroups)".
func rootLine(ran *cobra.Command, err error) (string, bool) {
	var nr *app.NeedsRootError
	if ran == nil || !errors.As(err, &nr) {
		return "", false
	}
	return fmt.Sprintf("minidocker: %s: %s", cmdName(ran), human.Line(nr.Error())), true
}
