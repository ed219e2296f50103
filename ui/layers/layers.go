// Package layers is the layer view: for an image, as dive shows one, the
// list of its layers, the selected layer's details, the paths that waste
// space, and the tree of the selected layer alone or of every layer up to
// it merged (dive's two modes); for a container, three
// panes side by side — the image's layers below, what the container changed
// above, and the merged view it sees — updated live as the container runs.
// The panes' cursors follow one path (link.go), and a key compares the
// selected path's lower and upper versions (compare.go).
//
// The view reads its own data: ReadStack reads layer directories (and a
// container's upper directory) into a Stack, and WatchUpper follows an
// upper directory, sending the EventsMsg nodes the view applies in place.
package layers

import (
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"minidocker/internal/human"
	"minidocker/overlay"
	"minidocker/ui/input"
	"minidocker/ui/keys"
	"minidocker/ui/theme"
	"minidocker/ui/tree"
)

// Stack is what the view shows, loaded once; live events then change the
// upper and merged trees in place.
type Stack struct {
	// Names labels the lower layers, bottom first (short ID and command).
	Names []string
	// Digests and CreatedBy are each lower layer's digest and the history
	// line that made it, for the selected layer's details; when unknown,
	// the details take them from Names.
	Digests, CreatedBy []string
	// Sizes are the layers' sizes in bytes, when known.
	Sizes []int64
	// Counts are what each lower layer adds, changes and deletes;
	// ReadStack fills them, and New counts the trees of Layers when nil.
	Counts []Counts
	// Layers holds each lower layer alone, with kinds relative to the
	// layers beneath it.
	Layers []*tree.Tree
	// Lower is every lower layer merged. For an image it lists too what
	// the layers above the first removed (a whiteout, an entry an opaque
	// directory hides), marked removed, as dive's tree does.
	Lower *tree.Tree
	// UpTo returns lower layers 0 to i merged, as Lower is for an image;
	// the view asks it only for i below the top layer. Nil when the stack
	// cannot tell: the view then has nothing to show there.
	UpTo func(i int) *tree.Tree
	// Upper is the container's upper directory and Merged what the
	// container sees; both nil for an image.
	Upper, Merged *tree.Tree
	// Efficiency of the lower layers, for an image.
	Efficiency overlay.Efficiency
	// Clues are, for each lower layer and then the upper directory, what
	// the causes of their paths need beyond the trees (overlay.FindClues);
	// the details line and the explain panel use them.
	Clues []map[string]overlay.Clues
	// Open reads the content of an entry, from the layer that provides
	// it; nil when the content cannot be read.
	Open func(n tree.Node) (io.ReadCloser, error)
}

const (
	lowerPane = iota
	upperPane
	mergedPane
)

// FlashTime is how long a changed entry stays highlighted.
const FlashTime = 700 * time.Millisecond

// Model is the layer view.
type Model struct {
	keys  keys.Map
	th    theme.Theme
	stack Stack
	// layer is the selected lower layer (the top one at first), and alone
	// says the tree shows what it changes alone rather than layers 0 to
	// it merged: dive's two modes, which a, < and > change.
	layer  int
	alone  bool
	panes  [3]pane
	focus  int
	side   int // an image's left column list that has the keys, or sideNone
	list   listState
	wasted listState
	opts   tree.Options
	counts []Counts // per lower layer

	compact  bool        // upper and merged only, beside a shell
	legend   bool        // the legend of markers under the panes
	inactive bool        // the keys go elsewhere (a shell): no pane is focused
	filter   input.Model // the filter line; m.opts.Filter follows it
	// filterErr says why the text on the filter line is not the filter
	// in use: a regular expression that does not compile.
	filterErr string
	flash     map[string]int // path → the flash epoch it changed in
	last      string         // the last change seen, for the upper pane's title
	flashGen  int
	// flashPending is set while a flashEndMsg timer runs.
	flashPending bool

	explaining bool // the explain panel is open
	explainTop int  // its first line shown

	path string       // the linked path every pane's cursor follows (link.go)
	gen  int          // counts the times the panes' rows were made again
	cmp  compareState // the compare view (compare.go)

	width, height int
}

// New returns the view of s.
func New(th theme.Theme, km keys.Map, s Stack) Model {
	m := Model{keys: km, th: th, stack: s, layer: len(s.Layers) - 1, flash: map[string]int{}, filter: input.New(th, ""), legend: true}
	m.opts.Hide = map[overlay.DiffKind]bool{}
	m.panes[lowerPane].title = "lower"
	m.panes[upperPane].title = "upper"
	m.panes[mergedPane].title = "merged"
	if !m.Container() {
		m.panes[lowerPane].title = "all layers"
	}
	m.counts = s.Counts
	if len(m.counts) != len(s.Layers) {
		m.counts = make([]Counts, len(s.Layers))
		for i, l := range s.Layers {
			m.counts[i] = count(treeChanges(l))
		}
	}
	m.panes[lowerPane].tree = s.Lower
	m.panes[upperPane].tree = s.Upper
	m.panes[mergedPane].tree = s.Merged
	if m.Container() {
		m.focus = mergedPane
	}
	m.refresh()
	m.path = m.panes[m.focus].selectedPath()
	m.relink()
	return m
}

// Container reports whether the view shows a container (three panes).
func (m Model) Container() bool { return m.stack.Upper != nil }

// Init starts nothing: the owner starts the event stream with WaitEvents.
func (m Model) Init() tea.Cmd { return nil }

// SetSize gives the view w×h cells.
func (m Model) SetSize(w, h int) Model {
	m.width, m.height = w, h
	m.filter = m.filter.SetWidth(max(w/3, 10))
	m.layout()
	m.refresh()
	return m
}

// SetCompact shows only the upper and merged panes (beside a shell), or
// all three.
func (m Model) SetCompact(c bool) Model {
	m.compact = c
	if c && m.focus == lowerPane {
		m.focus = mergedPane
	}
	m.layout()
	return m
}

// SetActive says whether the view has the keys; without them (a shell
// beside it has them) no pane is drawn focused, so that one frame on
// screen says where typing goes.
func (m Model) SetActive(a bool) Model {
	m.inactive = !a
	return m
}

// shown lists the panes on screen, left to right.
func (m Model) shown() []int {
	if m.compact {
		return []int{upperPane, mergedPane}
	}
	return []int{lowerPane, upperPane, mergedPane}
}

// HasFilter reports whether a filter is set; esc then clears it.
func (m Model) HasFilter() bool { return m.opts.Filter != nil }

// Filtering reports whether the filter line takes the keys.
func (m Model) Filtering() bool { return m.filter.Focused() }

func (m *Model) refresh() {
	m.gen++
	for i := range m.panes {
		m.panes[i].refresh(m.opts)
	}
}

// layout sizes the panes: three columns for a container; for an image,
// the layer list on the left and one tree on the right.
func (m *Model) layout() {
	h := max(m.height-3-len(m.legendLines()), 3) // a header line, the legend and two detail lines
	if m.Container() {
		shown := m.shown()
		n := len(shown)
		w := max((m.width-2*n)/n, 4)
		for _, i := range shown {
			m.panes[i].width, m.panes[i].height = w, max(h-2, 1)
		}
		m.panes[mergedPane].width = max(m.width-2*n-(n-1)*w, 4)
		return
	}
	left := m.leftWidth()
	m.panes[lowerPane].width = max(m.width-left-2, 4)
	m.panes[lowerPane].height = max(h-2, 1)
	m.list.clamp(len(m.stack.Layers), m.column().layers)
	m.wasted.clamp(len(m.stack.Efficiency.Files), m.column().wastedRows())
}

func (m Model) leftWidth() int { return min(max(m.width*2/5, 24), 60) }

// ShowLayer shows lower layer i alone, or all of them merged for -1: an
// image just made opens on its top layer, the one made.
func (m Model) ShowLayer(i int) Model {
	if i < 0 {
		m.selectLayer(len(m.stack.Layers)-1, false)
	} else {
		m.selectLayer(i, true)
	}
	return m
}

// Layer is the lower layer shown alone (0 the bottom), -1 when layers
// are shown merged (all of them, or up to the selected one).
func (m Model) Layer() int {
	if m.alone {
		return m.layer
	}
	return -1
}

// Selected returns the entry under the cursor of the focused pane (for an
// image, the tree's, whichever list has the keys).
func (m Model) Selected() (tree.Node, bool) {
	p := &m.panes[m.focus]
	r, ok := p.selected()
	if !ok {
		return tree.Node{}, false
	}
	return p.tree.Node(r), true
}

// SelectedPane names what has the keys: the pane "lower", "upper" or
// "merged", or an image's list "layers" or "wasted".
func (m Model) SelectedPane() string {
	switch m.side {
	case sideLayers:
		return "layers"
	case sideWasted:
		return "wasted"
	}
	return [...]string{"lower", "upper", "merged"}[m.focus]
}

// Rows returns how many rows the focused pane shows; for tests.
func (m Model) Rows() int { return len(m.panes[m.focus].rows) }

// lastLine is the upper pane's note of the last change of a batch: the
// path marked as the upper pane marks it now (a whiteout W, whatever the
// event called it), or "gone" when it left the upper directory.
func (m Model) lastLine(evs []tree.Node) string {
	if len(evs) == 0 || m.stack.Upper == nil {
		return m.last
	}
	p := tree.Clean(evs[len(evs)-1].Path)
	if p == "/" {
		return m.last
	}
	if n, ok := m.stack.Upper.Lookup(p); ok {
		return theme.Marker(n.Mark()) + " " + human.Visible(p)
	}
	return "gone " + human.Visible(p)
}

// Open returns the function that reads an entry's content, or nil.
func (m Model) Open() func(tree.Node) (io.ReadCloser, error) { return m.stack.Open }

// flashTick ends the flash epoch gen after FlashTime.
func flashTick(gen int) tea.Cmd {
	return tea.Tick(FlashTime, func(time.Time) tea.Msg { return flashEndMsg{gen} })
}
