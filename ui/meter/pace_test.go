package meter

import (
	"testing"
	"time"
)

// TestNextRead checks the meter's pace: a second after a cheap reading,
// fifty times a costly one's time after it, ten seconds at the most.
func TestNextRead(t *testing.T) {
	for _, c := range []struct{ took, want time.Duration }{
		{0, time.Second},
		{5 * time.Millisecond, time.Second},
		{20 * time.Millisecond, time.Second},
		{36 * time.Millisecond, 1800 * time.Millisecond},
		{time.Second, MaxEvery},
	} {
		if got := nextRead(c.took); got != c.want {
			t.Errorf("nextRead(%v) = %v, want %v", c.took, got, c.want)
		}
	}
}
