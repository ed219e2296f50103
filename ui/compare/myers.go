package compare

import "slices"

// Op is what an edit does with its lines.
type Op uint8

// The ops of an edit script.
const (
	Equal  Op = iota // a[A:A+N] is b[B:B+N]
	Delete           // a[A:A+N] is gone; B is where it was in b
	Insert           // b[B:B+N] is new; A is where it goes in a
)

// Edit is a run of N lines that one op handles.
type Edit struct {
	Op      Op
	A, B, N int
}

// Lines returns an edit script that turns a into b, runs in order. It is
// the shortest one (Myers, "An O(ND) Difference Algorithm and Its
// Variations", 1986) unless more than maxEdits lines differ once the
// common start and end are set aside: the search, which costs time in the
// product of the lines and the edits, then stops and the middle is given
// as one deletion and one insertion; the second result is false.
func Lines(a, b []string, maxEdits int) ([]Edit, bool) {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var s script
	s.add(Edit{Equal, 0, 0, pre})
	mid, shortest := myers(a[pre:len(a)-suf], b[pre:len(b)-suf], maxEdits)
	for _, e := range mid {
		e.A += pre
		e.B += pre
		s.add(e)
	}
	s.add(Edit{Equal, len(a) - suf, len(b) - suf, suf})
	return s.edits, shortest
}

// script collects edits, joining a run to the one before when they
// continue each other.
type script struct{ edits []Edit }

func (s *script) add(e Edit) {
	if e.N == 0 {
		return
	}
	if n := len(s.edits); n > 0 {
		l := &s.edits[n-1]
		if l.Op == e.Op && l.A+l.N*adv(e.Op, true) == e.A && l.B+l.N*adv(e.Op, false) == e.B {
			l.N += e.N
			return
		}
	}
	s.edits = append(s.edits, e)
}

// adv says whether an op moves through a (inA) or b by its lines.
func adv(op Op, inA bool) int {
	if op == Equal || op == Delete && inA || op == Insert && !inA {
		return 1
	}
	return 0
}

// myers is the greedy forward search: for each number of edits d, the
// furthest point reached on each diagonal k = x-y, following equal lines
// for free (a snake). The furthest points of every round are kept, so that
// the path is found again backwards from the end.
func myers(a, b []string, maxD int) ([]Edit, bool) {
	n, m := len(a), len(b)
	switch {
	case n == 0 && m == 0:
		return nil, true
	case n == 0:
		return []Edit{{Insert, 0, 0, m}}, true
	case m == 0:
		return []Edit{{Delete, 0, 0, n}}, true
	}
	limit := min(n+m, max(maxD, 0))
	off := limit + 1
	v := make([]int32, 2*limit+3)
	var trace [][]int32
	for d := 0; d <= limit; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = int(v[off+k+1]) // down: a line of b inserted
			} else {
				x = int(v[off+k-1]) + 1 // right: a line of a deleted
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = int32(x)
			if x >= n && y >= m {
				trace = append(trace, slices.Clone(v[off-d:off+d+1]))
				return backtrack(trace, n, m), true
			}
		}
		trace = append(trace, slices.Clone(v[off-d:off+d+1]))
	}
	return []Edit{{Delete, 0, 0, n}, {Insert, n, 0, m}}, false
}

// backtrack walks from (n, m) back to (0, 0) through the rounds of trace
// (trace[d][k+d] is how far diagonal k got with d edits), collecting the
// edits, then returns them in order.
func backtrack(trace [][]int32, n, m int) []Edit {
	var rev []Edit
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		prev := trace[d-1]
		at := func(k int) int { return int(prev[k+d-1]) }
		k := x - y
		pk := k - 1
		if k == -d || k != d && at(k-1) < at(k+1) {
			pk = k + 1
		}
		px := at(pk)
		py := px - pk
		sx, sy := px+1, py // after deleting a[px]
		if pk == k+1 {
			sx, sy = px, py+1 // after inserting b[py]
		}
		rev = append(rev, Edit{Equal, sx, sy, x - sx})
		if pk == k+1 {
			rev = append(rev, Edit{Insert, px, py, 1})
		} else {
			rev = append(rev, Edit{Delete, px, py, 1})
		}
		x, y = px, py
	}
	rev = append(rev, Edit{Equal, 0, 0, x})
	var s script
	for i := len(rev) - 1; i >= 0; i-- {
		s.add(rev[i])
	}
	return s.edits
}
