package keys_test

import (
	"reflect"
	"testing"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"

	"minidocker/ui/keys"
)

// TestHelpKeyMap checks that the bindings drive bubbles/help, and that
// every binding of the help overlay has help text.
func TestHelpKeyMap(t *testing.T) {
	var km help.KeyMap = keys.Default()
	for _, g := range km.FullHelp() {
		for _, b := range g {
			if h := b.Help(); h.Key == "" || h.Desc == "" {
				t.Errorf("binding %v has no help text", b.Keys())
			}
		}
	}
	if len(km.ShortHelp()) == 0 {
		t.Error("no short help")
	}
}

// TestPressMatches checks Press makes, for every key of every binding, a
// key press that the binding matches: the palette runs actions so.
func TestPressMatches(t *testing.T) {
	m := keys.Default()
	v := reflect.ValueOf(m)
	for i := range v.NumField() {
		b, ok := v.Field(i).Interface().(key.Binding)
		if !ok {
			continue
		}
		for _, k := range b.Keys() {
			if msg := keys.Press(k); !key.Matches(msg, b) {
				t.Errorf("%s: Press(%q) is %q, which the binding does not match", v.Type().Field(i).Name, k, msg.String())
			}
		}
	}
}

// TestNoClash checks no two bindings share a key, but for those that mean
// different things in different places: r runs an image and restarts a
// container, / filters a list and searches a pane, n and N answer a
// dialog and move between matches, enter opens and folds, esc goes back
// and says no, ctrl+c quits and interrupts.
func TestNoClash(t *testing.T) {
	shared := map[string]bool{"r": true, "/": true, "n": true, "N": true, "enter": true, "esc": true, "ctrl+c": true}
	m := keys.Default()
	v := reflect.ValueOf(m)
	owner := map[string]string{}
	for i := range v.NumField() {
		b, ok := v.Field(i).Interface().(key.Binding)
		if !ok {
			continue
		}
		name := v.Type().Field(i).Name
		for _, k := range b.Keys() {
			if o, ok := owner[k]; ok && !shared[k] {
				t.Errorf("%q is both %s and %s", k, o, name)
			}
			owner[k] = name
		}
	}
}

// TestHelpGroupsFit checks the help overlay's groups keep to nine rows,
// six groups at most: two rows of three columns fit in 80×24.
func TestHelpGroupsFit(t *testing.T) {
	groups := keys.Default().FullHelp()
	if len(groups) > 6 {
		t.Errorf("%d help groups, want at most 6", len(groups))
	}
	for i, g := range groups {
		if len(g) > 9 {
			t.Errorf("help group %d has %d rows, want at most 9", i, len(g))
		}
	}
}

// TestPullPushInHelp checks the registry's keys are in the help overlay.
func TestPullPushInHelp(t *testing.T) {
	m := keys.Default()
	found := map[string]bool{}
	for _, g := range m.FullHelp() {
		for _, b := range g {
			found[b.Help().Desc] = true
		}
	}
	for _, b := range []key.Binding{m.Pull, m.Push} {
		if !found[b.Help().Desc] {
			t.Errorf("%s %s is not in the help", b.Help().Key, b.Help().Desc)
		}
	}
}
