package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"minidocker/ui/dialog"
	"minidocker/ui/theme"
)

// key routes a key: the dialog, the help overlay, a focused shell, the
// opened item, then the home screen, in that order.
func (m Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	shell := m.detail != nil && m.detail.shellFocused()
	switch {
	case key.Matches(msg, k.Interrupt) && !shell && m.building() && !m.build.quitAfter:
		return m.interruptBuild()
	case key.Matches(msg, k.Interrupt) && !shell:
		return m, m.quit()
	case m.dialog.Active():
		var cmd tea.Cmd
		m.dialog, cmd = m.dialog.Update(msg)
		return m, cmd
	case m.regForm != nil:
		return m.regFormKey(msg)
	case m.xfer != nil:
		return m.transferKey(msg)
	case m.palette != nil || m.commit != nil:
		return m.toOverlay(msg)
	case m.showHelp:
		switch {
		case key.Matches(msg, k.Help, k.Back, k.Quit):
			m.showHelp, m.helpPage = false, 0
		case key.Matches(msg, k.NextPane, k.PrevPane, k.NextTab, k.PrevTab):
			m.helpPage = 1 - m.helpPage
		}
		return m, nil
	case m.learn != nil:
		return m.learnKey(msg)
	case m.detail != nil && m.detail.takesKeys():
		return m.routeDetail(msg)
	case m.detail == nil && m.focus < mainPanel && m.panels[m.focus].Filtering():
		var cmd tea.Cmd
		m.panels[m.focus], cmd = m.panels[m.focus].Update(msg)
		m.main = m.main.SetText(m.mainText())
		return m, cmd
	case m.detail == nil && m.build != nil && m.build.takesKeys():
		return m.buildKey(msg)
	case m.refusedKey(msg) != "":
		m.status = m.refusedKey(msg) + " is off (presenter)"
		return m, nil
	case m.detail != nil && m.detail.strayKey(msg, k):
		m.status = "keys go to the tree; " + k.FocusShell.Help().Key + " to type in the shell"
		return m, nil
	case key.Matches(msg, k.Quit) && m.building():
		return m.leaveBuild(askQuitBuild, "Quit", "Cancel the build and quit?")
	case key.Matches(msg, k.Quit):
		return m, m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return m, nil
	case key.Matches(msg, k.Palette):
		return m.openPalette(), nil
	case m.detail != nil && m.detail.kind == kindContainer && key.Matches(msg, k.Start, k.Stop, k.Restart, k.Kill, k.Remove):
		return m.containerAction(msg, m.detail.id, m.detail.title)
	case m.detail != nil && m.detail.kind == kindContainer && key.Matches(msg, k.Commit):
		return m.openCommit()
	case m.detail != nil:
		if key.Matches(msg, k.Back) && !m.detail.usesBack() {
			m.detail.close()
			m.detail = nil
			return m, nil
		}
		return m.routeDetail(msg)
	case m.build != nil:
		return m.buildKey(msg)
	}
	return m.homeKey(msg)
}

// toOverlay hands a key or a paste to the palette or the commit dialog,
// whichever is open: it has them all while it shows.
func (m Model) toOverlay(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	if m.palette != nil {
		p, c := m.palette.Update(msg)
		m.palette, cmd = &p, c
	} else {
		c, cc := m.commit.Update(msg)
		m.commit, cmd = &c, cc
	}
	return m, cmd
}

// building reports whether a build is under way.
func (m Model) building() bool { return m.build != nil && !m.build.ended }

// paste routes a bracketed paste to what takes typed text: the dialog, a
// focused shell or filter line of the opened item, or a home panel's
// filter line. Elsewhere a paste means nothing.
func (m Model) paste(msg tea.PasteMsg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch {
	case m.dialog.Active():
		m.dialog, cmd = m.dialog.Update(msg)
	case m.regForm != nil:
		return m.regFormPaste(msg)
	case m.xfer != nil:
	case m.palette != nil || m.commit != nil:
		return m.toOverlay(msg)
	case m.detail != nil && m.detail.takesKeys():
		return m.routeDetail(msg)
	case m.detail == nil && m.build != nil && m.build.takesKeys():
		b := *m.build
		b.live.view, cmd = b.live.view.Update(msg)
		m.build = &b
	case m.detail == nil && m.focus < mainPanel && m.panels[m.focus].Filtering():
		m.panels[m.focus], cmd = m.panels[m.focus].Update(msg)
		m.main = m.main.SetText(m.mainText())
	}
	return m, cmd
}

// quit ends the program, closing the opened item's streams and
// cancelling a pull or push (WaitTransfer waits for its end).
func (m Model) quit() tea.Cmd {
	if m.xfer != nil {
		m.xfer.run.cancel()
	}
	if m.detail != nil {
		m.detail.close()
	}
	if m.build != nil {
		m.build.close()
	}
	return tea.Quit
}

// routeDetail hands a message to the opened item, and dialog answers to
// the actions.
func (m Model) routeDetail(msg tea.Msg) (tea.Model, tea.Cmd) {
	if d, ok := msg.(dialog.DoneMsg); ok {
		return m.answer(d)
	}
	if _, ok := msg.(stackMsg); ok {
		m.busy = ""
	}
	if m.detail == nil && m.build != nil && m.build.live.shown {
		// The live layer view's own timers (the end of a change's
		// highlight).
		b := *m.build
		var cmd tea.Cmd
		b.live.view, cmd = b.live.view.Update(msg)
		m.build = &b
		return m, cmd
	}
	if m.detail == nil {
		return m, nil
	}
	d, cmd := m.detail.update(msg, m)
	m.detail = &d
	return m, cmd
}

// mouse routes clicks and the wheel to what is under the pointer.
func (m Model) mouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	if m.dialog.Active() || m.showHelp || m.commit != nil || m.palette != nil || m.regForm != nil || m.xfer != nil {
		return m, nil
	}
	if m.learn != nil {
		return m.lessonMouse(msg)
	}
	ms := msg.Mouse()
	ms.Y-- // the header line
	if m.detail != nil {
		return m.routeDetail(translate(msg, ms))
	}
	if m.build != nil {
		return m.buildMouse(translate(msg, ms).(tea.MouseMsg))
	}
	if ms.X >= m.sideWidth() {
		m.focus = mainPanel
		var cmd tea.Cmd
		m.main, cmd = m.main.Update(msg)
		return m, cmd
	}
	top := 0
	for i := range m.panels {
		h := m.panelHeight(i)
		if ms.Y >= top && ms.Y < top+h {
			m = m.focusPanel(i)
			ms.Y -= top
			m.panels[i], _ = m.panels[i].Update(translate(msg, ms))
			m.main = m.main.SetText(m.mainText())
			break
		}
		top += h
	}
	return m, nil
}

func (m Model) panelHeight(i int) int {
	body := max(m.height-2, 3)
	if i == 0 {
		return body - 2*(body/3)
	}
	return body / 3
}

// translate moves a mouse message to new coordinates.
func translate(msg tea.MouseMsg, ms tea.Mouse) tea.Msg {
	switch msg.(type) {
	case tea.MouseClickMsg:
		return tea.MouseClickMsg(ms)
	case tea.MouseWheelMsg:
		return tea.MouseWheelMsg(ms)
	case tea.MouseReleaseMsg:
		return tea.MouseReleaseMsg(ms)
	}
	return tea.MouseMotionMsg(ms)
}

// footer shows the keys that apply now, always ending with help and quit
// (and back, in an opened item): what does not fit is cut before them.
func (m Model) footer() string {
	k := m.keys
	switch {
	case m.dialog.Active(), m.commit != nil, m.palette != nil, m.regForm != nil, m.xfer != nil:
		// Typed keys go to the box: ? and q are its letters until it closes.
		for _, s := range []string{"esc closes it, then ? help, q quit", "esc, then ? help, q quit"} {
			if len(s) <= m.width {
				return theme.Fit(m.th.Subtle.Render(s), m.width)
			}
		}
		return theme.Fit(m.th.Subtle.Render("? help, q quit"), m.width)
	case m.learn == nil && m.detail != nil && m.detail.shellFocused():
		// Typed keys go to the shell, ? and q too until ctrl+g gives the
		// keys back, which the end of the line says whatever is cut.
		head := m.th.Warn.Render("keys go to the shell") + m.th.Subtle.Render(" · ") + m.help.ShortHelpView([]key.Binding{k.FocusShell})
		end := m.th.Subtle.Render(" gives them back, then ? help, q quit")
		if ansi.StringWidth(head)+ansi.StringWidth(end) > m.width {
			end = m.th.Subtle.Render(" then ? help, q quit")
			head = ansi.Truncate(head, max(m.width-ansi.StringWidth(end), 0), "…")
		}
		return theme.Fit(head+end, m.width)
	}
	head, tail := m.footerKeys()
	return m.fitFooter(head, tail)
}

// footerKeys are the keys the footer offers now: head as many as fit,
// tail always.
func (m Model) footerKeys() (head, tail []key.Binding) {
	k := m.keys
	switch {
	case m.learn != nil:
		return m.lessonHelp()
	case m.detail != nil:
		return m.detail.shortHelp(), []key.Binding{k.Back, k.Help, k.Quit}
	case m.build != nil:
		return m.build.shortHelp(k), []key.Binding{k.Help, k.Quit}
	}
	// The selection's actions first, as lazydocker's panels show them.
	head = []key.Binding{k.Enter}
	var more []key.Binding
	switch m.current() {
	case imagesPanel:
		head = append(head, k.Run, k.Remove, k.Tag, k.Save)
		more = []key.Binding{k.Load, k.Pull, k.Push, k.Prune, k.Build}
	case containersPanel:
		head = append(head, k.Start, k.Stop, k.Restart, k.Kill, k.Remove, k.Exec)
	}
	head = append(append(head, k.Palette, k.Learn), more...)
	head = append(head, k.Filter, k.Jump, k.NextPane, k.Up, k.Down, k.PrevTab, k.NextTab)
	return head, []key.Binding{k.Help, k.Quit}
}

// fitFooter shows as many of head as fit before tail, which is always
// shown whole; an ellipsis marks the cut. (bubbles/help's own width limit
// lets an item through when the ellipsis does not fit.)
func (m Model) fitFooter(head, tail []key.Binding) string {
	sep := m.th.Subtle.Render(" • ")
	more := m.th.Subtle.Render(" …")
	// On a narrow screen the tail keeps ? and q, its last two, at least.
	// (Its items are drawn one by one: ShortHelpView cuts at the width.)
	t := m.joinKeys(tail, sep)
	for len(tail) > 2 && ansi.StringWidth(t) > m.width {
		tail = tail[1:]
		t = m.joinKeys(tail, sep)
	}
	room := m.width - ansi.StringWidth(t) - ansi.StringWidth(sep)
	var all []string
	for _, b := range head {
		if b.Enabled() {
			all = append(all, m.help.ShortHelpView([]key.Binding{b}))
		}
	}
	var items []string
	used, sw, mw := 0, ansi.StringWidth(sep), ansi.StringWidth(more)
	for i, item := range all {
		w := ansi.StringWidth(item)
		if len(items) > 0 {
			w += sw
		}
		// Every item but the last leaves room for the ellipsis.
		if used+w > room || i < len(all)-1 && used+w+mw > room {
			if len(items) > 0 {
				items[len(items)-1] += more
			}
			break
		}
		items = append(items, item)
		used += w
	}
	switch {
	case len(items) > 0 && t != "":
		t = strings.Join(items, sep) + sep + t
	case len(items) > 0:
		t = strings.Join(items, sep)
	}
	return theme.Fit(t, m.width)
}

// joinKeys draws the enabled bindings of bs, sep between them.
func (m Model) joinKeys(bs []key.Binding, sep string) string {
	var parts []string
	for _, b := range bs {
		if b.Enabled() {
			parts = append(parts, m.help.ShortHelpView([]key.Binding{b}))
		}
	}
	return strings.Join(parts, sep)
}

// helpView is the help overlay: every binding, by group, and the legend
// of the layer view's markers, together when they fit the screen, else
// on two pages.
func (m Model) helpView() string {
	keys := m.helpColumns(m.width - 6)
	if m.src.NoRun != "" {
		keys += "\n\n" + m.th.Warn.Render(m.src.NoRun)
	}
	if len(m.refused) > 0 {
		keys += "\n\n" + m.th.Warn.Render(m.refusedNote(m.width-6))
	}
	legend := m.legendHelp(m.width - 6)
	closeHint := m.th.Subtle.Render("? or esc to close")
	// The dialog's frame, padding and title line take 3 lines.
	if lipgloss.Height(keys)+1+lipgloss.Height(legend)+3 <= m.height {
		return m.th.Dialog.Render(m.th.Title.Render("keys") + " " + closeHint + "\n" + keys + "\n\n" + legend)
	}
	title, turn, body := "keys", " · tab: legend", keys
	if m.helpPage == 1 {
		title, turn, body = "legend", " · tab: keys", legend
	}
	return m.th.Dialog.Render(m.th.Title.Render(title) + " " + closeHint + m.th.Subtle.Render(turn) + "\n" + body)
}

// refusedNote says which keys presenter mode turned off, by key and
// name, or by key alone when that would pass w cells.
func (m Model) refusedNote(w int) string {
	note := "presenter mode: " + refusedList(m.refused) + " are off"
	if ansi.StringWidth(note) <= w {
		return note
	}
	var ks []string
	for _, b := range m.refused {
		ks = append(ks, b.Help().Key)
	}
	return "presenter mode: the keys " + strings.Join(ks, ", ") + " are off"
}

// overlayCenter draws box over the middle of screen.
func overlayCenter(screen, box string, w, h int) string {
	lines := strings.Split(screen, "\n")
	bl := strings.Split(box, "\n")
	bw := lipgloss.Width(box)
	if bw > w {
		for i := range bl {
			bl[i] = ansi.Truncate(bl[i], w, "…")
		}
		bw = w
	}
	x := max((w-bw)/2, 0)
	y := max((h-len(bl))/2, 0)
	for i, l := range bl {
		if y+i >= len(lines) {
			break
		}
		row := theme.Fit(lines[y+i], w)
		lines[y+i] = ansi.Cut(row, 0, x) + theme.Fit(l, bw) + ansi.Cut(row, x+bw, w)
	}
	return strings.Join(lines, "\n")
}

// helpColumns lays the help groups out in columns, starting a new row of
// columns when the next would pass w.
func (m Model) helpColumns(w int) string {
	var rows, row []string
	used := 0
	for _, g := range m.keys.FullHelp() {
		col := m.help.FullHelpView([][]key.Binding{g})
		cw := lipgloss.Width(col) + 3
		if used+cw > w && len(row) > 0 {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		row = append(row, m.th.HelpColumn.Render(col))
		used += cw
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(rows, "\n\n")
}
