package layers

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"minidocker/ui/tree"
)

// The filter line takes a regular expression matched against whole paths
// (tree.Filter), so it finds what a layer removed as well: whiteouts and
// entries hidden by an opaque directory are rows of the trees too. The
// rows follow the text as it is typed; text that does not compile leaves
// the last filter that did in place and says why on the header line,
// until it compiles again or the line is closed.

// filterUpdate edits the filter line: enter keeps the filter, esc drops
// it, anything else (keys, pastes) goes to the input. The rows are
// flattened again only when the filter changed.
func (m Model) filterUpdate(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	k, isKey := msg.(tea.KeyPressMsg)
	switch {
	case isKey && key.Matches(k, m.keys.Back):
		m.filter = m.filter.SetValue("").Blur()
	case isKey && key.Matches(k, m.keys.Enter):
		// A pattern that does not compile is not kept: the line shows
		// the filter in use again, and the error stays until the next
		// edit.
		if m.filterErr != "" {
			m.filter = m.filter.SetValue(m.opts.Filter.String())
		}
		m.filter = m.filter.Blur()
		return m, nil
	default:
		m.filter, cmd = m.filter.Update(msg)
	}
	m.setFilter(m.filter.Value())
	return m, cmd
}

// setFilter makes pattern the filter when it compiles, else keeps the
// filter in use and notes why.
func (m *Model) setFilter(pattern string) {
	f, err := tree.NewFilter(pattern)
	if err != nil {
		m.filterErr = err.Error()
		return
	}
	m.filterErr = ""
	if f.String() == m.opts.Filter.String() {
		return
	}
	m.opts.Filter = f
	m.refresh()
}
