package palette

import (
	"unicode"
)

// The scores of a match: every matched rune earns matchScore, more when it
// starts s or a word of s, or follows the previous match; every rune
// skipped between two matched ones costs gapCost, and those skipped before
// the first match cost leadCost each, up to maxLead.
const (
	matchScore  = 16
	startBonus  = 24
	wordBonus   = 12
	runBonus    = 14
	gapCost     = 1
	leadCost    = 1
	maxLead     = 8
	unreachable = -1 << 30
)

// Match reports whether the runes of pattern appear in s in order,
// ignoring case, as fzf and k9s match; score is higher for matches that
// start words or run together, and pos are the indexes (in runes) of s
// that the best match uses. An empty pattern matches everything with a
// score of 0.
func Match(pattern, s string) (score int, pos []int, ok bool) {
	p, t := fold(pattern), []rune(s)
	if len(p) == 0 {
		return 0, nil, true
	}
	lt := fold(s)
	if len(p) > len(lt) || !subsequence(p, lt) {
		return 0, nil, false
	}
	// best[i][j] is the best score of p[:i+1] with p[i] on t[j]; from[i][j]
	// the position of p[i-1] in it.
	best := make([][]int, len(p))
	from := make([][]int, len(p))
	for i := range p {
		best[i], from[i] = make([]int, len(lt)), make([]int, len(lt))
		// run is the best of best[i-1][k]+k over k < j-1, and at, its k:
		// a gap from k to j costs (j-k-1)·gapCost.
		run, at := unreachable, -1
		for j := range lt {
			best[i][j], from[i][j] = unreachable, -1
			if i > 0 && j >= 2 && best[i-1][j-2] != unreachable && best[i-1][j-2]+(j-2)*gapCost > run {
				run, at = best[i-1][j-2]+(j-2)*gapCost, j-2
			}
			if lt[j] != p[i] {
				continue
			}
			b := matchScore + bonus(t, j)
			switch {
			case i == 0:
				best[i][j] = b - min(j, maxLead)*leadCost
			default:
				if j >= 1 && best[i-1][j-1] != unreachable {
					best[i][j], from[i][j] = best[i-1][j-1]+b+runBonus, j-1
				}
				if at >= 0 && run-(j-1)*gapCost+b > best[i][j] {
					best[i][j], from[i][j] = run-(j-1)*gapCost+b, at
				}
			}
		}
	}
	last := len(p) - 1
	end := -1
	for j := range lt {
		if best[last][j] != unreachable && (end < 0 || best[last][j] > best[last][end]) {
			end = j
		}
	}
	if end < 0 {
		return 0, nil, false
	}
	pos = make([]int, len(p))
	for i, j := last, end; i >= 0; i-- {
		pos[i] = j
		j = from[i][j]
	}
	return best[last][end], pos, true
}

// bonus is what matching t[j] adds for where it stands: the start of the
// text, or of a word (after a separator, or a capital after a small
// letter).
func bonus(t []rune, j int) int {
	switch {
	case j == 0:
		return startBonus
	case !isWord(t[j-1]) && isWord(t[j]):
		return wordBonus
	case unicode.IsLower(t[j-1]) && unicode.IsUpper(t[j]):
		return wordBonus
	}
	return 0
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// fold lowers every rune, one rune for one, so indexes stay those of s.
func fold(s string) []rune {
	r := []rune(s)
	for i, c := range r {
		r[i] = unicode.ToLower(c)
	}
	return r
}

// subsequence reports whether p appears in t in order: the quick refusal
// before the scoring.
func subsequence(p, t []rune) bool {
	i := 0
	for _, c := range t {
		if i < len(p) && c == p[i] {
			i++
		}
	}
	return i == len(p)
}
