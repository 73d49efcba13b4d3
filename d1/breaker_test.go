package d1_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
)

// consumers returns n distinct consumer ids of the test portfolio whose derivation satisfies ok.
func (e *env) consumers(t testing.TB, n int, ok func(d1sandbox.Derivation) bool) []string {
	t.Helper()
	var ids []string
	for _, c := range e.portfolio.All() {
		if _, dv := d1sandbox.Derive(testSeed, c); c.ConsumerID != "" && ok(dv) {
			ids = append(ids, c.ConsumerID)
			if len(ids) == n {
				return ids
			}
		}
	}
	t.Fatalf("only %d of %d test consumers match", len(ids), n)
	return nil
}

func anyConsumer(d1sandbox.Derivation) bool { return true }

// TestBreakerOpensAndRecovers trips the banking breaker with failures of distinct consumers,
// checks an open breaker keeps calls away from D1, and that it closes again after a
// successful probe.
func TestBreakerOpensAndRecovers(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *d1.Config) {
		c.BreakerFailures = 3
		c.BreakerOpenTimeout = 300 * time.Millisecond
		c.MaxRetries = -1
		c.StaleMaxAge = -1
	}})
	c := e.matchCustomer(t)
	e.sb.SetFault(d1sandbox.Fault{Status: 500})
	for i, id := range e.consumers(t, 3, anyConsumer) {
		if _, err := e.client.GetProfiles(context.Background(), id, d1.FetchOptions{}); d1.ClassOf(err) != d1.ClassUnavailable {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if s := e.client.BreakerState(e.cfg.BankingURL); s != "open" {
		t.Fatalf("breaker %s after 3 failures, want open", s)
	}
	if s := e.client.BreakerState(e.cfg.AuthzURL); s != "closed" {
		t.Errorf("authz breaker %s, want closed (breakers are per base URL)", s)
	}
	before := e.sb.Stats().ProfileRequests
	_, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{})
	if !errors.Is(err, d1.ErrUnavailable) || d1.ClassOf(err) != d1.ClassCircuitOpen {
		t.Fatalf("open breaker: err = %v", err)
	}
	if e.sb.Stats().ProfileRequests != before {
		t.Fatal("an open breaker let a request through")
	}
	e.sb.ClearFaults()
	deadline := time.Now().Add(5 * time.Second)
	for e.client.BreakerState(e.cfg.BankingURL) == "open" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{}); err != nil {
		t.Fatalf("probe after the open period: %v", err)
	}
	if s := e.client.BreakerState(e.cfg.BankingURL); s != "closed" {
		t.Fatalf("breaker %s after a successful probe, want closed", s)
	}
	states := e.metrics.get(func(m *recordingMetrics) int { return len(m.breaker) })
	if states < 4 { // closed (created) x2, open, half-open, closed
		t.Errorf("breaker metrics saw %d state reports", states)
	}
}

// TestNotFoundDoesNotTripBreaker checks answers about the consumer do not count as failures.
func TestNotFoundDoesNotTripBreaker(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *d1.Config) { c.BreakerFailures = 2 }})
	for range 5 {
		if _, err := e.client.GetProfiles(context.Background(), "unknown-consumer", d1.FetchOptions{Fresh: true}); !errors.Is(err, d1.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if s := e.client.BreakerState(e.cfg.BankingURL); s != "closed" {
		t.Fatalf("breaker %s after 404s", s)
	}
}

// TestRetryBudget checks retries never exceed reserve + 10 % of calls while D1 fails.
func TestRetryBudget(t *testing.T) {
	for _, reserve := range []float64{-1, 0} { // -1: none; 0: the default reserve
		e := newEnv(t, envOptions{cfg: func(c *d1.Config) {
			c.RetryBudgetReserve = reserve
			c.BreakerFailures = 1 << 30
			c.BackoffBase, c.BackoffMax = time.Millisecond, time.Millisecond
			c.StaleMaxAge = -1
		}})
		e.sb.SetFault(d1sandbox.Fault{Status: 503})
		const calls = 200
		c := e.matchCustomer(t)
		for range calls {
			_, _ = e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{Fresh: true})
		}
		allowed := 0.1 * calls
		if reserve == 0 {
			allowed += d1.DefaultRetryBudgetReserve
		}
		retries := e.sb.Stats().ProfileRequests - calls
		if float64(retries) > allowed || retries <= 0 {
			t.Errorf("reserve %v: %d retries for %d calls, allowed %v", reserve, retries, calls, allowed)
		}
	}
}

// TestRetriesStayInsideDeadline checks that no retry is sent after the call's deadline and the
// call returns around it, even when D1 is slow and failing.
func TestRetriesStayInsideDeadline(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *d1.Config) {
		c.Timeout = 400 * time.Millisecond
		c.BackoffBase, c.BackoffMax = 150*time.Millisecond, 150*time.Millisecond
		c.RetryBudgetReserve = 100
		c.StaleMaxAge = -1
	}})
	counter := &countingHandler{next: e.sb}
	e.srv.Config.Handler = counter
	c := e.matchCustomer(t)
	// Warm up: the token request is not part of what is measured.
	if _, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Status: 503, Latency: 150 * time.Millisecond})
	counter.mu.Lock()
	counter.hits = nil
	counter.mu.Unlock()
	start := time.Now()
	_, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{Fresh: true})
	if !errors.Is(err, d1.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	for _, at := range counter.hits {
		// 100ms of slack covers scheduling between the client's check and the server's clock.
		if at.Sub(start) > 500*time.Millisecond {
			t.Errorf("request arrived %s after the call started, past its 400ms deadline", at.Sub(start))
		}
	}
	if len(counter.hits) > 3 {
		t.Errorf("%d attempts, at most 3 allowed", len(counter.hits))
	}
}

// TestCallerDeadlineWins checks a caller deadline shorter than Timeout bounds the call.
func TestCallerDeadlineWins(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.matchCustomer(t)
	e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{})
	if d1.ClassOf(err) != d1.ClassTimeout {
		t.Fatalf("err = %v, want timeout", err)
	}
}
