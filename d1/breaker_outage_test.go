package d1_test

import (
	"context"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
)

// breakerEnv is a client whose banking breaker opens after three counted failures, with
// retries on, so a test sees whether attempts or calls are counted.
func breakerEnv(t *testing.T, timeout time.Duration) *env {
	t.Helper()
	return newEnv(t, envOptions{cfg: func(c *d1.Config) {
		c.BreakerFailures = 3
		c.MaxRetries = 2
		c.BackoffBase, c.BackoffMax = time.Millisecond, time.Millisecond
		c.RetryBudgetReserve = 1000
		c.StaleMaxAge = -1
		if timeout > 0 {
			c.Timeout = timeout
		}
	}})
}

// One consumer whose D1 answer is bad, however often it is viewed, never opens the breaker
// for the others: an oversized body, a 404, a 429, and also a 503 or a timeout that only this
// consumer gets.
func TestOneBadConsumerNeverOpensTheBreaker(t *testing.T) {
	for name, fault := range map[string]d1sandbox.Fault{
		"oversized":     {Oversized: true},
		"malformed":     {Malformed: true},
		"429":           {Status: 429},
		"503":           {Status: 503},
		"timeout":       {Hang: true},
		"404 (unknown)": {},
	} {
		t.Run(name, func(t *testing.T) {
			timeout := time.Duration(0)
			if fault.Hang {
				timeout = 150 * time.Millisecond
			}
			e := breakerEnv(t, timeout)
			ids := e.consumers(t, 2, anyConsumer)
			bad, other := ids[0], ids[1]
			if name == "404 (unknown)" {
				bad = "unknown-consumer"
			} else {
				e.sb.SetConsumerFault(bad, fault)
			}
			for i := range 10 {
				if _, err := e.client.GetProfiles(context.Background(), bad, d1.FetchOptions{Fresh: true}); err == nil {
					t.Fatalf("view %d of the bad consumer succeeded", i)
				}
			}
			if s := e.client.BreakerState(e.cfg.BankingURL); s != "closed" {
				t.Fatalf("breaker %s after 10 views of one bad consumer, want closed", s)
			}
			if _, err := e.client.GetProfiles(context.Background(), other, d1.FetchOptions{}); err != nil {
				t.Fatalf("another consumer after the bad one: %v", err)
			}
		})
	}
}

// Failures count once per call, not per attempt: two calls that each made three attempts
// leave a three-failure breaker closed; the third distinct consumer's 503 opens it.
func TestDistinctConsumerOutagesOpenTheBreaker(t *testing.T) {
	e := breakerEnv(t, 0)
	ids := e.consumers(t, 3, anyConsumer)
	// The token is fetched before the outage: its endpoint is not what fails here.
	if _, err := e.client.GetProfiles(context.Background(), ids[0], d1.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.sb.SetFault(d1sandbox.Fault{Status: 503})
	before := e.sb.Stats().ProfileRequests
	for i, id := range ids {
		_, err := e.client.GetProfiles(context.Background(), id, d1.FetchOptions{Fresh: true})
		if d1.ClassOf(err) != d1.ClassUnavailable {
			t.Fatalf("call %d: %v, want unavailable", i, err)
		}
		want := "closed"
		if i == len(ids)-1 {
			want = "open"
		}
		if s := e.client.BreakerState(e.cfg.BankingURL); s != want {
			t.Fatalf("breaker %s after %d failed calls of distinct consumers, want %s", s, i+1, want)
		}
	}
	if n := e.sb.Stats().ProfileRequests - before; n != 9 {
		t.Errorf("%d requests for 3 calls of 3 attempts each", n)
	}
	if _, err := e.client.GetProfiles(context.Background(), ids[0], d1.FetchOptions{Fresh: true}); d1.ClassOf(err) != d1.ClassCircuitOpen {
		t.Fatalf("call with the breaker open: %v, want circuit-open", err)
	}
}

// A success between failures ends the streak: consumers that failed before it are counted
// again afterwards, and the breaker opens only on consecutive failures.
func TestAnsweredCallEndsTheFailureStreak(t *testing.T) {
	e := breakerEnv(t, 0)
	ids := e.consumers(t, 3, anyConsumer)
	view := func(id string) error {
		_, err := e.client.GetProfiles(context.Background(), id, d1.FetchOptions{Fresh: true})
		return err
	}
	if err := view(ids[2]); err != nil {
		t.Fatal(err)
	}
	e.sb.SetConsumerFault(ids[0], d1sandbox.Fault{Status: 500})
	e.sb.SetConsumerFault(ids[1], d1sandbox.Fault{Status: 500})
	_ = view(ids[0])
	_ = view(ids[1])
	if err := view(ids[2]); err != nil {
		t.Fatal(err)
	}
	_ = view(ids[0])
	_ = view(ids[1])
	if s := e.client.BreakerState(e.cfg.BankingURL); s != "closed" {
		t.Fatalf("breaker %s: a success in between must reset the count", s)
	}
	e.sb.SetConsumerFault(ids[2], d1sandbox.Fault{Status: 500})
	_ = view(ids[2])
	if s := e.client.BreakerState(e.cfg.BankingURL); s != "open" {
		t.Fatalf("breaker %s after three consecutive failures of distinct consumers, want open", s)
	}
}
