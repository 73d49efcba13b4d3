package stats

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	orig := slices.Clone(ds)
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{
		{0, 1 * time.Millisecond}, {1, 1 * time.Millisecond}, {50, 50 * time.Millisecond},
		{95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {99.5, 100 * time.Millisecond},
		{100, 100 * time.Millisecond}, {-5, 1 * time.Millisecond}, {250, 100 * time.Millisecond},
	} {
		if got := Percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%g = %s, want %s", tc.p, got, tc.want)
		}
	}
	if !slices.Equal(ds, orig) {
		t.Error("Percentile reordered its input")
	}
	// Nearest rank on a few values: the p50 of four is the second, the p95 the fourth.
	few := []float64{4, 1, 3, 2}
	if got := Percentile(few, 50); got != 2 {
		t.Errorf("p50 of 1..4 = %g, want 2", got)
	}
	if got := Percentile(few, 95); got != 4 {
		t.Errorf("p95 of 1..4 = %g, want 4", got)
	}
	if got := Percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one value = %s", got)
	}
	if Percentile([]time.Duration(nil), 50) != 0 || Percentile([]float64{1, 2}, math.NaN()) != 0 {
		t.Error("no values or a NaN rank must give zero")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5}, 5},
		{nil, 0},
	} {
		orig := slices.Clone(tc.in)
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %g, want %g", tc.in, got, tc.want)
		}
		if !slices.Equal(tc.in, orig) {
			t.Errorf("Median reordered %v", orig)
		}
	}
	if got := Median([]time.Duration{10 * time.Millisecond, 60 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}); got != 25*time.Millisecond {
		t.Errorf("median of durations = %s, want 25ms", got)
	}
	// The mean of the two middle values does not overflow near the top of the range.
	if got := Median([]int64{math.MaxInt64 - 1, math.MaxInt64 - 3}); got != math.MaxInt64-2 {
		t.Errorf("median near MaxInt64 = %d", got)
	}
}
