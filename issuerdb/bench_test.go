package issuerdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ctpdesk/internal/stats"
)

// benchCustomers is the portfolio size of the benchmarks: CTPDESK_BENCH_CUSTOMERS, or a
// small default so `go test -bench` stays quick. `make bench` sets 1,000,000.
func benchCustomers(b *testing.B) int {
	raw := os.Getenv("CTPDESK_BENCH_CUSTOMERS")
	if raw == "" {
		return 5000
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 100 || n > MaxSeedCustomers {
		b.Fatalf("CTPDESK_BENCH_CUSTOMERS=%q: want a number from 100 to %d", raw, MaxSeedCustomers)
	}
	return n
}

// benchSQLiteURL seeds the benchmark portfolio into a SQLite file kept in the system's temp
// directory between runs: a million customers take most of a minute to load.
func benchSQLiteURL(b *testing.B, n int) string {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("ctpdesk-bench-%d-%d.db", n, testSeed))
	u := "sqlite:" + path
	start := time.Now()
	seeded, err := EnsureSeeded(context.Background(), u, n, testSeed)
	if err != nil {
		b.Fatal(err)
	}
	if seeded {
		b.Logf("seeded %d customers into %s in %s", n, path, time.Since(start).Round(time.Millisecond))
	}
	return u
}

// BenchQueries returns, per query kind, queries built from customers of the portfolio spread
// over the whole id range, so caches see realistic variety.
func benchQueries(n int) map[string][]string {
	g := NewGenerator(testSeed)
	r := rand.New(rand.NewPCG(1, 2))
	out := map[string][]string{}
	for range 200 {
		c := g.Customer(r.IntN(n))
		first, last := []rune(Fold(c.FirstName)), []rune(Fold(c.LastName))
		local, _, _ := strings.Cut(c.Email, "@")
		out["email"] = append(out["email"], c.Email)
		out["email-prefix"] = append(out["email-prefix"], local+"@")
		out["phone"] = append(out["phone"], c.Phone)
		out["last4"] = append(out["last4"], c.Cards[0].Last4)
		out["last4+name"] = append(out["last4+name"], c.Cards[0].Last4+" "+string(last[:min(4, len(last))]))
		out["customer-id"] = append(out["customer-id"], c.ID)
		out["consumer-id"] = append(out["consumer-id"], c.ConsumerID)
		out["name-exact"] = append(out["name-exact"], c.FirstName+" "+c.LastName)
		out["name-prefix"] = append(out["name-prefix"], string(last[:min(3, len(last))])+" "+string(first[:min(2, len(first))]))
		out["name-1letter"] = append(out["name-1letter"], string(last[:1]))
	}
	return out
}

// BenchKinds is the order the kinds are reported in.
var benchKinds = []string{"customer-id", "consumer-id", "email", "email-prefix", "phone", "last4",
	"last4+name", "name-exact", "name-prefix", "name-1letter"}

// reportPercentiles adds p50 and p95 of the measured durations to the benchmark's output.
func reportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	b.ReportMetric(float64(stats.Percentile(d, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(stats.Percentile(d, 95).Microseconds())/1000, "p95-ms")
}

// benchBackends returns the benchmark portfolio on SQLite and, when a PostgreSQL server is
// configured, on PostgreSQL.
func benchBackends(b *testing.B, n int) []backend {
	urls := []backend{{name: "sqlite", url: benchSQLiteURL(b, n)}}
	if u := os.Getenv("CTPDESK_BENCH_POSTGRES_URL"); u != "" {
		// A database already seeded with the same portfolio (seed 42), kept between runs.
		if _, err := EnsureSeeded(context.Background(), u, n, testSeed); err != nil {
			b.Fatal(err)
		}
		urls = append(urls, backend{name: "postgres", url: u})
	} else if os.Getenv("CTPDESK_TEST_POSTGRES_URL") != "" {
		u := mustPostgresDB(b)
		start := time.Now()
		if err := Seed(context.Background(), u, n, testSeed); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d customers into PostgreSQL in %s", n, time.Since(start).Round(time.Millisecond))
		urls = append(urls, backend{name: "postgres", url: u})
	}
	return urls
}

// mustBenchOpen opens a benchmark portfolio read-only, as production reads the issuer's replica.
func mustBenchOpen(b *testing.B, url string) *DB {
	db, err := Open(context.Background(), url, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// warm runs every query once, unmeasured: the measured runs then read pages the database has
// already cached, as the HTTP handler's benchmark does.
func warm(b *testing.B, db *DB, qs []string) {
	for _, q := range qs {
		if _, err := db.Search(context.Background(), Query{Text: q}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	n := benchCustomers(b)
	queries := benchQueries(n)
	for _, be := range benchBackends(b, n) {
		db := mustBenchOpen(b, be.url)
		for _, kind := range benchKinds {
			b.Run(be.name+"/"+kind, func(b *testing.B) {
				qs := queries[kind]
				warm(b, db, qs)
				var d []time.Duration
				i := 0
				for b.Loop() {
					start := time.Now()
					if _, err := db.Search(context.Background(), Query{Text: qs[i%len(qs)]}); err != nil {
						b.Fatal(err)
					}
					d = append(d, time.Since(start))
					i++
				}
				reportPercentiles(b, d)
			})
		}
	}
}

// mixedQueries interleaves the queries of every kind, so that concurrent searches run the
// kinds side by side the way a team of agents does.
func mixedQueries(queries map[string][]string) []string {
	var out []string
	for i := range queries[benchKinds[0]] {
		for _, kind := range benchKinds {
			out = append(out, queries[kind][i])
		}
	}
	return out
}

// BenchmarkSearchConcurrent runs the mix of every kind's queries from 1 and from 16 clients at
// once and reports each search's p50 and p95: the 16-client figure shows what the pool, the
// locks and the CPUs add when a team searches together, the 1-client figure beside it the same
// mix alone.
func BenchmarkSearchConcurrent(b *testing.B) {
	n := benchCustomers(b)
	qs := mixedQueries(benchQueries(n))
	for _, be := range benchBackends(b, n) {
		db := mustBenchOpen(b, be.url)
		// Once per database, not per round: the rounds of b.N would otherwise spend most of
		// the run (and of a CPU profile) warming.
		warm(b, db, qs)
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/clients-%d", be.name, clients), func(b *testing.B) {
				d := searchConcurrently(b, db, qs, clients, b.N)
				b.StopTimer()
				reportPercentiles(b, d)
			})
		}
	}
}

// searchConcurrently runs total searches of qs, in order, from the given number of clients,
// and returns how long each took.
func searchConcurrently(b *testing.B, db *DB, qs []string, clients, total int) []time.Duration {
	var next atomic.Int64
	d := make([]time.Duration, total)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				start := time.Now()
				if _, err := db.Search(context.Background(), Query{Text: qs[i%len(qs)]}); err != nil {
					errs <- fmt.Errorf("search %q: %w", qs[i%len(qs)], err)
					return
				}
				d[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return d
}

func BenchmarkSeedSQLite(b *testing.B) {
	n := benchCustomers(b)
	for b.Loop() {
		start := time.Now()
		if err := Seed(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "seed.db"), n, testSeed); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "load-s")
	}
}
