package d1_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
	"ctpdesk/internal/d1test"
)

// TestOneTokenServesFifteenMinutes proves with a fake clock shared by client and sandbox that
// one token request serves every call of its window, and that the next window gets one more.
func TestOneTokenServesFifteenMinutes(t *testing.T) {
	clock := d1test.NewClock(time.Now())
	e := newEnv(t, envOptions{clock: clock})
	c := e.matchCustomer(t)
	// The token lives 900 s and is replaced 60 s before it expires: 840 s of reuse.
	for elapsed := time.Duration(0); elapsed < 840*time.Second; elapsed += 10 * time.Second {
		if _, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{Fresh: true}); err != nil {
			t.Fatalf("at %s: %v", elapsed, err)
		}
		clock.Advance(10 * time.Second)
	}
	st := e.sb.Stats()
	if st.TokenRequests != 1 || st.ProfileRequests != 84 {
		t.Fatalf("after 14 minutes: %d token requests, %d profile requests; want 1 and 84", st.TokenRequests, st.ProfileRequests)
	}
	for range 84 {
		if _, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{Fresh: true}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Second)
	}
	if st := e.sb.Stats(); st.TokenRequests != 2 {
		t.Fatalf("second window: %d token requests, want 2", st.TokenRequests)
	}
}

// TestConcurrentTokenRefreshShared checks that many callers needing a token share one request.
func TestConcurrentTokenRefreshShared(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.sb.SetFault(d1sandbox.Fault{Latency: 50 * time.Millisecond})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if _, err := e.client.GetProfiles(context.Background(), d1test.ConsumerID(i), d1.FetchOptions{}); err != nil && !errors.Is(err, d1.ErrNotFound) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.sb.Stats().TokenRequests; n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
}

// TestCoalescing checks 100 concurrent GetProfiles for one consumer make exactly one upstream
// call, fresh or not.
func TestCoalescing(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		t.Run(fmt.Sprintf("fresh=%v", fresh), func(t *testing.T) {
			e := newEnv(t, envOptions{})
			c := e.matchCustomer(t)
			e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Latency: 500 * time.Millisecond})
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 100 {
				wg.Go(func() {
					<-start
					res, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{Fresh: fresh})
					if err != nil || len(res.Profiles) == 0 {
						t.Errorf("res %+v err %v", res, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if n := e.sb.ProfileRequestsFor(c.ConsumerID); n != 1 {
				t.Fatalf("%d upstream calls, want 1", n)
			}
		})
	}
}

// TestCacheTTLAndFresh checks hits within the TTL, a refetch after it, and Fresh bypassing it.
func TestCacheTTLAndFresh(t *testing.T) {
	clock := d1test.NewClock(time.Now())
	e := newEnv(t, envOptions{clock: clock})
	c := e.matchCustomer(t)
	get := func(fresh bool) d1.Result {
		t.Helper()
		r, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{Fresh: fresh})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := get(false); r.Cached {
		t.Error("first call cached")
	}
	clock.Advance(59 * time.Second)
	if r := get(false); !r.Cached || r.Age(clock.Now()) != 59*time.Second {
		t.Errorf("within TTL: cached=%v age=%s", r.Cached, r.Age(clock.Now()))
	}
	if n := e.sb.ProfileRequestsFor(c.ConsumerID); n != 1 {
		t.Fatalf("%d upstream calls within TTL", n)
	}
	if r := get(true); r.Cached {
		t.Error("fresh call served from cache")
	}
	clock.Advance(61 * time.Second)
	if r := get(false); r.Cached {
		t.Error("expired entry served")
	}
	if n := e.sb.ProfileRequestsFor(c.ConsumerID); n != 3 {
		t.Fatalf("%d upstream calls, want 3", n)
	}
	if hits := e.metrics.get(func(m *recordingMetrics) int { return m.cache["hit"] }); hits != 1 {
		t.Errorf("%d cache hits recorded, want 1", hits)
	}
}

// TestStaleOnError checks a failing D1 yields the cached result marked stale with its age and
// reason, only up to StaleMaxAge, and never for a 404.
func TestStaleOnError(t *testing.T) {
	clock := d1test.NewClock(time.Now())
	e := newEnv(t, envOptions{clock: clock, cfg: func(c *d1.Config) { c.StaleMaxAge = 5 * time.Minute; c.MaxRetries = -1 }})
	c := e.matchCustomer(t)
	first, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Status: 503})
	clock.Advance(2 * time.Minute)
	r, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{})
	if err != nil {
		t.Fatalf("want a stale result, got %v", err)
	}
	if !r.Stale || !r.Cached || r.Age(clock.Now()) != 2*time.Minute || d1.ClassOf(r.StaleReason) != d1.ClassUnavailable {
		t.Fatalf("stale=%v cached=%v age=%s reason=%v", r.Stale, r.Cached, r.Age(clock.Now()), r.StaleReason)
	}
	if !r.FetchedAt.Equal(first.FetchedAt) || len(r.Profiles) != len(first.Profiles) {
		t.Error("stale result is not the cached one")
	}
	clock.Advance(4 * time.Minute)
	if _, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{}); !errors.Is(err, d1.ErrUnavailable) {
		t.Fatalf("beyond StaleMaxAge: err = %v, want ErrUnavailable", err)
	}

	// A 404 is an answer, not an outage: it is never replaced by a stale result.
	e.sb.ClearFaults()
	if _, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.portfolio.Remove(c.ConsumerID)
	clock.Advance(2 * time.Minute)
	if r, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{}); !errors.Is(err, d1.ErrNotFound) || r.Stale {
		t.Fatalf("404 after a cached result: %+v %v, want ErrNotFound", r, err)
	}
}

// TestStaleOnCallerTimeout checks a caller whose own deadline passes while D1 hangs gets the
// cached result marked stale rather than nothing.
func TestStaleOnCallerTimeout(t *testing.T) {
	clock := d1test.NewClock(time.Now())
	e := newEnv(t, envOptions{clock: clock})
	c := e.matchCustomer(t)
	if _, err := e.client.GetProfiles(context.Background(), c.ConsumerID, d1.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(90 * time.Second)
	e.sb.SetConsumerFault(c.ConsumerID, d1sandbox.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r, err := e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{})
	if err != nil || !r.Stale || d1.ClassOf(r.StaleReason) != d1.ClassTimeout || r.Age(clock.Now()) != 90*time.Second {
		t.Fatalf("res stale=%v reason=%v err=%v", r.Stale, r.StaleReason, err)
	}
}

// TestReadyFetchesTheTokenAhead checks that Ready leaves the client holding a token, so the
// call after it sends no token request; that a second Ready asks for nothing; and that Ready
// fetches again once the token is close to expiry.
func TestReadyFetchesTheTokenAhead(t *testing.T) {
	clock := d1test.NewClock(time.Now())
	e := newEnv(t, envOptions{clock: clock})
	c := e.matchCustomer(t)
	ctx := context.Background()
	if err := e.client.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.sb.Stats(); st.TokenRequests != 1 || st.ProfileRequests != 0 {
		t.Fatalf("after Ready: %d token requests, %d profile requests; want 1 and 0", st.TokenRequests, st.ProfileRequests)
	}
	if err := e.client.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.GetProfiles(ctx, c.ConsumerID, d1.FetchOptions{Fresh: true}); err != nil {
		t.Fatal(err)
	}
	if st := e.sb.Stats(); st.TokenRequests != 1 || st.ProfileRequests != 1 {
		t.Fatalf("after Ready twice and a call: %d token requests, %d profile requests; want 1 and 1", st.TokenRequests, st.ProfileRequests)
	}
	clock.Advance(841 * time.Second)
	if err := e.client.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.sb.Stats(); st.TokenRequests != 2 {
		t.Fatalf("Ready near expiry: %d token requests, want 2", st.TokenRequests)
	}
}
