package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"strings"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/vt"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// The terminal the pictures show: a dark background, light grey text.
var (
	defaultFg = color.RGBA{0xd0, 0xd0, 0xd0, 0xff}
	defaultBg = color.RGBA{0x1c, 0x1c, 0x1c, 0xff}
)

// fallbackFont is read, when the host has it, for the few signs Go Mono
// lacks (▾ ⊘ ◼ …). Without it those cells show a hollow box.
var fallbackFont = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

// renderer draws a grid of terminal cells with Go Mono; box-drawing and
// block characters are drawn as shapes so that borders join across cells.
type renderer struct {
	regular, bold, fallback font.Face
	cellW, cellH, ascent    int
	xMid                    float32 // the middle of the x-height, from the cell's top
	missing                 map[string]bool
}

func newRenderer(size float64) (*renderer, error) {
	face := func(ttf []byte, what string) (font.Face, error) {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return nil, fmt.Errorf("parse font %s: %w", what, err)
		}
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	r := &renderer{missing: map[string]bool{}}
	var err error
	if r.regular, err = face(gomono.TTF, "gomono"); err != nil {
		return nil, err
	}
	if r.bold, err = face(gomonobold.TTF, "gomonobold"); err != nil {
		return nil, err
	}
	if ttf, err := os.ReadFile(fallbackFont); err == nil {
		if r.fallback, err = face(ttf, fallbackFont); err != nil {
			return nil, err
		}
	}
	adv, _ := r.regular.GlyphAdvance('M')
	m := r.regular.Metrics()
	r.cellW = adv.Ceil()
	r.ascent = m.Ascent.Ceil()
	r.cellH = r.ascent + m.Descent.Ceil() + 2
	r.xMid = float32(r.ascent+1) - float32(m.XHeight)/64/2
	return r, nil
}

// screen replays what `tmux capture-pane -p -e -N` printed into a terminal
// emulator of the pane's size, so that each cell's rune and colours can be
// read back. Lines go to their row by cursor address: tmux carries the
// colour state from one line to the next, which a plain replay keeps.
func screen(capture string, w, h int) *vt.Emulator {
	e := vt.NewEmulator(w, h)
	lines := strings.Split(strings.TrimRight(capture, "\n"), "\n")
	for y, line := range lines {
		if y >= h {
			break
		}
		fmt.Fprintf(e, "\x1b[%d;1H%s", y+1, line)
	}
	return e
}

// render draws the emulator's cells onto a new image.
func (r *renderer) render(e *vt.Emulator) *image.RGBA {
	w, h := e.Width(), e.Height()
	const pad = 12
	img := image.NewRGBA(image.Rect(0, 0, w*r.cellW+2*pad, h*r.cellH+2*pad))
	draw.Draw(img, img.Bounds(), image.NewUniform(defaultBg), image.Point{}, draw.Src)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := e.CellAt(x, y)
			if c == nil || c.Width == 0 && c.Content == "" && x > 0 {
				continue // the second half of a wide cell
			}
			width := max(c.Width, 1)
			rect := image.Rect(pad+x*r.cellW, pad+y*r.cellH, pad+(x+width)*r.cellW, pad+(y+1)*r.cellH)
			r.cell(img, rect, c)
		}
	}
	return img
}

func (r *renderer) cell(img *image.RGBA, rect image.Rectangle, c *uv.Cell) {
	fg, bg := resolve(c.Style.Fg, defaultFg), resolve(c.Style.Bg, defaultBg)
	a := c.Style.Attrs
	if a&uv.AttrReverse != 0 {
		fg, bg = bg, fg
	}
	if a&uv.AttrFaint != 0 {
		fg = blend(fg, bg, 0.5)
	}
	draw.Draw(img, rect, image.NewUniform(bg), image.Point{}, draw.Src)
	s := c.Content
	if a&uv.AttrConceal != 0 {
		s = ""
	}
	if s != "" && s != " " {
		rs := []rune(s)
		if len(rs) != 1 || !r.shape(img, rect, rs[0], fg, bg) {
			r.glyphs(img, rect, s, fg, a&uv.AttrBold != 0)
		}
	}
	line := func(y int) {
		draw.Draw(img, image.Rect(rect.Min.X, y, rect.Max.X, y+1), image.NewUniform(fg), image.Point{}, draw.Src)
	}
	if c.Style.Underline != uv.UnderlineNone {
		line(rect.Min.Y + r.ascent + 2)
	}
	if a&uv.AttrStrikethrough != 0 {
		line(rect.Min.Y + r.ascent*2/3)
	}
}

// glyphs draws a grapheme with the first face that has all its runes.
func (r *renderer) glyphs(img *image.RGBA, rect image.Rectangle, s string, fg color.Color, bold bool) {
	face := r.regular
	if bold {
		face = r.bold
	}
	has := func(f font.Face) bool {
		if f == nil {
			return false
		}
		for _, ru := range s {
			if _, ok := f.GlyphAdvance(ru); !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has(face):
	case has(r.fallback):
		face = r.fallback
	default:
		r.missing[s] = true
		in := rect.Inset(2)
		box := image.NewUniform(fg)
		for _, l := range []image.Rectangle{
			{in.Min, image.Pt(in.Max.X, in.Min.Y+1)}, {image.Pt(in.Min.X, in.Max.Y-1), in.Max},
			{in.Min, image.Pt(in.Min.X+1, in.Max.Y)}, {image.Pt(in.Max.X-1, in.Min.Y), in.Max},
		} {
			draw.Draw(img, l, box, image.Point{}, draw.Src)
		}
		return
	}
	d := font.Drawer{Dst: img, Src: image.NewUniform(fg), Face: face,
		Dot: fixed.P(rect.Min.X, rect.Min.Y+r.ascent+1)}
	// Centre a glyph narrower or wider than the cell (a fallback face's).
	if adv := d.MeasureString(s).Ceil(); adv != rect.Dx() {
		d.Dot.X += fixed.I((rect.Dx() - adv) / 2)
	}
	d.DrawString(s)
}

// shape draws box-drawing (U+2500–257F) and block (U+2580–259F) runes as
// rectangles that reach the cell's edges, so lines and bars join up.
func (r *renderer) shape(img *image.RGBA, rect image.Rectangle, ru rune, fg, bg color.Color) bool {
	src := image.NewUniform(fg)
	fill := func(x0, y0, x1, y1 int) {
		draw.Draw(img, image.Rect(x0, y0, x1, y1), src, image.Point{}, draw.Over)
	}
	cx, cy := (rect.Min.X+rect.Max.X)/2, (rect.Min.Y+rect.Max.Y)/2
	if e, ok := boxes[ru]; ok {
		// Arms from the centre: left, right, up, down; weight 1 is light,
		// 2 heavy, 3 double: a bar of three pixels hollowed along its middle.
		arm := func(i, t int) {
			lo, hi := -(t-1)/2, t/2+1
			switch i {
			case 0:
				fill(rect.Min.X, cy+lo, cx+hi, cy+hi)
			case 1:
				fill(cx+lo, cy+lo, rect.Max.X, cy+hi)
			case 2:
				fill(cx+lo, rect.Min.Y, cx+hi, cy+hi)
			case 3:
				fill(cx+lo, cy+lo, cx+hi, rect.Max.Y)
			}
		}
		for i, wt := range e {
			if wt > 0 {
				arm(i, wt)
			}
		}
		src = image.NewUniform(bg)
		for i, wt := range e {
			if wt == 3 {
				arm(i, 1)
			}
		}
		return true
	}
	if arc, ok := arcs[ru]; ok {
		r.arc(img, rect, arc, fg)
		return true
	}
	if r.sign(img, rect, ru, fg) {
		return true
	}
	switch {
	case ru == '█':
		fill(rect.Min.X, rect.Min.Y, rect.Max.X, rect.Max.Y)
	case ru >= '▁' && ru <= '▇': // lower eighths
		n := int(ru-'▁') + 1
		fill(rect.Min.X, rect.Max.Y-rect.Dy()*n/8, rect.Max.X, rect.Max.Y)
	case ru == '▀':
		fill(rect.Min.X, rect.Min.Y, rect.Max.X, cy)
	case ru == '▌':
		fill(rect.Min.X, rect.Min.Y, cx, rect.Max.Y)
	case ru == '▐':
		fill(cx, rect.Min.Y, rect.Max.X, rect.Max.Y)
	case ru >= '░' && ru <= '▓':
		draw.Draw(img, rect, image.NewUniform(blend(fg, color.Transparent, 0.25*float64(ru-'░'+1))), image.Point{}, draw.Over)
	default:
		return false
	}
	return true
}

// arc draws a rounded corner as ╭╮╯╰ look in a terminal: a quarter of an
// ellipse from the middle of one cell edge to the middle of another, centred
// on the cell corner it bends around, one pixel thick.
func (r *renderer) arc(img *image.RGBA, rect image.Rectangle, corner [2]int, fg color.Color) {
	// In the cell's own coordinates; a light line's centre is half a pixel
	// past the middle pixel's edge.
	w, h := rect.Dx(), rect.Dy()
	mx, my := float32(w/2)+0.5, float32(h/2)+0.5
	ox, oy := float32(w*corner[0]), float32(h*corner[1])
	rx, ry := abs32(mx-ox), abs32(my-oy)
	sx, sy := sign(mx-ox), sign(my-oy)
	const steps = 24
	at := func(i int, k float32) (float32, float32) {
		th := float64(i) / steps * math.Pi / 2
		return ox + sx*(rx+k)*float32(math.Cos(th)), oy + sy*(ry+k)*float32(math.Sin(th))
	}
	ras := vector.NewRasterizer(w, h)
	ras.MoveTo(at(0, -0.5))
	for i := 1; i <= steps; i++ {
		ras.LineTo(at(i, -0.5))
	}
	for i := steps; i >= 0; i-- {
		ras.LineTo(at(i, 0.5))
	}
	ras.ClosePath()
	ras.Draw(img, rect, image.NewUniform(fg), image.Point{})
}

// sign draws the few signs of the UI that Go Mono lacks — the fold
// triangles, the opaque square and the whiteout's ⊘ — so the pictures need
// no font from the host.
func (r *renderer) sign(img *image.RGBA, rect image.Rectangle, ru rune, fg color.Color) bool {
	w := float32(rect.Dx())
	cx, cy := w/2, r.xMid
	ras := vector.NewRasterizer(rect.Dx(), rect.Dy())
	poly := func(pts ...[2]float32) {
		ras.MoveTo(pts[0][0], pts[0][1])
		for _, p := range pts[1:] {
			ras.LineTo(p[0], p[1])
		}
		ras.ClosePath()
	}
	ellipse := func(rad float32, reverse bool) {
		const n = 32
		for i := 0; i <= n; i++ {
			th := 2 * math.Pi * float64(i) / n
			if reverse {
				th = -th
			}
			x, y := cx+rad*float32(math.Cos(th)), cy+rad*float32(math.Sin(th))
			if i == 0 {
				ras.MoveTo(x, y)
			} else {
				ras.LineTo(x, y)
			}
		}
		ras.ClosePath()
	}
	switch s := w * 0.38; ru {
	case '▾':
		poly([2]float32{cx - s, cy - s*0.6}, [2]float32{cx + s, cy - s*0.6}, [2]float32{cx, cy + s*0.8})
	case '▴':
		poly([2]float32{cx - s, cy + s*0.6}, [2]float32{cx + s, cy + s*0.6}, [2]float32{cx, cy - s*0.8})
	case '▸':
		poly([2]float32{cx - s*0.6, cy - s}, [2]float32{cx - s*0.6, cy + s}, [2]float32{cx + s*0.8, cy})
	case '◂':
		poly([2]float32{cx + s*0.6, cy - s}, [2]float32{cx + s*0.6, cy + s}, [2]float32{cx - s*0.8, cy})
	case '▶':
		s = w * 0.46
		poly([2]float32{cx - s*0.7, cy - s}, [2]float32{cx - s*0.7, cy + s}, [2]float32{cx + s, cy})
	case '◼', '■':
		s = w * 0.34
		poly([2]float32{cx - s, cy - s}, [2]float32{cx + s, cy - s}, [2]float32{cx + s, cy + s}, [2]float32{cx - s, cy + s})
	case '⊘':
		rad := w * 0.44
		ellipse(rad, false)
		ellipse(rad-1.2, true)
		d, t := rad*0.7071, float32(0.6)
		poly([2]float32{cx - d - t, cy + d - t}, [2]float32{cx + d - t, cy - d - t},
			[2]float32{cx + d + t, cy - d + t}, [2]float32{cx - d + t, cy + d + t})
	default:
		return false
	}
	ras.Draw(img, rect, image.NewUniform(fg), image.Point{})
	return true
}

func abs32(f float32) float32 { return float32(math.Abs(float64(f))) }

func sign(f float32) float32 {
	if f < 0 {
		return -1
	}
	return 1
}

// boxes gives each box-drawing rune the weight of its four arms.
var boxes = map[rune][4]int{
	'─': {1, 1, 0, 0}, '━': {2, 2, 0, 0}, '│': {0, 0, 1, 1}, '┃': {0, 0, 2, 2},
	'┌': {0, 1, 0, 1}, '┐': {1, 0, 0, 1}, '└': {0, 1, 1, 0}, '┘': {1, 0, 1, 0},
	'┏': {0, 2, 0, 2}, '┓': {2, 0, 0, 2}, '┗': {0, 2, 2, 0}, '┛': {2, 0, 2, 0},
	'├': {0, 1, 1, 1}, '┤': {1, 0, 1, 1}, '┬': {1, 1, 0, 1}, '┴': {1, 1, 1, 0}, '┼': {1, 1, 1, 1},
	'═': {3, 3, 0, 0}, '║': {0, 0, 3, 3}, '╔': {0, 3, 0, 3}, '╗': {3, 0, 0, 3}, '╚': {0, 3, 3, 0}, '╝': {3, 0, 3, 0},
	'╴': {1, 0, 0, 0}, '╶': {0, 1, 0, 0}, '╵': {0, 0, 1, 0}, '╷': {0, 0, 0, 1},
}

// arcs gives each rounded corner the cell corner its circle is centred on.
var arcs = map[rune][2]int{'╭': {1, 1}, '╮': {0, 1}, '╯': {0, 0}, '╰': {1, 0}}

// resolve turns a cell colour into RGBA; nil is the terminal's default.
func resolve(c color.Color, def color.RGBA) color.RGBA {
	if c == nil {
		return def
	}
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

// blend mixes a toward b by t (0 is a, 1 is b).
func blend(a, b color.Color, t float64) color.RGBA {
	ar, ag, ab, aa := a.RGBA()
	br, bg, bb, ba := b.RGBA()
	mix := func(x, y uint32) uint8 { return uint8((float64(x)*(1-t) + float64(y)*t) / 257) }
	return color.RGBA{mix(ar, br), mix(ag, bg), mix(ab, bb), mix(aa, ba)}
}

// writePNG renders a capture of a w×h pane to a PNG file.
func (r *renderer) writePNG(path, capture string, w, h int) error {
	img := r.render(screen(capture, w, h))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	return closeWith(f, enc.Encode(f, paletted(img)))
}

func closeWith(c io.Closer, err error) error {
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return err
}

// paletted returns img as a paletted image when it has at most 256
// colours, which makes the PNG several times smaller; otherwise img.
func paletted(img *image.RGBA) image.Image {
	index := map[color.RGBA]uint8{}
	var pal color.Palette
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.RGBAAt(x, y)
			if _, ok := index[c]; ok {
				continue
			}
			if len(pal) == 256 {
				return img
			}
			index[c] = uint8(len(pal))
			pal = append(pal, c)
		}
	}
	p := image.NewPaletted(b, pal)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p.SetColorIndex(x, y, index[img.RGBAAt(x, y)])
		}
	}
	return p
}
