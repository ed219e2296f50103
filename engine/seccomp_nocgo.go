//go:build !cgo

package engine

import "errors"

func seccompLibrary() string { return "none" }

// compileFilter needs libseccomp, which needs cgo.
func compileFilter(filterPlan) ([]byte, map[uint32]uint32, error) {
	return nil, nil, errors.New("seccomp: minidocker was built without cgo; run with --security-opt seccomp=unconfined")
}
