package overlay

import (
	"errors"
	"fmt"
	"math"

	"minidocker/internal/human"
)

// CIRules are dive's three CI rules on a stack of layers (dive's
// .dive-ci: lowestEfficiency, highestWastedBytes,
// highestUserWastedPercent).
type CIRules struct {
	// LowestEfficiency is the lowest Efficiency.Score allowed, from 0 to 1.
	LowestEfficiency float64
	// HighestWastedBytes is the most bytes Efficiency.Wasted may be, or
	// Disabled for no limit.
	HighestWastedBytes int64
	// HighestUserWastedPercent is the highest UserWasted allowed: a
	// fraction, 0 or more (wasted bytes may exceed the layers' above the
	// first, so more than 1 is a limit too).
	HighestUserWastedPercent float64
}

// Disabled turns off the highest-wasted-bytes rule.
const Disabled = -1

// DefaultCIRules are dive's defaults.
var DefaultCIRules = CIRules{LowestEfficiency: 0.9, HighestWastedBytes: Disabled, HighestUserWastedPercent: 0.1}

// ErrBadRule is the category of a CI threshold that is not a number in
// its range.
var ErrBadRule = errors.New("invalid CI threshold")

// Verdict is a CI rule's outcome.
type Verdict uint8

// The verdicts.
const (
	Pass Verdict = iota
	Fail
	Skip
)

// String returns the verdict as dive prints it: PASS, FAIL or SKIP.
func (v Verdict) String() string {
	switch v {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	}
	return "SKIP"
}

// RuleResult is one CI rule's outcome.
type RuleResult struct {
	Name    string // dive's name, such as "lowest-efficiency"
	Verdict Verdict
	Detail  string // the measure against the threshold, such as "0.8312 >= 0.9000"
}

// UserWasted is dive's user wasted percent, as a fraction: the wasted bytes
// against the bytes the layers above the first store (layerBytes, bottom
// first, as LayerBytes counts them); 0 when they store none.
func UserWasted(eff Efficiency, layerBytes []int64) float64 {
	var user int64
	for _, n := range layerBytes[min(1, len(layerBytes)):] {
		user += n
	}
	if user <= 0 {
		return 0
	}
	return float64(eff.Wasted) / float64(user)
}

// Check validates the thresholds.
func (r CIRules) Check() error {
	if !(r.LowestEfficiency >= 0 && r.LowestEfficiency <= 1) { // NaN fails both
		return fmt.Errorf("lowest-efficiency %v: %w: want a fraction from 0 to 1", r.LowestEfficiency, ErrBadRule)
	}
	if r.HighestWastedBytes < 0 && r.HighestWastedBytes != Disabled {
		return fmt.Errorf("highest-wasted-bytes %d: %w: want 0 or more bytes, or disabled", r.HighestWastedBytes, ErrBadRule)
	}
	if !(r.HighestUserWastedPercent >= 0) || math.IsInf(r.HighestUserWastedPercent, 1) {
		return fmt.Errorf("highest-user-wasted-percent %v: %w: want a finite fraction, 0 or more", r.HighestUserWastedPercent, ErrBadRule)
	}
	return nil
}

// EvaluateCI applies rules to a stack whose merged view has efficiency eff
// and whose layers store layerBytes (bottom first, as LayerBytes counts
// them), in dive's order: lowest-efficiency, highest-wasted-bytes (SKIP
// when disabled), highest-user-wasted-percent. Invalid thresholds are an
// error (ErrBadRule), never a SKIP.
func EvaluateCI(eff Efficiency, layerBytes []int64, rules CIRules) ([]RuleResult, error) {
	if err := rules.Check(); err != nil {
		return nil, err
	}
	out := []RuleResult{{
		Name:    "lowest-efficiency",
		Verdict: verdict(eff.Score >= rules.LowestEfficiency),
		Detail:  fmt.Sprintf("%.4f >= %.4f", eff.Score, rules.LowestEfficiency),
	}}
	wasted := RuleResult{Name: "highest-wasted-bytes", Verdict: Skip, Detail: "disabled"}
	if rules.HighestWastedBytes != Disabled {
		wasted.Verdict = verdict(eff.Wasted <= rules.HighestWastedBytes)
		wasted.Detail = human.Size(eff.Wasted) + " <= " + human.Size(rules.HighestWastedBytes)
	}
	user := UserWasted(eff, layerBytes)
	return append(out, wasted, RuleResult{
		Name:    "highest-user-wasted-percent",
		Verdict: verdict(user <= rules.HighestUserWastedPercent),
		Detail:  fmt.Sprintf("%.4f <= %.4f", user, rules.HighestUserWastedPercent),
	}), nil
}

func verdict(ok bool) Verdict {
	if ok {
		return Pass
	}
	return Fail
}
