//go:build !cgo

package engine

import "os"

// earlyEnv carries the early cgroups' parent directories to a monitor.
const earlyEnv = "_MINIDOCKER_EARLY_CGROUPS"

// adoptInit: without cgo no constructor starts the init (see spawn_cgo.go).
func adoptInit() (p *initProc, join *os.File, err error, ok bool) { return nil, nil, nil, false }
