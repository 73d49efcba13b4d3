package scan

import (
	"context"
	"testing"
	"time"
)

// BenchmarkScanThroughput scans a seeded portfolio through the D1 sandbox at 0 ms latency with
// no rate cap, on SQLite and (when configured) PostgreSQL: one full scan per iteration. It
// reports customers a second and D1 calls a customer; the D1 client, the comparison, the
// storage and River's job handling are all in the measured path.
func BenchmarkScanThroughput(b *testing.B) {
	const n = 3000
	w := newWorld(b, n)
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			db := mustStore(b, be.url)
			s := mustScanner(b, db, w, func(o *Options) { o.Workers, o.ChunkSize, o.PollInterval = 4, 250, 20*time.Millisecond })
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			calls := 0
			for b.Loop() {
				run, err := s.StartScan(ctx, StartRequest{Trigger: TriggerCommand, By: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				p := waitFor(b, s, run.ID, 10*time.Minute, finished)
				if p.Done != n {
					b.Fatalf("scan stored %d customers, want %d", p.Done, n)
				}
				calls += p.D1Calls
			}
			secs := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N*n)/secs, "customers/s")
			b.ReportMetric(float64(calls)/float64(b.N*n), "calls/customer")
		})
	}
}
