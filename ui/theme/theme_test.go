package theme_test

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	_ "minidocker/ui/internal/uitest" // the -update flag, so go test ./ui/... -update works
	"minidocker/ui/theme"
)

// TestBoxSize checks a box takes exactly its cells whatever its title and
// body, so that panes line up.
func TestBoxSize(t *testing.T) {
	for _, th := range []theme.Theme{theme.New(true, false), theme.New(false, true)} {
		for _, w := range []int{1, 2, 3, 5, 10, 30} {
			for _, title := range []string{"", "t", "a long title that will not fit at all", "wide 漢字 title"} {
				for _, body := range []string{"", "x", "a line longer than the box is wide\nsecond\nthird\nfourth"} {
					for _, focused := range []bool{false, true} {
						lines := strings.Split(th.Box(title, body, w, 3, focused), "\n")
						if len(lines) != 5 {
							t.Errorf("w=%d title %q: %d lines", w, title, len(lines))
						}
						for _, l := range lines {
							if got := ansi.StringWidth(l); got != w+2 {
								t.Errorf("w=%d title %q body %q: line %q is %d wide", w, title, body, ansi.Strip(l), got)
							}
						}
					}
				}
			}
		}
	}
}
