package panel_test

import (
	"testing"

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
