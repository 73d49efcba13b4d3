package d1

import "sync"

// retryBudget limits retries to a share of calls (Finagle-style token bucket): every call
// deposits ratio, every retry withdraws one whole token, and the balance starts at reserve and
// never exceeds max(reserve, 100*ratio). So over any stretch of time
//
//	retries ≤ reserve + ratio × calls
//
// which keeps a struggling D1 from receiving a retry storm while a quiet instance can still
// retry its first failures.
type retryBudget struct {
	mu      sync.Mutex
	ratio   float64
	balance float64
	max     float64
}

// newRetryBudget returns a budget with the given ratio and reserve.
func newRetryBudget(ratio, reserve float64) *retryBudget {
	return &retryBudget{ratio: ratio, balance: reserve, max: max(reserve, 100*ratio)}
}

// deposit records one call.
func (b *retryBudget) deposit() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.balance = min(b.max, b.balance+b.ratio)
}

// withdraw takes one retry from the budget, reporting false when none is left.
func (b *retryBudget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.balance < 1 {
		return false
	}
	b.balance--
	return true
}
