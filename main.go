// Command minidocker is a small container engine with a terminal UI that
// shows copy-on-write at work: the image's layers, the container's upper
// directory and the merged view, live. The code is laid out in the README's
// "How the code is laid out"; the command line lives in internal/cli.
package main

import (
	"os"

	"minidocker/engine"
	"minidocker/internal/cli"
)

func main() {
	// A re-executed minidocker is a container's init, monitor or exec
	// helper: it must do that and nothing else.
	if engine.IsInit() {
		engine.Init() // never returns
	}
	engine.Trace("cli: main")
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
