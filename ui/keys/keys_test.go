package keys_test

import (
	"testing"

	"charm.land/bubbles/v2/help"

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
