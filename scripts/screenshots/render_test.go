package main

import (
	"image/color"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScreenKeepsColours replays a capture whose colour runs on from one
// line to the next, as tmux writes them, and reads the cells back.
func TestScreenKeepsColours(t *testing.T) {
	capture := "\x1b[38;5;114m+ added\n still green\x1b[39m \x1b[48;5;53mcursor\x1b[49m\n╭─╮"
	e := screen(capture, 20, 3)
	green := resolve(e.CellAt(0, 0).Style.Fg, defaultFg)
	if green == defaultFg {
		t.Fatal("the first line lost its colour")
	}
	for _, tc := range []struct {
		name   string
		x, y   int
		rune   string
		fg, bg color.RGBA
	}{
		{"coloured", 2, 0, "a", green, defaultBg},
		{"carried to the next line", 1, 1, "s", green, defaultBg},
		{"background", 13, 1, "c", defaultFg, resolve(e.CellAt(13, 1).Style.Bg, defaultBg)},
		{"box drawing", 1, 2, "─", defaultFg, defaultBg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.CellAt(tc.x, tc.y)
			got := []any{c.Content, resolve(c.Style.Fg, defaultFg), resolve(c.Style.Bg, defaultBg)}
			if diff := cmp.Diff([]any{tc.rune, tc.fg, tc.bg}, got); diff != "" {
				t.Errorf("cell (%d,%d) (-want +got):\n%s", tc.x, tc.y, diff)
			}
		})
	}
	if bg := resolve(e.CellAt(13, 1).Style.Bg, defaultBg); bg == defaultBg {
		t.Error("the cursor's background was lost")
	}
}

// TestRenderPaintsBackgrounds checks a cell's background reaches the PNG
// and that nothing is drawn as a missing glyph.
func TestRenderPaintsBackgrounds(t *testing.T) {
	r, err := newRenderer(15)
	if err != nil {
		t.Fatal(err)
	}
	img := r.render(screen("\x1b[48;5;53m  \x1b[49m ▾ ⊘ ◼ ●", 12, 1))
	const pad = 12
	want := resolve(screen("\x1b[48;5;53mx", 1, 1).CellAt(0, 0).Style.Bg, defaultBg)
	if got := img.RGBAAt(pad+1, pad+1); got != want {
		t.Errorf("background pixel = %v, want %v", got, want)
	}
	if got := img.RGBAAt(pad+2*r.cellW+1, pad+1); got != defaultBg {
		t.Errorf("default background pixel = %v, want %v", got, defaultBg)
	}
	if len(r.missing) > 0 && r.fallback != nil {
		t.Errorf("drawn as boxes: %v", r.missing)
	}
}

func TestBox(t *testing.T) {
	screen := "╭─ lower ─╮╭─ upper ─╮\n│ a       ││ b  W    │\n╰─────────╯╰─────────╯\n"
	if got, want := box(screen, "upper"), " b  W    \n"; got != want {
		t.Errorf("box(upper) = %q, want %q", got, want)
	}
	if got := box(screen, "merged"); got != "" {
		t.Errorf("box(merged) = %q, want nothing", got)
	}
}
