// Package keys holds every key binding of the terminal UI, with the help
// text the footer and the help overlay show. Components match keys only
// through these bindings.
package keys

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Map is every binding of the UI.
type Map struct {
	Quit, Help, Back, Enter, Filter key.Binding
	NextPane, PrevPane, Jump        key.Binding
	Up, Down, Left, Right           key.Binding
	PageUp, PageDown, Top, Bottom   key.Binding
	PrevTab, NextTab                key.Binding
	PrevLayer, NextLayer, Aggregate key.Binding
	Collapse, ChangedOnly, Sort     key.Binding
	Explain, Compare                key.Binding
	HideAdded, HideModified         key.Binding
	HideRemoved, HideUnmodified     key.Binding
	Preview, Extract                key.Binding
	Run, Start, Stop, Remove, Exec  key.Binding
	Load, Prune                     key.Binding
	Commit, Build                   key.Binding
	FocusShell, Attach              key.Binding
	Yes, No                         key.Binding
	Refresh                         key.Binding
	// Legend shows or hides the legend of markers under the layer panes.
	Legend key.Binding
	// Learn opens the guided lessons from home; in a lesson, the F keys
	// work from the shell too: a new container, the hint, another step.
	// LessonPrev's help names both step keys; LessonNext has none of its
	// own in the help.
	Learn, LessonReset, LessonHint key.Binding
	LessonPrev, LessonNext         key.Binding
	// Interrupt quits from anywhere but a focused shell, which gets it.
	Interrupt key.Binding
	// Kill, Restart, Tag and Save are the manager's: Restart shares r with
	// Run, which only the Images panel takes; Remove also removes an
	// image there.
	Kill, Restart, Tag, Save key.Binding
	// Palette opens the command palette over every action and item.
	Palette key.Binding
	// Search looks for text in the logs pane; NextMatch and PrevMatch
	// move between its matches (Search's help names all three).
	Search, NextMatch, PrevMatch key.Binding
	// Pull fetches an image from a registry into the store; Push sends
	// the Images panel's selection to one.
	Pull, Push key.Binding
}

func b(help, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// Default returns the bindings: vim keys and arrows, dive's toggles,
// lazydocker's panels and tabs.
func Default() Map {
	return Map{
		Quit:           b("q", "quit", "q", "ctrl+c"),
		Help:           b("?", "help", "?"),
		Back:           b("esc", "back", "esc"),
		Enter:          b("enter", "open", "enter"),
		Filter:         b("/", "filter", "/"),
		NextPane:       b("tab/⇧tab", "next/prev pane", "tab"),
		PrevPane:       b("shift+tab", "prev pane", "shift+tab"),
		Jump:           b("1-9", "jump to panel", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
		Up:             b("↑/k", "up", "up", "k"),
		Down:           b("↓/j", "down", "down", "j"),
		Left:           b("←/h", "collapse", "left", "h"),
		Right:          b("→/l", "expand", "right", "l"),
		PageUp:         b("pgup", "page up", "pgup", "ctrl+b"),
		PageDown:       b("pgdn", "page down", "pgdown", "ctrl+f"),
		Top:            b("g", "top", "g", "home"),
		Bottom:         b("G", "bottom", "G", "end"),
		PrevTab:        b("[", "prev tab", "["),
		NextTab:        b("]", "next tab", "]"),
		PrevLayer:      b("<", "lower layer", "<", ","),
		NextLayer:      b(">", "upper layer", ">", "."),
		Aggregate:      b("a", "one layer/all", "a"),
		Collapse:       b("space", "fold dir", "space", "enter"),
		ChangedOnly:    b("c", "changed only", "c"),
		Sort:           b("o", "sort name/size", "o"),
		Explain:        b("i", "explain this", "i"),
		Compare:        b("d", "compare versions", "d"),
		HideAdded:      b("ctrl+a", "toggle added", "ctrl+a"),
		HideModified:   b("ctrl+o", "toggle modified", "ctrl+o"),
		HideRemoved:    b("ctrl+r", "toggle removed", "ctrl+r"),
		HideUnmodified: b("ctrl+u", "toggle unmodified", "ctrl+u"),
		Preview:        b("p", "preview", "p"),
		Extract:        b("x", "extract", "x"),
		Run:            b("r", "run", "r"),
		Start:          b("s", "start", "s"),
		Stop:           b("S", "stop", "S"),
		Remove:         b("D", "remove", "D"),
		Exec:           b("e", "exec shell", "e"),
		Load:           b("L", "load image", "L"),
		Prune:          b("P", "prune", "P"),
		Commit:         b("C", "commit", "C"),
		Build:          b("B", "build image", "B"),
		FocusShell:     b("ctrl+g", "shell/tree", "ctrl+g"),
		Attach:         b("F", "full-screen shell", "F"),
		Yes:            b("y", "yes", "y", "Y"),
		No:             b("n", "no", "n", "N", "esc"),
		Refresh:        b("R", "refresh", "R", "ctrl+l"),
		Legend:         b("m", "legend", "m"),
		Interrupt:      b("ctrl+c", "quit", "ctrl+c"),
		Learn:          b("T", "lessons", "T"),
		LessonReset:    b("F5", "new container", "f5"),
		LessonHint:     b("F6", "hint", "f6"),
		LessonPrev:     b("F7/F8", "prev/next step", "f7"),
		LessonNext:     b("F8", "next step", "f8"),
		Kill:           b("K", "kill", "K"),
		Restart:        b("r", "restart", "r"),
		Tag:            b("t", "tag image", "t"),
		Save:           b("W", "save to file", "W"),
		Palette:        b(":", "commands", ":"),
		Search:         b("/ n N", "search", "/"),
		NextMatch:      b("n", "next match", "n"),
		PrevMatch:      b("N", "prev match", "N"),
		Pull:           b("u", "pull image", "u"),
		Push:           b("U", "push image", "U"),
	}
}

// ShortHelp returns the bindings that apply everywhere; with FullHelp it
// makes Map a help.KeyMap.
func (m Map) ShortHelp() []key.Binding { return []key.Binding{m.Help, m.Quit} }

// FullHelp returns the bindings for the help overlay, one column a group,
// each short enough (nine rows) for two rows of columns to fit in 80×24.
// Disabled bindings (running, without root) are left out by bubbles/help;
// shift+tab is told on tab's line, to keep the groups at nine. A lesson's
// F keys are not here: its footer shows them all while it is open, the
// only place they work, which leaves the rows for pull and push.
func (m Map) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{m.Up, m.Down, m.Left, m.Right, m.PageUp, m.PageDown, m.Top, m.Bottom, m.Refresh},
		{m.NextPane, m.Jump, m.PrevTab, m.NextTab, m.Enter, m.Back, m.Filter, m.Search, m.Palette},
		{m.Help, m.Quit, m.Preview, m.Extract, m.FocusShell, m.Attach, m.Exec, m.Commit, m.Learn},
		{m.PrevLayer, m.NextLayer, m.Aggregate, m.Collapse, m.ChangedOnly, m.Sort, m.Legend, m.Explain, m.Compare},
		{m.HideAdded, m.HideModified, m.HideRemoved, m.HideUnmodified, m.Load, m.Pull, m.Push, m.Prune},
		{m.Run, m.Start, m.Stop, m.Restart, m.Kill, m.Remove, m.Build, m.Tag, m.Save},
	}
}

// Press returns the key press that a binding's key string names, as
// key.Matches reads it: "j", "G", ":", "tab", "shift+tab", "ctrl+a",
// "enter", "space", "pgdown", "f5". The command palette runs an action by
// pressing its first key.
func Press(s string) tea.KeyPressMsg {
	var mod tea.KeyMod
	if rest, ok := strings.CutPrefix(s, "ctrl+"); ok {
		mod, s = tea.ModCtrl, rest
	}
	if rest, ok := strings.CutPrefix(s, "shift+"); ok {
		mod, s = mod|tea.ModShift, rest
	}
	if c, ok := named[s]; ok {
		k := tea.KeyPressMsg{Code: c, Mod: mod}
		if c == tea.KeySpace && mod == 0 {
			k.Text = " "
		}
		return k
	}
	r := []rune(s)
	if len(r) == 0 {
		return tea.KeyPressMsg{}
	}
	if mod != 0 {
		return tea.KeyPressMsg{Code: r[0], Mod: mod}
	}
	return tea.KeyPressMsg{Code: r[0], Text: string(r[0])}
}

// named are the keys Press knows by name.
var named = map[string]rune{
	"tab": tea.KeyTab, "esc": tea.KeyEscape, "enter": tea.KeyEnter, "space": tea.KeySpace,
	"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
	"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "backspace": tea.KeyBackspace,
	"home": tea.KeyHome, "end": tea.KeyEnd,
	"f1": tea.KeyF1, "f2": tea.KeyF2, "f3": tea.KeyF3, "f4": tea.KeyF4, "f5": tea.KeyF5, "f6": tea.KeyF6,
	"f7": tea.KeyF7, "f8": tea.KeyF8, "f9": tea.KeyF9, "f10": tea.KeyF10, "f11": tea.KeyF11, "f12": tea.KeyF12,
}
