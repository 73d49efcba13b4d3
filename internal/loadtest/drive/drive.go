// Package drive drives a bounded HTTP load against a server on this machine and summarises
// the latencies per kind of request. The load harness (tools/loadtest) and the short load tests
// that CI runs use it; it never targets anything but the URLs it is given, and it always stops
// by itself: at the deadline or after the maximum number of requests, whichever comes first.
package drive

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"ctpdesk/internal/stats"
)

// Request is one request a virtual user makes: its kind for the report, and how to make it.
type Request struct {
	Kind string
	Do   func(ctx context.Context, client *http.Client) (status int, err error)
}

// Mix picks the next request of a virtual user. It is called from that user's goroutine only;
// rng is the user's own.
type Mix func(user int, rng *rand.Rand) Request

// Options bound a run.
type Options struct {
	Users       int           // concurrent virtual users
	Duration    time.Duration // wall-clock bound
	MaxRequests int64         // request bound over all users (0: none beyond Duration)
	Clients     func(user int) *http.Client
	Mix         Mix
}

// Sample is one finished request.
type Sample struct {
	Kind     string
	Status   int
	Err      error
	Duration time.Duration
}

// KindReport summarises one kind of request.
type KindReport struct {
	Kind          string
	Count         int
	Errors        int // transport errors
	Status5xx     int
	Status4xx     int
	P50, P95, P99 time.Duration
	Max           time.Duration
}

// Report is the outcome of a run.
type Report struct {
	Elapsed  time.Duration
	Requests int
	Kinds    []KindReport
	Samples  []Sample
}

// Run drives the load until ctx ends, Duration passes or MaxRequests are sent.
func Run(ctx context.Context, o Options) Report {
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var sent atomic.Int64
	var mu sync.Mutex
	var samples []Sample
	start := time.Now()
	var wg sync.WaitGroup
	for u := range o.Users {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(u)+1, 0x5eed))
			client := o.Clients(u)
			var local []Sample
			for ctx.Err() == nil {
				if o.MaxRequests > 0 && sent.Add(1) > o.MaxRequests {
					break
				}
				req := o.Mix(u, rng)
				t0 := time.Now()
				status, err := req.Do(ctx, client)
				if ctx.Err() != nil && err != nil {
					// Cut off by the deadline: neither a success nor a failure of the server.
					break
				}
				local = append(local, Sample{Kind: req.Kind, Status: status, Err: err, Duration: time.Since(t0)})
			}
			mu.Lock()
			samples = append(samples, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return Summarise(samples, time.Since(start))
}

// Summarise groups samples by kind and computes their percentiles (stats.Percentile).
func Summarise(samples []Sample, elapsed time.Duration) Report {
	byKind := map[string][]Sample{}
	for _, s := range samples {
		byKind[s.Kind] = append(byKind[s.Kind], s)
	}
	r := Report{Elapsed: elapsed, Requests: len(samples), Samples: samples}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		ss := byKind[k]
		ds := make([]time.Duration, 0, len(ss))
		kr := KindReport{Kind: k, Count: len(ss)}
		for _, s := range ss {
			switch {
			case s.Err != nil:
				kr.Errors++
			case s.Status >= 500:
				kr.Status5xx++
			case s.Status >= 400:
				kr.Status4xx++
			}
			ds = append(ds, s.Duration)
		}
		kr.P50, kr.P95, kr.P99 = stats.Percentile(ds, 50), stats.Percentile(ds, 95), stats.Percentile(ds, 99)
		kr.Max = slices.Max(ds)
		r.Kinds = append(r.Kinds, kr)
	}
	return r
}

// Kind returns the report of one kind, and whether there was any.
func (r Report) Kind(kind string) (KindReport, bool) {
	for _, k := range r.Kinds {
		if k.Kind == kind {
			return k, true
		}
	}
	return KindReport{}, false
}

// Get returns a request of kind that GETs url with optional headers and drains the body.
func Get(kind, url string, headers ...string) Request {
	return Request{Kind: kind, Do: func(ctx context.Context, client *http.Client) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, err
	}}
}
