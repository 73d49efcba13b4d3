package scan

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"ctpdesk/internal/stats"
	"ctpdesk/reconcile"
)

// benchRate is the rate cap the rate benchmarks scan at, in D1 calls a second.
const benchRate = 50

// BenchmarkRateCapThreeReplicas scans with three replicas' scanners on one database at a cap
// of 50 calls a second and reports the sandbox's own count of profile calls in each full second
// of the scan (the first and last, partly outside it, left out): the lowest, the median and the
// highest, and the share of seconds within 5 % of the cap (in-band). CTPDESK_BENCH_RATE_SECONDS
// sets how long the scan lasts at the cap (default 20).
func BenchmarkRateCapThreeReplicas(b *testing.B) {
	secs := 20
	if v := os.Getenv("CTPDESK_BENCH_RATE_SECONDS"); v != "" {
		var err error
		if secs, err = strconv.Atoi(v); err != nil || secs < 3 {
			b.Fatalf("CTPDESK_BENCH_RATE_SECONDS=%q is not a number of seconds of at least 3", v)
		}
	}
	n := benchRate * secs
	w := newWorld(b, n)
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			var scanners []*Scanner
			for range 3 {
				db := mustStore(b, be.url)
				client := w.newClient(b)
				scanners = append(scanners, mustScanner(b, db, w, func(o *Options) {
					o.D1, o.Rate, o.Workers, o.ChunkSize, o.PollInterval = client, benchRate, 4, 25, 20*time.Millisecond
				}))
			}
			var per []float64
			for b.Loop() {
				w.calls.reset()
				run, err := scanners[0].StartScan(context.Background(), StartRequest{Trigger: TriggerCommand, By: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				p := waitFor(b, scanners[0], run.ID, time.Duration(secs)*10*time.Second, finished)
				if p.Done != n {
					b.Fatalf("scan stored %d customers, want %d", p.Done, n)
				}
				per = append(per, w.calls.fullSeconds()...)
			}
			if len(per) == 0 {
				b.Fatal("the scan did not last a full second")
			}
			in := 0
			for _, c := range per {
				if c >= 0.95*benchRate && c <= 1.05*benchRate {
					in++
				}
			}
			b.Logf("%s: calls in each full second: %v", be.name, per)
			b.ReportMetric(slices.Min(per), "min-calls/s")
			b.ReportMetric(stats.Median(per), "median-calls/s")
			b.ReportMetric(slices.Max(per), "max-calls/s")
			b.ReportMetric(float64(in)/float64(len(per)), "in-band")
		})
	}
}

// BenchmarkInteractiveDuringScan times a person's comparison (the issuer record, a fresh D1
// call through the scanner's Interactive wrapper, reconcile.Compare) with no scan running and
// while a scan runs at a cap of 50 calls a second, in alternating rounds of the same length,
// and reports each side's p95 and their ratio (during/without). The comparisons are paced at
// ten a second, as people at a help desk make them, not as fast as they go.
func BenchmarkInteractiveDuringScan(b *testing.B) {
	const (
		n         = 20_000 // more than the rounds scan, so the scan never ends
		rounds    = 6
		perRound  = 50
		pace      = 100 * time.Millisecond
		quietTime = 500 * time.Millisecond
	)
	w := newWorld(b, n)
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			db := mustStore(b, be.url)
			s := mustScanner(b, db, w, func(o *Options) {
				o.Rate, o.Workers, o.ChunkSize, o.PollInterval = benchRate, 4, 250, 20*time.Millisecond
			})
			people := s.Interactive(w.client)
			ctx := context.Background()
			var without, during []float64
			next := 0
			compareOne := func() float64 {
				id := w.consumerID(b, next%n)
				next += 7919 // a prime: the rounds spread over the portfolio
				start := time.Now()
				rec, err := w.issuer.CustomerByConsumerID(ctx, id)
				if err != nil {
					b.Fatal(err)
				}
				res, err := people.GetProfiles(ctx, id, fetchFresh)
				if err != nil {
					b.Fatal(err)
				}
				reconcile.Compare(rec, res, reconcile.Options{Now: time.Now()})
				return float64(time.Since(start).Microseconds()) / 1000
			}
			round := func(into *[]float64) {
				tick := time.NewTicker(pace)
				defer tick.Stop()
				for range perRound {
					*into = append(*into, compareOne())
					<-tick.C
				}
			}
			for b.Loop() {
				run, err := s.StartScan(ctx, StartRequest{Trigger: TriggerCommand, By: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				for r := range rounds {
					if r > 0 {
						if _, err := s.Resume(ctx, run.ID); err != nil {
							b.Fatal(err)
						}
					}
					// Wait until the scan's calls reach the sandbox at the cap.
					waitFor(b, s, run.ID, time.Minute, func(p Progress) bool {
						return p.D1Calls > 0 && w.calls.since(time.Now().Add(-time.Second)) >= benchRate/2
					})
					round(&during)
					if _, err := s.Cancel(ctx, run.ID, "bench"); err != nil {
						b.Fatal(err)
					}
					// Wait until the scan's workers have stopped calling D1.
					w.calls.waitQuiet(b, quietTime, time.Minute)
					round(&without)
				}
			}
			p95w, p95d := stats.Percentile(without, 95), stats.Percentile(during, 95)
			b.ReportMetric(stats.Median(without), "p50-without-ms")
			b.ReportMetric(p95w, "p95-without-ms")
			b.ReportMetric(stats.Median(during), "p50-during-ms")
			b.ReportMetric(p95d, "p95-during-ms")
			b.ReportMetric(p95d/p95w, "p95-ratio")
		})
	}
}
