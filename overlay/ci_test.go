package overlay

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEvaluateCI(t *testing.T) {
	// A stack of 3 layers storing 1000, 300 and 200 bytes, 250 of them wasted.
	eff := Efficiency{Stored: 1500, Visible: 1250, Wasted: 250, Score: 1250.0 / 1500}
	layers := []int64{1000, 300, 200}
	tests := []struct {
		name  string
		eff   Efficiency
		rules CIRules
		want  []RuleResult
	}{{
		name:  "dive's defaults",
		eff:   eff,
		rules: DefaultCIRules,
		want: []RuleResult{
			{"lowest-efficiency", Fail, "0.8333 >= 0.9000"},
			{"highest-wasted-bytes", Skip, "disabled"},
			{"highest-user-wasted-percent", Fail, "0.5000 <= 0.1000"},
		},
	}, {
		name:  "all pass at the limits",
		eff:   eff,
		rules: CIRules{LowestEfficiency: 1250.0 / 1500, HighestWastedBytes: 250, HighestUserWastedPercent: 0.5},
		want: []RuleResult{
			{"lowest-efficiency", Pass, "0.8333 >= 0.8333"},
			{"highest-wasted-bytes", Pass, "250B <= 250B"},
			{"highest-user-wasted-percent", Pass, "0.5000 <= 0.5000"},
		},
	}, {
		name:  "wasted bytes over",
		eff:   eff,
		rules: CIRules{HighestWastedBytes: 0, HighestUserWastedPercent: 2},
		want: []RuleResult{
			{"lowest-efficiency", Pass, "0.8333 >= 0.0000"},
			{"highest-wasted-bytes", Fail, "250B <= 0B"},
			{"highest-user-wasted-percent", Pass, "0.5000 <= 2.0000"},
		},
	}, {
		name:  "an empty stack passes",
		eff:   Efficiency{Score: 1},
		rules: DefaultCIRules,
		want: []RuleResult{
			{"lowest-efficiency", Pass, "1.0000 >= 0.9000"},
			{"highest-wasted-bytes", Skip, "disabled"},
			{"highest-user-wasted-percent", Pass, "0.0000 <= 0.1000"},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EvaluateCI(tc.eff, layers, tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateCIBadThresholds(t *testing.T) {
	ok := DefaultCIRules
	tests := []struct {
		name string
		edit func(*CIRules)
	}{
		{"efficiency NaN", func(r *CIRules) { r.LowestEfficiency = math.NaN() }},
		{"efficiency +Inf", func(r *CIRules) { r.LowestEfficiency = math.Inf(1) }},
		{"efficiency below 0", func(r *CIRules) { r.LowestEfficiency = -0.1 }},
		{"efficiency above 1", func(r *CIRules) { r.LowestEfficiency = 1.5 }},
		{"wasted bytes negative", func(r *CIRules) { r.HighestWastedBytes = -2 }},
		{"user wasted NaN", func(r *CIRules) { r.HighestUserWastedPercent = math.NaN() }},
		{"user wasted +Inf", func(r *CIRules) { r.HighestUserWastedPercent = math.Inf(1) }},
		{"user wasted -Inf", func(r *CIRules) { r.HighestUserWastedPercent = math.Inf(-1) }},
		{"user wasted negative", func(r *CIRules) { r.HighestUserWastedPercent = -0.5 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			got, err := EvaluateCI(Efficiency{Score: 1}, nil, r)
			if !errors.Is(err, ErrBadRule) || got != nil {
				t.Errorf("EvaluateCI = %v, %v; want ErrBadRule", got, err)
			}
		})
	}
}

func TestUserWasted(t *testing.T) {
	tests := []struct {
		name   string
		wasted int64
		layers []int64
		want   float64
	}{
		{"no layers", 0, nil, 0},
		{"first layer only", 10, []int64{100}, 0},
		{"layers above", 30, []int64{100, 40, 20}, 0.5},
		{"more wasted than above", 30, []int64{100, 10}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := UserWasted(Efficiency{Wasted: tc.wasted}, tc.layers); got != tc.want {
				t.Errorf("UserWasted = %v, want %v", got, tc.want)
			}
		})
	}
}
