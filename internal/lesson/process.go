package lesson

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// commLen is the most of a command name the kernel keeps: TASK_COMM_LEN
// less its NUL (proc(5), /proc/pid/comm).
const commLen = 15

// validProcessName checks the NAME of a process check: a command name as
// /proc/N/comm holds it.
func validProcessName(name string) error {
	switch {
	case name == "" || strings.Contains(name, "/"):
		return fmt.Errorf("process %q: want a command name, such as sleep, not a path", name)
	case len(name) > commLen:
		return fmt.Errorf("process %q: the kernel keeps %d bytes of a command name: write %q", name, commLen, name[:commLen])
	}
	return nil
}

// hasLine reports whether b has a line that is text, whole (the last line
// need not end in a newline).
func hasLine(b []byte, text string) bool {
	for line := range bytes.Lines(b) {
		if string(bytes.TrimSuffix(line, []byte("\n"))) == text {
			return true
		}
	}
	return false
}

// proc is a process of the container's PID namespace, as its /proc
// numbers and names it.
type proc struct {
	pid  int
	comm string
}

// process looks for a live process named name in the container's PID
// namespace, through the /proc the container mounted: the procfs of its
// namespace, which numbers the processes as they see themselves. What the
// check shows when it fails is the processes there are.
func (e *evaluator) process(name string) (bool, string, error) {
	r, err := e.root(e.env.Root, "the container's root")
	if err != nil {
		return false, "", err
	}
	procs, err := liveProcs(rootView{r})
	if err != nil {
		return false, "", fmt.Errorf("read the container's /proc: %w", err)
	}
	var seen []string
	for _, p := range procs {
		if p.comm == name {
			return true, fmt.Sprintf("%s is PID %d", name, p.pid), nil
		}
		seen = append(seen, fmt.Sprintf("%d %s", p.pid, p.comm))
	}
	return false, strings.Join(seen, ", "), nil
}

// liveProcs lists the processes of v's /proc, by PID, leaving out those
// that ended (zombies, state Z, wait for their parent to reap them) and
// those that end while being read.
func liveProcs(v rootView) ([]proc, error) {
	names, err := v.readDir("proc")
	if err != nil {
		return nil, err
	}
	var out []proc
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid <= 0 {
			continue
		}
		stat, err := v.readFile("proc/" + n + "/stat")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		comm, state, ok := parseStat(stat)
		if !ok || state == 'Z' || state == 'X' {
			continue
		}
		out = append(out, proc{pid, comm})
	}
	slices.SortFunc(out, func(a, b proc) int { return a.pid - b.pid })
	return out, nil
}

// parseStat reads the command name and the state of /proc/N/stat: "PID
// (COMM) STATE …", where COMM may hold spaces and parentheses, so it ends
// at the last ")".
func parseStat(b []byte) (comm string, state byte, ok bool) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open || end+2 >= len(b) {
		return "", 0, false
	}
	return string(b[open+1 : end]), b[end+2], true
}
