package d1

import "time"

// Metrics receives the client's measurements. The observability code implements it with
// Prometheus collectors; the default, NopMetrics, drops everything. Implementations must be
// safe for concurrent use and cheap: they are called on every request.
type Metrics interface {
	// ObserveCall records one finished operation: op is "profiles" (a whole GetProfiles call,
	// retries included, cache hits excluded) or "token"; class is "ok" or an error class.
	ObserveCall(op, class string, d time.Duration)
	// ObserveAttempt records one HTTP request to D1 with its status (0 when none arrived).
	ObserveAttempt(op string, status int, d time.Duration)
	// ObserveRetry records a retry and its reason (a class such as "unavailable").
	ObserveRetry(op, reason string)
	// ObserveCache records a cache outcome: "hit", "miss", "shared" (joined a call in
	// flight) or "stale" (served a stale result because D1 failed).
	ObserveCache(outcome string)
	// ObserveBreaker records a breaker state change for a base URL: "closed", "half-open"
	// or "open".
	ObserveBreaker(baseURL, state string)
}

// NopMetrics discards every measurement.
type NopMetrics struct{}

// ObserveCall does nothing.
func (NopMetrics) ObserveCall(string, string, time.Duration) {}

// ObserveAttempt does nothing.
func (NopMetrics) ObserveAttempt(string, int, time.Duration) {}

// ObserveRetry does nothing.
func (NopMetrics) ObserveRetry(string, string) {}

// ObserveCache does nothing.
func (NopMetrics) ObserveCache(string) {}

// ObserveBreaker does nothing.
func (NopMetrics) ObserveBreaker(string, string) {}
