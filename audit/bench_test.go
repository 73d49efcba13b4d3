package audit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ctpdesk/store"
)

// BenchmarkRecord measures durable appends per second: every Record returns only after its
// event is committed (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on), with 1, 16
// and 64 concurrent writers sharing one trail.
func BenchmarkRecord(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, writers := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/writers=%d", dialect, writers), func(b *testing.B) {
				var db *store.DB
				if dialect == "sqlite" {
					db = mustSQLite(b)
				} else {
					db = mustPostgres(b)
				}
				tr := mustTrail(b, db, Options{})
				benchRecord(b, tr, writers)
			})
		}
	}
}

func benchRecord(b *testing.B, tr *Trail, writers int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	e := sampleEvent(1)
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := tr.Record(context.Background(), e); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

// BenchmarkVerify measures how fast Verify walks a chain of 20,000 events (reported as
// events/s), which bounds how stale the auditors' chain status may be kept.
func BenchmarkVerify(b *testing.B) {
	db := mustSQLite(b)
	tr := mustTrail(b, db, Options{})
	const n = 20_000
	benchRecordN(b, tr, 64, n)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if r := mustVerify(b, tr); !r.OK() || r.Events != n {
			b.Fatal(r)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// benchRecordN appends n events from writers goroutines.
func benchRecordN(b *testing.B, tr *Trail, writers, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := tr.Record(context.Background(), sampleEvent(int(next.Load()))); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
