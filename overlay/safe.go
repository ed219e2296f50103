package overlay

import "minidocker/internal/human"

// SafeName returns s with everything that could act on a terminal made
// visible, as human.Visible does.
//
// Deprecated: for the CLI until it moves to internal/cli; use human.Visible.
func SafeName(s string) string { return human.Visible(s) }
