//go:build !cgo

package engine

import "os"

// WithCgo reports whether this build has cgo, which exec and the early
// start of a run need; see spawn_cgo.go.
const WithCgo = false

// earlyEnv carries the early cgroups' parent directories to a monitor.
const earlyEnv = "_MINIDOCKER_EARLY_CGROUPS"

// adoptInit: without cgo no constructor starts the init (see spawn_cgo.go).
func adoptInit() (p *initProc, join *os.File, err error, ok bool) { return nil, nil, nil, false }

// preforked: without cgo no constructor forks a monitor.
func preforked() bool { return false }

func takePrefork() (pid int, sync, ctl, client, dirs *os.File) { return 0, nil, nil, nil, nil }
