package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"

	"ctpdesk/internal/stats"
	"ctpdesk/issuerdb"
)

// benchCustomers is the portfolio size of the comparison benchmarks: enough distinct consumers
// that every measured request misses the D1 client's cache.
const benchCustomers = 2000

// startBenchApp runs `ctpdesk dev` with the sandbox answering after latency and returns the app
// and an HTTP client signed in as agent.
func startBenchApp(b *testing.B, latency time.Duration) (*testApp, *http.Client) {
	b.Helper()
	// The benchmarks scrape /metrics from loopback, which must be named to be let in.
	env := map[string]string{"CTPDESK_DEV_CUSTOMERS": fmt.Sprint(benchCustomers), "CTPDESK_DEV_SEED": "7",
		"CTPDESK_METRICS_NETWORKS": "127.0.0.1/32"}
	if latency > 0 {
		env["CTPDESK_SANDBOX_FAULT"] = "latency=" + latency.String()
		env["CTPDESK_D1_TIMEOUT"] = (latency + 3*time.Second).String()
	}
	a := startApp(b, "dev", env)
	client := newBrowserlikeClient(b)
	resp := devLogin(b, client, a.URL, "agent")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("sign-in: %d", resp.StatusCode)
	}
	return a, client
}

// timedGet fetches url and returns the time to the first response byte and to the end of the
// body.
func timedGet(b *testing.B, client *http.Client, url string, headers ...string) (ttfb, total time.Duration) {
	b.Helper()
	var first time.Time
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	end := time.Now()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return first.Sub(start), end.Sub(start)
}

// ms is a duration in milliseconds, the unit of the benchmarks' latency metrics.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkComparisonFragment measures GET /customers/{id}/comparison (htmx fragment) through
// the whole app with the D1 sandbox answering after 200 ms: session, issuer record, D1 token
// and profiles over HTTP, comparison, durable audit event, render. Every request names another
// consumer, so none is served from the D1 cache. Goal: p50 ≤ 1.05 × 200 ms + 10 ms = 220 ms.
func BenchmarkComparisonFragment(b *testing.B) {
	const latency = 200 * time.Millisecond
	a, client := startBenchApp(b, latency)
	// The first call also fetches the D1 token; it is not what the page costs afterwards.
	timedGet(b, client, a.URL+"/customers/"+issuerdb.CustomerID(0)+"/comparison", "HX-Request", "true")
	var lat []time.Duration
	i := 1
	for b.Loop() {
		_, total := timedGet(b, client, a.URL+"/customers/"+issuerdb.CustomerID(i%benchCustomers)+"/comparison", "HX-Request", "true")
		lat = append(lat, total)
		i++
	}
	p50 := stats.Percentile(lat, 50)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(stats.Percentile(lat, 95)), "p95-ms")
	b.ReportMetric(float64(p50-latency)/float64(time.Millisecond), "overhead-p50-ms")
	b.ReportMetric(float64(p50)/float64(latency), "p50/latency")
}

// BenchmarkIssuerHalfTTFB measures the time to first byte of the customer page (the issuer
// half) while comparisons for other customers are in flight, with D1 answering at once and
// after 2 s. The page never waits for D1, so the two must be the same.
func BenchmarkIssuerHalfTTFB(b *testing.B) {
	for _, latency := range []time.Duration{0, 2 * time.Second} {
		b.Run("d1="+latency.String(), func(b *testing.B) {
			a, client := startBenchApp(b, latency)
			// Keep comparisons in flight, as browsers do right after each page: one starts every
			// 50 ms whatever D1's latency, so the load on the app is the same in both runs and
			// only D1's answer time differs (with 2 s, about 40 are waiting at any moment).
			other := newBrowserlikeClient(b)
			resp := devLogin(b, other, a.URL, "fraud")
			resp.Body.Close()
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() {
				tick := time.NewTicker(50 * time.Millisecond)
				defer tick.Stop()
				for n := 0; ; n++ {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
					}
					url := a.URL + "/customers/" + issuerdb.CustomerID(1000+n%900) + "/comparison"
					wg.Go(func() {
						req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
						req.Header.Set("HX-Request", "true")
						if resp, err := other.Do(req); err == nil {
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
					})
				}
			})
			defer func() { cancel(); wg.Wait() }()
			timedGet(b, client, a.URL+"/customers/"+issuerdb.CustomerID(0))
			var ttfb []time.Duration
			i := 1
			for b.Loop() {
				t, _ := timedGet(b, client, a.URL+"/customers/"+issuerdb.CustomerID(i%1000))
				ttfb = append(ttfb, t)
				i++
			}
			b.ReportMetric(ms(stats.Percentile(ttfb, 50)), "p50-ttfb-ms")
			b.ReportMetric(ms(stats.Percentile(ttfb, 95)), "p95-ttfb-ms")
		})
	}
}
