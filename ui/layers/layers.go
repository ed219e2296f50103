// Package layers is the layer view: for an image, its layers and the tree
// of one layer or of all of them (dive's two modes); for a container, three
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
	"fmt"
	"io"
	"time"

	"charm.land/bubbles/v2/key"
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
	// Sizes are the layers' sizes in bytes, when known.
	Sizes []int64
	// Counts are what each lower layer adds, changes and deletes;
	// ReadStack fills them, and New counts the trees of Layers when nil.
	Counts []Counts
	// Layers holds each lower layer alone, with kinds relative to the
	// layers beneath it.
	Layers []*tree.Tree
	// Lower is every lower layer merged.
	Lower *tree.Tree
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
	keys   keys.Map
	th     theme.Theme
	stack  Stack
	layer  int // the lower layer shown, -1 for all merged
	panes  [3]pane
	focus  int
	opts   tree.Options
	counts []Counts // per lower layer

	compact  bool           // upper and merged only, beside a shell
	legend   bool           // the legend of markers under the panes
	inactive bool           // the keys go elsewhere (a shell): no pane is focused
	filter   input.Model    // the filter line; m.opts.Filter follows it
	flash    map[string]int // path → the flash epoch it changed in
	last     string         // the last change seen, for the upper pane's title
	flashGen int
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
	m := Model{keys: km, th: th, stack: s, layer: -1, flash: map[string]int{}, filter: input.New(th, ""), legend: true}
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
func (m Model) HasFilter() bool { return m.opts.Filter != "" }

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
}

func (m Model) leftWidth() int { return min(max(m.width*2/5, 24), 60) }

// Update handles keys, mouse and change events.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case EventsMsg:
		m.apply(msg.Nodes)
		m.relink()
		m.last = m.lastLine(msg.Nodes)
		again := m.compareAgain(msg.Nodes)
		// One timer at a time ends highlights, epoch by epoch: a timer
		// per batch cost a full redraw each, 20 a second in a busy
		// container. An entry stays lit for one to two FlashTimes.
		if m.flashPending {
			return m, tea.Batch(WaitEvents(msg.Ch), again)
		}
		m.flashPending = true
		return m, tea.Batch(WaitEvents(msg.Ch), flashTick(m.flashGen), again)
	case compareMsg:
		m.compared(msg)
	case flashEndMsg:
		if msg.gen != m.flashGen {
			break
		}
		for p, e := range m.flash {
			if e < msg.gen {
				delete(m.flash, p)
			}
		}
		m.flashGen++
		if len(m.flash) == 0 {
			m.flashPending = false
			break
		}
		return m, flashTick(m.flashGen)
	case tea.KeyPressMsg, tea.PasteMsg, tea.MouseClickMsg, tea.MouseWheelMsg:
		return m.input(msg)
	}
	return m, nil
}

// input handles a key, a paste or the mouse, then links the panes to a
// cursor it moved (link.go).
func (m Model) input(msg tea.Msg) (Model, tea.Cmd) {
	before := m.linkMark()
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if m.Filtering() {
			m, cmd = m.filterUpdate(msg)
		} else {
			m, cmd = m.key(msg)
		}
	case tea.PasteMsg:
		if m.Filtering() {
			m, cmd = m.filterUpdate(msg)
		}
	case tea.MouseClickMsg:
		if !m.cmp.open {
			m.click(msg.Mouse())
		}
	case tea.MouseWheelMsg:
		m.wheel(msg)
	}
	m.follow(before)
	return m, cmd
}

// wheel scrolls the pane under the pointer, or the compare view.
func (m *Model) wheel(msg tea.MouseWheelMsg) {
	if m.cmp.open {
		m.compareWheel(msg.Button)
		return
	}
	p := m.paneAt(msg.Mouse().X)
	if msg.Button == tea.MouseWheelUp {
		m.panes[p].scroll(-3)
	} else if msg.Button == tea.MouseWheelDown {
		m.panes[p].scroll(3)
	}
}

// filterUpdate edits the filter line: enter keeps the filter, esc drops
// it, anything else (keys, pastes) goes to the input. The rows are
// flattened again only when the text changed.
func (m Model) filterUpdate(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	k, isKey := msg.(tea.KeyPressMsg)
	switch {
	case isKey && key.Matches(k, m.keys.Back):
		m.filter = m.filter.SetValue("").Blur()
	case isKey && key.Matches(k, m.keys.Enter):
		m.filter = m.filter.Blur()
	default:
		m.filter, cmd = m.filter.Update(msg)
	}
	if v := m.filter.Value(); v != m.opts.Filter {
		m.opts.Filter = v
		m.refresh()
	}
	return m, cmd
}

func (m Model) key(msg tea.KeyPressMsg) (Model, tea.Cmd) {
	switch {
	case m.explaining:
		return m.explainKey(msg), nil
	case m.cmp.open:
		return m.compareKey(msg)
	case key.Matches(msg, m.keys.Compare):
		return m, m.openCompare()
	}
	p := &m.panes[m.focus]
	k := m.keys
	switch {
	case key.Matches(msg, k.Explain):
		m.openExplain()
	case key.Matches(msg, k.Up):
		p.move(-1)
	case key.Matches(msg, k.Down):
		p.move(1)
	case key.Matches(msg, k.PageUp):
		p.move(-p.height)
	case key.Matches(msg, k.PageDown):
		p.move(p.height)
	case key.Matches(msg, k.Top):
		p.move(-len(p.rows))
	case key.Matches(msg, k.Bottom):
		p.move(len(p.rows))
	case key.Matches(msg, k.Left):
		p.fold(true, m.opts)
	case key.Matches(msg, k.Right):
		p.fold(false, m.opts)
	case key.Matches(msg, k.Collapse):
		if r, ok := p.selected(); ok {
			p.fold(!p.tree.Folded(r), m.opts)
		}
	case key.Matches(msg, k.NextPane):
		m.cycle(1)
	case key.Matches(msg, k.PrevPane):
		m.cycle(-1)
	case key.Matches(msg, k.Filter):
		m.filter = m.filter.Focus()
	case key.Matches(msg, k.Back) && m.opts.Filter != "":
		m.filter = m.filter.SetValue("")
		m.opts.Filter = ""
		m.refresh()
	case key.Matches(msg, k.ChangedOnly):
		m.opts.ChangedOnly = !m.opts.ChangedOnly
		m.refresh()
	case key.Matches(msg, k.Sort):
		m.opts.SortBySize = !m.opts.SortBySize
		m.refresh()
	case key.Matches(msg, k.HideAdded):
		m.toggle(overlay.Added)
	case key.Matches(msg, k.HideModified):
		m.toggle(overlay.Modified)
	case key.Matches(msg, k.HideRemoved):
		m.toggle(overlay.Removed)
	case key.Matches(msg, k.HideUnmodified):
		m.toggle(overlay.Unmodified)
	case key.Matches(msg, k.PrevLayer):
		m.stepLayer(-1)
	case key.Matches(msg, k.NextLayer):
		m.stepLayer(1)
	case key.Matches(msg, k.Legend):
		m.legend = !m.legend
		m.layout()
		m.refresh()
	case key.Matches(msg, k.Aggregate):
		if m.layer < 0 {
			m.selectLayer(len(m.stack.Layers) - 1)
		} else {
			m.selectLayer(-1)
		}
	}
	return m, nil
}

func (m *Model) cycle(d int) {
	if !m.Container() {
		return
	}
	shown := m.shown()
	at := 0
	for i, p := range shown {
		if p == m.focus {
			at = i
		}
	}
	m.focus = shown[(at+d+len(shown))%len(shown)]
}

func (m *Model) toggle(k overlay.DiffKind) {
	m.opts.Hide = cloneHide(m.opts.Hide)
	m.opts.Hide[k] = !m.opts.Hide[k]
	m.refresh()
}

func cloneHide(h map[overlay.DiffKind]bool) map[overlay.DiffKind]bool {
	out := make(map[overlay.DiffKind]bool, len(h)+1)
	for k, v := range h {
		out[k] = v
	}
	return out
}

// stepLayer moves d layers through the cycle all merged, 0, 1, … top, all
// merged, so that < and > work from the start: < from all merged shows the
// top layer, > the bottom one.
func (m *Model) stepLayer(d int) {
	n := len(m.stack.Layers) + 1
	m.selectLayer(((m.layer+1+d)%n+n)%n - 1)
}

// selectLayer shows lower layer i alone, or all of them merged for -1.
func (m *Model) selectLayer(i int) {
	n := len(m.stack.Layers)
	if n == 0 {
		return
	}
	i = max(min(i, n-1), -1)
	m.layer = i
	p := &m.panes[lowerPane]
	t := m.stack.Lower
	switch {
	case i >= 0:
		p.title, t = fmt.Sprintf("layer %d of %d", i, n), m.stack.Layers[i]
	case m.Container():
		p.title = "lower"
	default:
		p.title = "all layers"
	}
	p.setTree(t, m.opts)
	m.gen++
	p.seek(m.path, true, m.opts)
}

// ShowLayer shows lower layer i alone, or all of them merged for -1: an
// image just made opens on its top layer, the one made.
func (m Model) ShowLayer(i int) Model {
	m.selectLayer(i)
	return m
}

// Layer is the lower layer shown alone (0 the bottom), -1 for all of
// them merged.
func (m Model) Layer() int { return m.layer }

// Selected returns the entry under the cursor of the focused pane.
func (m Model) Selected() (tree.Node, bool) {
	p := &m.panes[m.focus]
	r, ok := p.selected()
	if !ok {
		return tree.Node{}, false
	}
	return p.tree.Node(r), true
}

// SelectedPane names the focused pane: "lower", "upper" or "merged".
func (m Model) SelectedPane() string {
	return [...]string{"lower", "upper", "merged"}[m.focus]
}

// Rows returns how many rows the focused pane shows; for tests.
func (m Model) Rows() int { return len(m.panes[m.focus].rows) }

func (m Model) paneAt(x int) int {
	if !m.Container() {
		return lowerPane
	}
	shown := m.shown()
	return shown[min(max(x/(m.panes[upperPane].width+2), 0), len(shown)-1)]
}

func (m *Model) click(ms tea.Mouse) {
	if !m.Container() && ms.X < m.leftWidth() {
		if row := ms.Y - 2; row >= 0 && row <= len(m.stack.Layers) {
			m.selectLayer(row - 1)
		}
		return
	}
	i := m.paneAt(ms.X)
	m.focus = i
	p := &m.panes[i]
	if row := ms.Y - 2; row >= 0 && row < p.height {
		p.cursor = p.offset + row
		p.clamp()
	}
}

// ShortHelp returns the bindings the footer shows for the view.
func (m Model) ShortHelp() []key.Binding {
	k := m.keys
	if m.Filtering() {
		return []key.Binding{k.Enter, k.Back}
	}
	if m.explaining {
		return []key.Binding{k.Up, k.Down, k.Back}
	}
	if m.cmp.open {
		return []key.Binding{k.Up, k.Down, k.PageDown, k.Back}
	}
	b := []key.Binding{k.Up, k.Down, k.Explain, k.Compare, k.Collapse, k.Filter, k.ChangedOnly, k.Sort, k.Aggregate, k.PrevLayer, k.NextLayer}
	if m.Container() {
		b = append([]key.Binding{k.NextPane}, b...)
	}
	return append(b, k.Legend, k.HideAdded, k.HideModified, k.HideRemoved, k.HideUnmodified)
}

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
