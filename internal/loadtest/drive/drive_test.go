package drive

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestSummariseReportsNearestRankPercentiles: each kind's percentiles are the shared
// nearest-rank ones over its own samples, whatever order they finished in.
func TestSummariseReportsNearestRankPercentiles(t *testing.T) {
	var samples []Sample
	for i := 100; i >= 1; i-- {
		samples = append(samples, Sample{Kind: "x", Status: 200, Duration: time.Duration(i) * time.Millisecond})
	}
	samples = append(samples, Sample{Kind: "y", Status: 500, Duration: time.Second})
	rep := Summarise(samples, time.Second)
	x, _ := rep.Kind("x")
	want := KindReport{Kind: "x", Count: 100, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if x != want {
		t.Errorf("kind x = %+v, want %+v", x, want)
	}
	if y, _ := rep.Kind("y"); y.Status5xx != 1 || y.P50 != time.Second {
		t.Errorf("kind y = %+v", y)
	}
}

func TestRunStopsAtMaxRequestsAndCountsStatuses(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if n%10 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	rep := Run(context.Background(), Options{
		Users:       8,
		Duration:    10 * time.Second,
		MaxRequests: 200,
		Clients:     func(int) *http.Client { return srv.Client() },
		Mix: func(_ int, rng *rand.Rand) Request {
			if rng.IntN(2) == 0 {
				return Get("a", srv.URL+"/a")
			}
			return Get("b", srv.URL+"/b")
		},
	})
	if rep.Requests != 200 || hits.Load() != 200 {
		t.Fatalf("sent %d (server saw %d), want exactly 200", rep.Requests, hits.Load())
	}
	total5xx := 0
	for _, k := range rep.Kinds {
		total5xx += k.Status5xx
	}
	if total5xx != 20 {
		t.Errorf("5xx counted %d, want 20", total5xx)
	}
	if _, ok := rep.Kind("a"); !ok {
		t.Error("kind a missing")
	}
}

func TestRunStopsAtTheDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}))
	defer srv.Close()
	start := time.Now()
	rep := Run(context.Background(), Options{
		Users: 4, Duration: 300 * time.Millisecond,
		Clients: func(int) *http.Client { return srv.Client() },
		Mix:     func(int, *rand.Rand) Request { return Get("x", srv.URL) },
	})
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("run took %s after a 300ms bound", el)
	}
	if rep.Requests == 0 {
		t.Fatal("no requests")
	}
	for _, s := range rep.Samples {
		if s.Err != nil {
			t.Errorf("a request cut off by the deadline was counted as an error: %v", s.Err)
		}
	}
}
