package scan

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
)

// BenchmarkScanThroughput scans a seeded portfolio through the D1 sandbox at 0 ms latency with
// no rate cap, on SQLite and (when configured) PostgreSQL: one full scan per iteration. It
// reports customers a second, D1 calls a customer and each stage's share of the workers' time
// (stage-share, e.g. d1-share); the D1 client, the comparison, the storage and River's job
// handling are all in the measured path. CTPDESK_BENCH_SCAN_CUSTOMERS sizes the portfolio
// (default 3,000).
func BenchmarkScanThroughput(b *testing.B) {
	n := 3000
	if v := os.Getenv("CTPDESK_BENCH_SCAN_CUSTOMERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("CTPDESK_BENCH_SCAN_CUSTOMERS=%q is not a positive number", v)
		}
	}
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
			st := s.Stages()
			for _, name := range StageNames() {
				b.ReportMetric(st.Share(name), name+"-share")
			}
		})
	}
}

// BenchmarkWorklistQuery pages the worklist of a large portfolio under each filter: the
// first page with its count, as /worklist asks for it. The items are written straight into
// the table, one in three a risk, so the benchmark measures the query and not a scan.
func BenchmarkWorklistQuery(b *testing.B) {
	const items = 200_000
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			db := mustStore(b, be.url)
			s, err := New(Options{DB: db, Portfolio: noPortfolio{}, D1: noFetcher{}, Key: testKey})
			if err != nil {
				b.Fatal(err)
			}
			seedWorklist(b, s, items)
			ctx := context.Background()
			for _, q := range []WorklistQuery{
				{Viewer: ViewerFraud},
				{Viewer: ViewerAgent},
				{Viewer: ViewerFraud, Severity: SeverityRisk},
				{Viewer: ViewerFraud, Kind: "card-unknown-to-issuer"},
				{Viewer: ViewerFraud, Directory: "MASTERCARD", State: ItemOpen},
				{Viewer: ViewerFraud, Changed: true},
			} {
				name := string(q.Viewer) + "/" + q.Severity + q.Kind + q.Directory + q.State
				if q.Changed {
					name += "changed"
				}
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						page, err := s.Worklist(ctx, q)
						if err != nil || len(page.Items) == 0 {
							b.Fatalf("%d items, %v", len(page.Items), err)
						}
					}
				})
			}
		})
	}
}

// seedWorklist writes n worklist items.
func seedWorklist(b testing.TB, s *Scanner, n int) {
	b.Helper()
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, s.db.Rebind(`INSERT INTO worklist_items (customer_id, state, severity, findings, dq_findings,
		kinds, dq_kinds, directories, first_scan_id, last_scan_id, last_scanned_at, changed, updated_at)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?, 1, 1, 0, ?, 0)`))
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		sev, kinds, dq, dqn := severityWarn, ",field-differs,", ",field-differs,", 1
		if i%3 == 0 {
			sev, kinds, dq, dqn = severityRisk, ",card-unknown-to-issuer,", "", 0
		}
		dirs := ",VISA,"
		if i%2 == 0 {
			dirs = ",MASTERCARD,"
		}
		if _, err := stmt.ExecContext(ctx, fmt.Sprintf("CU%08d", i), ItemStates()[i%5], sev, dqn, kinds, dq, dirs, i%7/6); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// noPortfolio and noFetcher stand in where a benchmark never scans.
type noPortfolio struct{}

func (noPortfolio) CustomerIDsAfter(context.Context, string, int, issuerdb.WalkFilter) ([]string, error) {
	return nil, nil
}

func (noPortfolio) CustomersBetween(context.Context, string, string, issuerdb.WalkFilter) ([]issuerdb.Customer, error) {
	return nil, nil
}

type noFetcher struct{}

func (noFetcher) GetProfiles(context.Context, string, d1.FetchOptions) (d1.Result, error) {
	return d1.Result{}, nil
}
