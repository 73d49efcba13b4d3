package scan

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctpdesk/d1"
	"ctpdesk/internal/stats"
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

// BenchmarkWorklistQuery pages the worklist under each filter: the first page with its
// count, as /worklist asks for it, reporting the median and 95th percentile of the pages'
// times (p50-ms, p95-ms) and how many items matched (matched, up to the count's cap). By
// default it writes 200,000 items straight into the table, one in three a risk, so it measures
// the query and not a scan. CTPDESK_BENCH_WORKLIST_URL names instead a dashboard database
// holding a real scan's worklist (a copy: the benchmark records decisions by one assignee in
// it, so the assignee filter has rows).
func BenchmarkWorklistQuery(b *testing.B) {
	const items = 200_000
	type target struct{ name, url string }
	var targets []target
	external := os.Getenv("CTPDESK_BENCH_WORKLIST_URL")
	if external != "" {
		targets = []target{{"scanned", external}}
	} else {
		for _, be := range backends(b) {
			targets = append(targets, target(be))
		}
	}
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			db := mustStore(b, tg.url)
			s, err := New(Options{DB: db, Portfolio: noPortfolio{}, D1: noFetcher{}, Key: testKey})
			if err != nil {
				b.Fatal(err)
			}
			if external == "" {
				seedWorklist(b, s, items)
				// The planner's statistics as a finished scan leaves them.
				if err := s.refreshPlannerStats(context.Background()); err != nil {
					b.Fatal(err)
				}
			} else {
				decideSome(b, s, 200)
			}
			ctx := context.Background()
			for _, q := range []WorklistQuery{
				{Viewer: ViewerFraud},
				{Viewer: ViewerAgent},
				{Viewer: ViewerFraud, Severity: SeverityRisk},
				{Viewer: ViewerFraud, Kind: "card-unknown-to-issuer"},
				{Viewer: ViewerFraud, Kind: "field-differs"},
				{Viewer: ViewerFraud, Directory: "MASTERCARD"},
				{Viewer: ViewerFraud, State: ItemEscalated},
				{Viewer: ViewerFraud, Directory: "MASTERCARD", State: ItemOpen},
				{Viewer: ViewerFraud, Changed: true},
				{Viewer: ViewerFraud, Assignee: benchAssignee},
				{Viewer: ViewerFraud, Assignee: AssigneeNone},
			} {
				name := string(q.Viewer) + "/" + q.Severity + q.Kind + q.Directory + q.State
				if q.Changed {
					name += "changed"
				}
				if q.Assignee != "" {
					name += "assignee" + strings.ReplaceAll(q.Assignee, "|", "")
				}
				b.Run(name, func(b *testing.B) {
					var took []float64
					matched := 0
					for b.Loop() {
						start := time.Now()
						page, err := s.Worklist(ctx, q)
						took = append(took, float64(time.Since(start).Microseconds())/1000)
						if err != nil {
							b.Fatal(err)
						}
						if external == "" && len(page.Items) == 0 {
							b.Fatalf("no items for %+v", q)
						}
						matched = page.Total
					}
					b.ReportMetric(stats.Median(took), "p50-ms")
					b.ReportMetric(stats.Percentile(took, 95), "p95-ms")
					b.ReportMetric(float64(matched), "matched")
				})
			}
		})
	}
}

// benchAssignee is the person the worklist benchmark's decisions are by.
const benchAssignee = "https://idp|bench-analyst"

// decideSome records n decisions by benchAssignee on a scanned worklist, spread over it.
func decideSome(b testing.TB, s *Scanner, n int) {
	b.Helper()
	ctx := context.Background()
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM worklist_items WHERE findings > 0").Scan(&total); err != nil {
		b.Fatal(err)
	}
	if total == 0 {
		b.Fatal("the database holds no worklist")
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind("SELECT customer_id FROM worklist_items WHERE findings > 0 AND decided_by = '' ORDER BY customer_id LIMIT ?"), total)
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := 0; rows.Next(); i++ {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		if i%max(total/n, 1) == 0 && len(ids) < n {
			ids = append(ids, id)
		}
	}
	rows.Close()
	for _, id := range ids {
		if _, err := s.Decide(ctx, Decision{CustomerID: id, State: ItemEscalated, Reason: "suspected-fraud", By: benchAssignee, ByName: "Bench", Viewer: ViewerFraud}); err != nil {
			b.Fatal(err)
		}
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
		kinds, dq_kinds, directories, first_scan_id, last_scan_id, last_scanned_at, changed, updated_at, decided_by)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?, 1, 1, 0, ?, 0, ?)`))
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
		by := ""
		if i%100 == 0 {
			by = benchAssignee
		}
		if _, err := stmt.ExecContext(ctx, fmt.Sprintf("CU%08d", i), ItemStates()[i%5], sev, dqn, kinds, dq, dirs, i%7/6, by); err != nil {
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
