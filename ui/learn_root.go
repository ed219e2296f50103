package ui

import (
	tea "charm.land/bubbletea/v2"
)

// stepRoot is how the container of the step under way enters its root:
// the step's (lesson.Step.Root), or the lesson's once every step is done.
func (v *learnView) stepRoot() string {
	if v.step < len(v.l.Steps) {
		return v.l.Steps[v.step].Root
	}
	return v.l.Root
}

// followStep makes the lesson's container again, after cmd, when the step
// under way runs on a container that enters its root otherwise than the
// one there is (a lesson's container block): what the step's checks read
// must be the container the step says. A container being made is let be:
// followStep runs again once it has started.
func (m Model) followStep(cmd tea.Cmd) (Model, tea.Cmd) {
	v := m.learn
	if v == nil || v.l == nil || v.starting || v.step >= len(v.l.Steps) || v.stepRoot() == v.root {
		return m, cmd
	}
	m, start := m.makeContainer(false)
	return m, tea.Batch(cmd, start)
}

// rootNote says, for the status line, how a container made for a step
// enters its root, when that is not by pivot_root(2).
func rootNote(root string) string {
	if root == "" {
		return ""
	}
	return " (it enters its root by " + rootSyscall(root) + ")"
}

// rootSyscall names a lesson's way into a root by the calls it makes.
func rootSyscall(root string) string {
	switch root {
	case "":
		return "pivot_root(2)"
	case "no-pivot":
		return "MS_MOVE and chroot(2), as runc --no-pivot"
	case "chroot":
		return "chroot(2)"
	}
	return root
}
