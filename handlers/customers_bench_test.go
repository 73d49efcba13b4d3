package handlers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/stats"
	"ctpdesk/issuerdb"
)

// benchPortfolioSeed matches issuerdb's benchmarks, so both reuse one seeded file.
const benchPortfolioSeed = 42

// BenchmarkCustomerSearch measures each kind of search through the whole HTTP stack (routing,
// middleware, search, view model, templ rendering of the htmx fragment) beside the same
// query run directly against the database, both warmed alike and measured in turns.
// CTPDESK_BENCH_CUSTOMERS sets the portfolio size (`make bench`: 1,000,000).
func BenchmarkCustomerSearch(b *testing.B) {
	n := 5000
	if raw := os.Getenv("CTPDESK_BENCH_CUSTOMERS"); raw != "" {
		var err error
		if n, err = strconv.Atoi(raw); err != nil || n < 100 {
			b.Fatalf("CTPDESK_BENCH_CUSTOMERS=%q: want a number of at least 100", raw)
		}
	}
	backends := [][2]string{{"sqlite", "sqlite:" + filepath.Join(os.TempDir(), fmt.Sprintf("ctpdesk-bench-%d-%d.db", n, benchPortfolioSeed))}}
	if u := os.Getenv("CTPDESK_BENCH_POSTGRES_URL"); u != "" {
		// A PostgreSQL database for the benchmark portfolio, seeded on first use and kept.
		backends = append(backends, [2]string{"postgres", u})
	}
	g := issuerdb.NewGenerator(benchPortfolioSeed)
	r := rand.New(rand.NewPCG(3, 4))
	queries := map[string][]string{}
	kinds := []string{"customer-id", "email", "phone", "last4", "name-exact", "name-prefix"}
	for range 200 {
		c := g.Customer(r.IntN(n))
		last, first := []rune(issuerdb.Fold(c.LastName)), []rune(issuerdb.Fold(c.FirstName))
		queries["customer-id"] = append(queries["customer-id"], c.ID)
		queries["email"] = append(queries["email"], c.Email)
		queries["phone"] = append(queries["phone"], c.Phone)
		queries["last4"] = append(queries["last4"], c.Cards[0].Last4)
		queries["name-exact"] = append(queries["name-exact"], c.FirstName+" "+c.LastName)
		queries["name-prefix"] = append(queries["name-prefix"], string(last[:min(3, len(last))])+" "+string(first[:min(2, len(first))]))
	}
	for _, be := range backends {
		if _, err := issuerdb.EnsureSeeded(context.Background(), be[1], n, benchPortfolioSeed); err != nil {
			b.Fatal(err)
		}
		db, err := issuerdb.Open(context.Background(), be[1], issuerdb.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		e := newCustomerServer(b, db)
		for _, kind := range kinds {
			b.Run(be[0]+"/"+kind, func(b *testing.B) { benchSearchKind(b, db, e, queries[kind]) })
		}
	}
}

// benchSearchKind measures each query of qs both ways. Both sides are warmed the same way
// first (every query once through each, unmeasured), and the measured runs alternate which
// side goes first, so neither is always the one that finds the other's pages in the cache.
func benchSearchKind(b *testing.B, db *issuerdb.DB, e http.Handler, qs []string) {
	query := func(q string) time.Duration {
		start := time.Now()
		if _, err := db.Search(context.Background(), issuerdb.Query{Text: q}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	serve := func(q string) time.Duration {
		req := httptest.NewRequest(http.MethodGet, "/customers?q="+url.QueryEscape(q), nil)
		req.Header.Set("HX-Request", "true")
		rec := httptest.NewRecorder()
		start := time.Now()
		e.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "data-customer-id") {
			b.Fatalf("%q: status %d", q, rec.Code)
		}
		return d
	}
	for _, q := range qs {
		query(q)
		serve(q)
	}
	var raw, served []time.Duration
	i := 0
	for b.Loop() {
		q := qs[i%len(qs)]
		if i%2 == 0 {
			raw = append(raw, query(q))
			served = append(served, serve(q))
		} else {
			served = append(served, serve(q))
			raw = append(raw, query(q))
		}
		i++
	}
	rp50, rp95 := percentiles(raw)
	hp50, hp95 := percentiles(served)
	b.ReportMetric(rp50, "raw-p50-ms")
	b.ReportMetric(rp95, "raw-p95-ms")
	b.ReportMetric(hp50, "http-p50-ms")
	b.ReportMetric(hp95, "http-p95-ms")
	if rp50 > 0 {
		b.ReportMetric(hp50/rp50, "http/raw-p50")
	}
	if rp95 > 0 {
		b.ReportMetric(hp95/rp95, "http/raw-p95")
	}
}

// percentiles returns p50 and p95 of d in milliseconds.
func percentiles(d []time.Duration) (p50, p95 float64) {
	ms := func(v time.Duration) float64 { return float64(v.Microseconds()) / 1000 }
	return ms(stats.Percentile(d, 50)), ms(stats.Percentile(d, 95))
}
