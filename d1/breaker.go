package d1

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// errServerStatus marks a 5xx or 429 response, whose status and headers the retry logic
// still needs.
type errServerStatus struct{ status int }

func (e errServerStatus) Error() string { return fmt.Sprintf("HTTP %d", e.status) }

// breakerInterval is how long a closed breaker remembers failures: gobreaker clears its
// counts this often, and a consumer's failure is forgotten just as fast.
const breakerInterval = time.Minute

// A breaker protects everybody from an outage of D1; it must not open for everybody because
// of one consumer. So each call (all its retries together) is judged once, when it ends:
//
//   - D1 answered (2xx, 404, 400, 401, 403): D1 is up. A success, which ends a failure streak.
//   - The call failed for a reason that says nothing about D1 being down: 429 (D1 is up and
//     pacing us; Retry-After already does that), an oversized or undecodable body (one
//     consumer's data), a caller that gave up, a token failure inside a profiles call (the
//     token endpoint has its own breaker). Not counted at all.
//   - The call failed the outage way: no connection (refused, reset, DNS), a TLS failure, a
//     5xx after the retries, a timeout. A failure, but only one per consumer within a failure
//     streak: a consumer whose lookups time out or fail at D1 is that consumer's problem until
//     other consumers fail too. BreakerFailures consecutive failures of distinct consumers
//     open the breaker.
type verdict int

const (
	answered verdict = iota
	neutral
	outage
)

// judged carries a call's verdict into gobreaker's IsSuccessful and IsExcluded.
type judged struct{ v verdict }

func (j judged) Error() string { return fmt.Sprintf("d1: call judged %d", j.v) }

// verdictOf judges how a call ended.
func verdictOf(op string, err error) verdict {
	if err == nil {
		return answered
	}
	var e *Error
	if errors.As(err, &e) && e.Op != op {
		return neutral
	}
	switch ClassOf(err) {
	case ClassNotFound, ClassBadRequest, ClassUnauthorized, ClassForbidden:
		return answered
	case ClassUnavailable, ClassTimeout:
		return outage
	}
	return neutral
}

// breaker is the circuit breaker of one base URL with the consumers that failed since its
// last success.
type breaker struct {
	cb     *gobreaker.TwoStepCircuitBreaker[struct{}]
	mu     sync.Mutex
	failed map[string]time.Time
}

// breakers holds one circuit breaker per base URL, so a failing token endpoint and a failing
// banking endpoint trip independently.
type breakers struct {
	mu       sync.Mutex
	byURL    map[string]*breaker
	failures uint32
	open     time.Duration
	metrics  Metrics
	log      *slog.Logger
}

// newBreakers prepares the breaker set; breakers are created on first use.
func newBreakers(failures uint32, open time.Duration, m Metrics, log *slog.Logger) *breakers {
	return &breakers{byURL: map[string]*breaker{}, failures: failures, open: open, metrics: m, log: log}
}

// forURL returns the breaker guarding baseURL.
func (b *breakers) forURL(baseURL string) *breaker {
	b.mu.Lock()
	defer b.mu.Unlock()
	if br, ok := b.byURL[baseURL]; ok {
		return br
	}
	failures := b.failures
	br := &breaker{failed: map[string]time.Time{}}
	br.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        baseURL,
		MaxRequests: 1,
		Interval:    breakerInterval,
		Timeout:     b.open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
		OnStateChange: func(name string, from, to gobreaker.State) {
			br.forget()
			b.metrics.ObserveBreaker(name, to.String())
			b.log.Warn("d1: circuit breaker state change", "base_url", name, "from", from.String(), "to", to.String())
		},
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded: func(err error) bool {
			var j judged
			return errors.As(err, &j) && j.v == neutral
		},
	})
	b.byURL[baseURL] = br
	b.metrics.ObserveBreaker(baseURL, gobreaker.StateClosed.String())
	return br
}

// State returns the breaker state of a base URL as a string ("closed", "half-open", "open").
func (b *breakers) State(baseURL string) string {
	return b.forURL(baseURL).cb.State().String()
}

// call is one D1 call admitted by a breaker; end reports how it went, once.
type call struct {
	br   *breaker
	op   string
	done func(error)
}

// begin admits one call of op to baseURL, or refuses it with an error matching
// isBreakerRejection while the breaker is open (or half-open with its probe out).
func (b *breakers) begin(op, baseURL string) (*call, error) {
	br := b.forURL(baseURL)
	done, err := br.cb.Allow()
	if err != nil {
		return nil, err
	}
	return &call{br: br, op: op, done: done}, nil
}

// end judges the call that ended with err. consumer names whose call it was; "" counts every
// outage (the token endpoint, which serves no particular consumer).
func (c *call) end(consumer string, err error) {
	v := verdictOf(c.op, err)
	switch v {
	case answered:
		c.br.forget()
		c.done(nil)
		return
	case outage:
		if consumer != "" && !c.br.firstFailure(consumer) {
			v = neutral
		}
	}
	c.done(judged{v: v})
}

// firstFailure records a failed call of consumer and reports whether it is the consumer's first
// in the current failure streak.
func (br *breaker) firstFailure(consumer string) bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	now := time.Now()
	for k, at := range br.failed {
		if now.Sub(at) >= breakerInterval {
			delete(br.failed, k)
		}
	}
	if _, seen := br.failed[consumer]; seen {
		return false
	}
	br.failed[consumer] = now
	return true
}

// forget ends the failure streak.
func (br *breaker) forget() {
	br.mu.Lock()
	defer br.mu.Unlock()
	clear(br.failed)
}

// isBreakerRejection reports whether err means the breaker refused to let the request through.
func isBreakerRejection(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}
