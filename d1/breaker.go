package d1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// errServerStatus marks a response that counts as a failure for the breaker (5xx and 429)
// while its status and headers are still needed by the retry logic.
type errServerStatus struct{ status int }

func (e errServerStatus) Error() string { return fmt.Sprintf("HTTP %d", e.status) }

// breakers holds one circuit breaker per base URL, so a failing token endpoint and a failing
// banking endpoint trip independently.
type breakers struct {
	mu       sync.Mutex
	byURL    map[string]*gobreaker.CircuitBreaker[response]
	failures uint32
	open     time.Duration
	metrics  Metrics
	log      *slog.Logger
}

// newBreakers prepares the breaker set; breakers are created on first use.
func newBreakers(failures uint32, open time.Duration, m Metrics, log *slog.Logger) *breakers {
	return &breakers{byURL: map[string]*gobreaker.CircuitBreaker[response]{}, failures: failures, open: open, metrics: m, log: log}
}

// forURL returns the breaker guarding baseURL.
func (b *breakers) forURL(baseURL string) *gobreaker.CircuitBreaker[response] {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cb, ok := b.byURL[baseURL]; ok {
		return cb
	}
	failures := b.failures
	cb := gobreaker.NewCircuitBreaker[response](gobreaker.Settings{
		Name:        baseURL,
		MaxRequests: 1,
		Interval:    time.Minute,
		Timeout:     b.open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		OnStateChange: func(name string, from, to gobreaker.State) {
			b.metrics.ObserveBreaker(name, to.String())
			b.log.Warn("d1: circuit breaker state change", "base_url", name, "from", from.String(), "to", to.String())
		},
		// A caller giving up says nothing about D1's health.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
	})
	b.byURL[baseURL] = cb
	b.metrics.ObserveBreaker(baseURL, gobreaker.StateClosed.String())
	return cb
}

// State returns the breaker state of a base URL as a string ("closed", "half-open", "open").
func (b *breakers) State(baseURL string) string {
	return b.forURL(baseURL).State().String()
}

// isBreakerRejection reports whether err means the breaker refused to let the request through.
func isBreakerRejection(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}
