package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"

	"minidocker/internal/human"
	"minidocker/internal/lesson"
	"minidocker/ui/theme"
)

// lessonPanelHeight is the lesson panel's height, frame included: two
// fifths of the body, so that the shell and the trees keep the rest.
func (m Model) lessonPanelHeight() int {
	body := max(m.height-2, 3)
	return min(max(body*2/5, 8), 18, body-4)
}

// lessonDetailHeight is what the container's view gets below the panel.
func (m Model) lessonDetailHeight() int {
	return max(m.height-2-m.lessonPanelHeight()-m.lessonMeterHeight(), 3)
}

// learnBody draws the lessons: the list, or the lesson's panel over its
// container's view.
func (m Model) learnBody() string {
	v := m.learn
	body := max(m.height-2, 3)
	if v.l == nil {
		return m.lessonList(body)
	}
	ph := m.lessonPanelHeight()
	title := fmt.Sprintf("lesson %s · step %d of %d", human.Visible(v.l.Name), min(v.step+1, len(v.l.Steps)), len(v.l.Steps))
	panel := m.th.Box(title, v.panel(m, m.width-2, ph-2), m.width-2, ph-2, m.detail == nil || !m.detail.takesKeys())
	below := m.lessonDetailHeight()
	var rest string
	switch {
	case m.detail != nil:
		rest = m.detail.view(m)
	case v.starting:
		rest = m.th.Box("shell", m.th.Subtle.Render("making the container…"), m.width-2, below-2, false)
	default:
		rest = m.th.Box("shell", m.th.Subtle.Render("no container: "+m.keys.LessonReset.Help().Key+" makes one"), m.width-2, below-2, false)
	}
	if v.meter.On() {
		panel += "\n" + v.meter.View()
	}
	return panel + "\n" + rest
}

// panel is the lesson panel's body, w×h: where the lesson is, the step's
// instruction, its checks (green when they hold, with what is there when
// not) and, once due, its hint. The checks and the hint come first when
// room is short; the instruction is cut.
func (v *learnView) panel(m Model, w, h int) string {
	th := m.th
	head := v.progress(m, w)
	if v.step >= len(v.l.Steps) {
		lines := []string{head, "", th.OK.Render(fmt.Sprintf("All %d steps done.", len(v.l.Steps))),
			th.Subtle.Render(m.keys.Back.Help().Key + ": the other lessons · " + m.keys.LessonReset.Help().Key + ": a new container, from step 1")}
		return strings.Join(lines, "\n")
	}
	s := v.l.Steps[v.step]
	checks := v.checkLines(m, s, w)
	var hint []string
	if v.hint || v.now.Sub(v.stepStart) >= s.HintAfter {
		for i, l := range wrap("hint: "+lesson.Fill(s.Hint, v.env), w) {
			if i == 0 {
				l = th.Warn.Render("hint:") + strings.TrimPrefix(l, "hint:")
			}
			hint = append(hint, l)
		}
		if v.hint && len(s.Solution) > 0 {
			hint = append(hint, th.Subtle.Render("one way: ")+th.Key.Render(human.Visible(solutionText(s.Solution, m.keys.LessonReset.Help().Key))))
		}
	}
	room := h - 1 - len(checks) - len(hint) - 1
	text := textLines(th, lesson.Fill(s.Text, v.env), w)
	if len(text) > room {
		text = text[:max(room, 0)]
		if room > 0 {
			text[room-1] = theme.Fit(text[room-1], w-1) + "…"
		}
	}
	lines := append([]string{head}, text...)
	lines = append(lines, "")
	lines = append(lines, checks...)
	lines = append(lines, hint...)
	if len(lines) > h {
		lines = lines[:h]
	}
	return strings.Join(lines, "\n")
}

// progress is the panel's first line: a mark per step and the step's title.
func (v *learnView) progress(m Model, w int) string {
	var b strings.Builder
	for i := range v.l.Steps {
		switch {
		case v.done[i]:
			b.WriteString(m.th.OK.Render("✓"))
		case i == v.step:
			b.WriteString(m.th.Title.Render("▸"))
		default:
			b.WriteString(m.th.Subtle.Render("·"))
		}
	}
	b.WriteString(" ")
	if v.step < len(v.l.Steps) {
		b.WriteString(m.th.Bold.Render(human.Visible(v.l.Steps[v.step].Title)))
	} else {
		b.WriteString(m.th.Bold.Render(human.Visible(v.l.Title)))
	}
	if v.root != "" {
		b.WriteString(m.th.Warn.Render("  root by " + rootSyscall(v.root)))
	}
	b.WriteString(m.th.Subtle.Render("  " + m.keys.LessonReset.Help().Key + " new container · " + m.keys.LessonHint.Help().Key + " hint"))
	return theme.Fit(b.String(), w)
}

// checkLines shows each check: ✓ when it holds, ✗ and what the place
// shows when not, · before the first evaluation.
func (v *learnView) checkLines(m Model, s lesson.Step, w int) []string {
	out := make([]string, len(s.Checks))
	for i, c := range s.Checks {
		text := human.Visible(c.String())
		switch {
		case i >= len(v.results):
			out[i] = m.th.Subtle.Render("· " + text)
		case v.results[i].OK:
			out[i] = m.th.OK.Render("✓ " + text)
		default:
			out[i] = m.th.Error.Render("✗ "+text) + m.th.Subtle.Render("  now: "+v.results[i].Got)
		}
		out[i] = theme.Fit(out[i], w)
	}
	return out
}

// lessonList draws the lessons to choose from, with the introduction of
// the one under the cursor.
func (m Model) lessonList(h int) string {
	v := m.learn
	var b strings.Builder
	if len(v.list) == 0 {
		b.WriteString(m.th.Subtle.Render("reading the lessons…"))
	}
	for i, l := range v.list {
		line := fmt.Sprintf("%-10s %s · %d steps", human.Visible(l.Name), human.Visible(l.Title), len(l.Steps))
		if i == v.pick {
			b.WriteString(m.th.Selected.Render(theme.Fit("▸ "+line, m.width-4)))
		} else {
			b.WriteString("  " + line)
		}
		b.WriteByte('\n')
	}
	if v.pick < len(v.list) {
		l := v.list[v.pick]
		b.WriteByte('\n')
		for _, t := range textLines(m.th, l.Intro, m.width-4) {
			b.WriteString(t + "\n")
		}
		b.WriteString("\n" + m.th.Subtle.Render(fmt.Sprintf("image %s · from a terminal: minidocker learn %s", human.Visible(l.Image), human.Visible(l.Name))))
	}
	return m.th.Box("lessons", strings.TrimRight(b.String(), "\n"), m.width-2, h-2, true)
}

// lessonHelp is the footer while the lessons are open.
func (m Model) lessonHelp() (head, tail []key.Binding) {
	k := m.keys
	switch {
	case m.learn.l == nil:
		return []key.Binding{k.Up, k.Down, k.Enter}, []key.Binding{k.Back, k.Help, k.Quit}
	case m.detail != nil && m.detail.takesKeys():
		return []key.Binding{k.FocusShell, k.LessonReset, k.LessonHint, k.LessonPrev}, nil
	}
	b := []key.Binding{k.FocusShell, k.LessonReset, k.LessonHint, k.LessonPrev, k.Commit}
	if m.detail != nil {
		b = append(b, m.detail.shortHelp()...)
	}
	return b, []key.Binding{k.Back, k.Help, k.Quit}
}

// textLines lays a step's Markdown out in w columns: paragraphs wrapped,
// code blocks as commands, ** and ` markers left out.
func textLines(th theme.Theme, md string, w int) []string {
	var out, para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, wrap(strings.Join(para, " "), w)...)
			para = nil
		}
	}
	code := false
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			flush()
			code = !code
		case code:
			out = append(out, theme.Fit(th.Key.Render("  $ "+human.Line(l)), w))
		case strings.TrimSpace(l) == "":
			flush()
		default:
			para = append(para, strings.TrimSpace(l))
		}
	}
	flush()
	return out
}

// wrap breaks text at spaces into lines of at most w cells; a word longer
// than w is cut. Markdown's emphasis and code markers are left out.
func wrap(text string, w int) []string {
	text = strings.NewReplacer("**", "", "`", "").Replace(text)
	w = max(w, 8)
	var out []string
	line := ""
	for _, word := range strings.Fields(text) {
		word = human.Line(word)
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) <= w:
			line += " " + word
		default:
			out = append(out, line)
			line = word
		}
		for len([]rune(line)) > w {
			r := []rune(line)
			out = append(out, string(r[:w]))
			line = string(r[w:])
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}
