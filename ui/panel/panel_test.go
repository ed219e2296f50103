package panel_test

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"minidocker/ui/internal/uitest"
	"minidocker/ui/keys"
	"minidocker/ui/panel"
	"minidocker/ui/theme"
)

func TestCursorAndFilter(t *testing.T) {
	items := []panel.Item{{ID: "a", Text: "alpha"}, {ID: "b", Text: "beta"}, {ID: "c", Text: "gamma"}, {ID: "d", Text: "delta"}}
	m := panel.New(theme.New(true, false), keys.Default(), 1, "Things", "none").SetSize(20, 4).SetItems(items)
	press := func(ks ...string) {
		for _, k := range ks {
			m, _ = m.Update(uitest.Key(k))
		}
	}
	sel := func() string { it, _ := m.Selected(); return it.ID }
	press("j", "j", "j", "j")
	if sel() != "d" {
		t.Errorf("after four downs: %q", sel())
	}
	press("g")
	if sel() != "a" {
		t.Errorf("after g: %q", sel())
	}
	press("/", "t", "a", "enter")
	if m.Len() != 2 || sel() != "b" {
		t.Errorf("filter ta: %d items, selected %q", m.Len(), sel())
	}
	m = m.SetItems(append(items, panel.Item{ID: "e", Text: "theta"}))
	if m.Len() != 3 || sel() != "b" {
		t.Errorf("new items under the filter: %d, selected %q", m.Len(), sel())
	}
	press("esc")
	if m.Len() != 5 || sel() != "b" {
		t.Errorf("filter cleared: %d items, selected %q", m.Len(), sel())
	}
}

// TestSelectAndEmptyFilter checks Select finds an item a filter hides by
// dropping the filter, and that a filter matching nothing says so rather
// than showing the empty panel's text.
func TestSelectAndEmptyFilter(t *testing.T) {
	items := []panel.Item{{ID: "a", Text: "alpha"}, {ID: "b", Text: "beta"}, {ID: "c", Text: "gamma"}}
	m := panel.New(theme.New(true, false), keys.Default(), 1, "Things", "no things: load one").SetSize(40, 5).SetItems(items)
	for _, k := range []string{"/", "z", "z", "enter"} {
		m, _ = m.Update(uitest.Key(k))
	}
	v := ansi.Strip(m.View())
	if !strings.Contains(v, `nothing matches "zz"`) || strings.Contains(v, "load one") {
		t.Errorf("a filter matching nothing shows:\n%s", v)
	}
	m, ok := m.Select("c")
	if it, _ := m.Selected(); !ok || it.ID != "c" || m.HasFilter() || m.Len() != 3 {
		t.Errorf("Select(c) under a filter: ok %v, selected %q, filter %v, %d items", ok, it.ID, m.HasFilter(), m.Len())
	}
	if _, ok := m.Select("nope"); ok {
		t.Error("Select of no item reported ok")
	}
	if v := ansi.Strip(panel.New(theme.New(true, false), keys.Default(), 1, "Things", "no things: load one").SetSize(40, 5).View()); !strings.Contains(v, "no things: load one") {
		t.Errorf("an empty panel without a filter shows:\n%s", v)
	}
}
