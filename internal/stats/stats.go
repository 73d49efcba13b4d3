// Package stats holds the summary statistics every ctpdesk report uses, so that a p95 in the
// load test, a benchmark and the performance table means the same thing.
package stats

import (
	"cmp"
	"math"
	"slices"
)

// Number is what the statistics summarise: durations, counts and measurements.
type Number interface {
	~int | ~int64 | ~float64
}

// Percentile returns the p-th percentile (0-100) of values by the nearest-rank method: the
// smallest value that at least p percent of the values are less than or equal to. p below
// 0 or above 100 is held to that range; no values give the zero value. values is not changed.
func Percentile[T cmp.Ordered](values []T, p float64) T {
	var zero T
	if len(values) == 0 || math.IsNaN(p) {
		return zero
	}
	s := slices.Clone(values)
	slices.Sort(s)
	p = max(0, min(p, 100))
	// The rank is ceil(p/100 × n); multiplying before dividing keeps whole ranks exact, so
	// that 95 % of 100 values is rank 95, not 96 through a rounding error.
	rank := int(math.Ceil(p * float64(len(s)) / 100))
	return s[max(0, min(rank, len(s))-1)]
}

// Median returns the middle value of values, or the mean of the two middle ones when their
// number is even; no values give the zero value. values is not changed.
func Median[T Number](values []T) T {
	var zero T
	n := len(values)
	if n == 0 {
		return zero
	}
	s := slices.Clone(values)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1] + (s[n/2]-s[n/2-1])/2
}
