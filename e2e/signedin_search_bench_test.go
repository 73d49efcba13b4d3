package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ctpdesk/audit"
	"ctpdesk/internal/stats"
	"ctpdesk/issuerdb"
	"ctpdesk/store"
)

// BenchmarkSignedInSearch measures what a user gets from a search: the search fragment over
// real HTTP from `ctpdesk serve` in its own process, with a session made by signing in through
// the OpenID Provider and the search recorded in the durable audit trail before the results
// are sent. Beside it, in the same loop and in turns, it measures the floor that answer stands
// on: the same query through issuerdb.Search in this process (raw) and one durable audit
// Record alone on a SQLite store like the app's (commit). Both searches are warmed alike, every
// query once. Per kind it reports gap-ms = http − raw − commit at the medians: the cost of
// everything else (HTTP, session, CPU of the handler and the render); the goal is ≤ 0.25 ms.
// A last sub-benchmark runs 16 clients searching at once, all kinds mixed.
//
// It runs on the SQLite portfolio of CTPDESK_BENCH_CUSTOMERS customers (the issuerdb
// benchmarks' file), and on PostgreSQL too when CTPDESK_BENCH_POSTGRES_URL names a database
// seeded with the same portfolio.
func BenchmarkSignedInSearch(b *testing.B) {
	p := signedInPortfolio(b)
	backends := []struct{ name, url string }{{"sqlite", p.URL}}
	if u := os.Getenv("CTPDESK_BENCH_POSTGRES_URL"); u != "" {
		if _, err := issuerdb.EnsureSeeded(context.Background(), u, p.Customers, portfolioSeed); err != nil {
			b.Fatal(err)
		}
		backends = append(backends, struct{ name, url string }{"postgres", u})
	}
	trail := commitTrail(b)
	queries := portfolioQueries(p.Customers)
	for i, be := range backends {
		app := startServed(b, be.url)
		if i == 0 {
			// The same seed makes the same portfolio on every backend.
			splitSharedEmails(b, app.Portfolio, queries)
		}
		cookie := app.SignIn(b, "agent")
		client := keepAliveClient(1)
		ctx := context.Background()
		httpSearch := func(q string) time.Duration {
			d, err := signedInGet(ctx, client, searchURL(app.URL(), q), cookie, true)
			if err != nil {
				b.Fatal(err)
			}
			return d
		}
		rawSearch := func(q string) time.Duration {
			start := time.Now()
			if _, err := app.Portfolio.Search(ctx, issuerdb.Query{Text: q}); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		var seq atomic.Int64
		commit := func() time.Duration {
			start := time.Now()
			if err := trail.Record(ctx, searchEvent(int(seq.Add(1)))); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		for range 20 {
			commit()
		}
		for _, kind := range searchKinds {
			b.Run(be.name+"/"+kind, func(b *testing.B) {
				qs := queries[kind]
				for _, q := range qs {
					httpSearch(q)
					rawSearch(q)
				}
				var httpD, rawD, commitD []time.Duration
				i := 0
				for b.Loop() {
					q := qs[i%len(qs)]
					// The three take turns at going first, so none always follows a pause.
					for k := range 3 {
						switch (i + k) % 3 {
						case 0:
							httpD = append(httpD, httpSearch(q))
						case 1:
							rawD = append(rawD, rawSearch(q))
						case 2:
							commitD = append(commitD, commit())
						}
					}
					i++
				}
				httpP50, rawP50, commitP50 := stats.Percentile(httpD, 50), stats.Percentile(rawD, 50), stats.Percentile(commitD, 50)
				b.ReportMetric(ms(httpP50), "http-p50-ms")
				b.ReportMetric(ms(stats.Percentile(httpD, 95)), "http-p95-ms")
				b.ReportMetric(ms(rawP50), "raw-p50-ms")
				b.ReportMetric(ms(stats.Percentile(rawD, 95)), "raw-p95-ms")
				b.ReportMetric(ms(commitP50), "commit-p50-ms")
				b.ReportMetric(ms(httpP50-rawP50-commitP50), "gap-ms")
			})
		}
		b.Run(be.name+"/http-16-clients", func(b *testing.B) {
			const clients = 16
			cookies := make([]string, clients)
			for w := range cookies {
				cookies[w] = app.SignIn(b, "agent")
			}
			var all []string
			for _, kind := range searchKinds {
				all = append(all, queries[kind]...)
			}
			shared := keepAliveClient(clients)
			for _, q := range all {
				if _, err := signedInGet(ctx, shared, searchURL(app.URL(), q), cookies[0], true); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range clients {
				wg.Go(func() {
					var local []time.Duration
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							break
						}
						// Consecutive requests are of different kinds, as when many agents type.
						q := all[(int(i)*197)%len(all)]
						d, err := signedInGet(ctx, shared, searchURL(app.URL(), q), cookies[w], true)
						if err != nil {
							b.Error(err)
							return
						}
						local = append(local, d)
					}
					mu.Lock()
					lat = append(lat, local...)
					mu.Unlock()
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(ms(stats.Percentile(lat, 50)), "p50-ms")
			b.ReportMetric(ms(stats.Percentile(lat, 95)), "p95-ms")
		})
	}
}

// commitTrail is a durable audit trail on a SQLite store of its own, as the app's: the commit
// each signed-in search waits for, measured alone.
func commitTrail(b *testing.B) *audit.Trail {
	b.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "commit.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	// As the app's under load (underLoad): a commit on a busy machine may take longer than the
	// production bound, and the benchmark measures it rather than failing.
	timeout, err := time.ParseDuration(underLoad["CTPDESK_AUDIT_RECORD_TIMEOUT"])
	if err != nil {
		b.Fatal(err)
	}
	trail, err := audit.New(db, audit.Options{Key: key, RecordTimeout: timeout})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { trail.Close() })
	return trail
}

// searchEvent is the event a signed-in search records: who, the kind of query and the number
// of rows, never the query.
func searchEvent(i int) audit.Event {
	return audit.Event{
		Actor:    audit.Actor{Issuer: "https://idp.bench.test", Subject: "agent", Name: "Agent", Roles: []string{"agent"}},
		Action:   audit.ActionSearch,
		Outcome:  audit.Success,
		Details:  map[string]string{"kind": "name", "results": "20"},
		ClientIP: "127.0.0.1", UserAgent: "Go-http-client/1.1",
		RequestID: fmt.Sprintf("bench-%d", i),
	}
}
