//go:build !cgo

package engine

// nsenterAvailable is false without cgo: see nsenter.go.
const nsenterAvailable = false
