package issuerdb

import (
	"context"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// Long-tail portfolio: the generated one has 278 distinct name words, so no two-letter prefix
// there starts more than a handful; a real portfolio has thousands of surnames, and a prefix
// such as "mc" or "mu" starts a hundred of them.
const (
	longTailCustomers = 200000
	longTailRenamed   = 100000
	longTailSurnames  = 4000
)

// longTailQueries are prefixes of one, two and three letters under one letter, two-word
// prefixes and a whole first name; each name is the sub-benchmark's.
var longTailQueries = []struct{ name, text string }{
	{"m", "m"}, {"ma", "ma"}, {"mc", "mc"}, {"mu", "mu"}, {"me", "me"}, {"mcd", "mcd"},
	{"mu-s", "mu s"}, {"mc-j", "mc j"}, {"maria", "maria"},
}

// BenchmarkSearchLongTail measures name searches on PostgreSQL over a portfolio whose surnames
// have a long tail: of 200,000 generated customers, half get one of 4,000 surnames made of
// syllables, drawn with Zipf weights, one in twenty-five of them an "Mc" name. It reports each
// query's p50 and p95. With CTPDESK_BENCH_POSTGRES_URL the portfolio is kept between runs in
// a database of the same server named after the benchmark's with "_long_tail" added; with
// CTPDESK_TEST_POSTGRES_URL alone it is loaded into a database of its own for each run.
func BenchmarkSearchLongTail(b *testing.B) {
	u := longTailURL(b)
	if u == "" {
		b.Skip("no PostgreSQL")
	}
	db := mustBenchOpen(b, u)
	for _, q := range longTailQueries {
		b.Run(q.name, func(b *testing.B) {
			for range 3 {
				if _, err := db.Search(context.Background(), Query{Text: q.text}); err != nil {
					b.Fatal(err)
				}
			}
			var d []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := db.Search(context.Background(), Query{Text: q.text}); err != nil {
					b.Fatal(err)
				}
				d = append(d, time.Since(start))
			}
			reportPercentiles(b, d)
		})
	}
}

// longTailURL returns the long-tail portfolio's database, loading it when it is new.
func longTailURL(b *testing.B) string {
	ctx := context.Background()
	u := os.Getenv("CTPDESK_BENCH_POSTGRES_URL")
	if u == "" {
		if u = mustPostgresDB(b); u == "" {
			return ""
		}
	} else {
		u = siblingDatabase(b, u, "_long_tail")
	}
	start := time.Now()
	if _, err := EnsureSeeded(ctx, u, longTailCustomers, testSeed); err != nil {
		b.Fatal(err)
	}
	db, err := Open(ctx, u, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	names := longTailNames()
	r := rand.New(rand.NewPCG(3, 4))
	zipf := rand.NewZipf(r, 1.1, 8, uint64(len(names)-1))
	all := portfolio(longTailCustomers)
	some := make([]Customer, longTailRenamed)
	surnames := make([]string, longTailRenamed)
	for i := range some {
		some[i], surnames[i] = all[2*i], names[zipf.Uint64()]
	}
	// A portfolio kept from an earlier run has the last renamed customer's surname already.
	var renamed bool
	if err := db.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1 AND last_name = $2)",
		some[len(some)-1].ID, surnames[len(some)-1]).Scan(&renamed); err != nil {
		b.Fatal(err)
	}
	if renamed {
		return u
	}
	renameSurnames(b, db, some, func(i int) string { return surnames[i] })
	// The word counts of a portfolio loaded with these surnames.
	if _, err := db.db.ExecContext(ctx, `DELETE FROM name_vocab;
		INSERT INTO name_vocab (token, customers) SELECT token, count(*) FROM name_tokens GROUP BY token;
		ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded the long-tail portfolio in %s", time.Since(start).Round(time.Second))
	return u
}

// longTailNames makes the distinct surnames of the long-tail portfolio, the same every run.
func longTailNames() []string {
	first := []string{"ba", "ca", "da", "fe", "ga", "ha", "ja", "ka", "la", "ma", "na", "pa", "ra",
		"sa", "ta", "va", "wa", "bo", "co", "do", "fo", "go", "ho", "jo", "ko", "lo", "mo", "no",
		"po", "ro", "so", "to", "vo", "wo", "mi", "mu", "me", "be", "ce", "ri"}
	last := []string{"ller", "rton", "ndez", "vic", "sen", "son", "berg", "stein", "ford", "ley",
		"ton", "wick", "mann", "ard", "ett", "ine", "ano", "etti", "ova", "ski", "rez", "ntos",
		"lva", "ira", "nez"}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	var names []string
	for len(names) < longTailSurnames {
		s := first[r.IntN(len(first))] + first[r.IntN(len(first))][:1] + last[r.IntN(len(last))]
		if len(names)%25 == 0 {
			s = "mc" + first[r.IntN(len(first))] + last[r.IntN(len(last))]
		}
		s = strings.ToUpper(s[:1]) + s[1:]
		if !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	return names
}

// siblingDatabase returns the URL of the database named like raw's with suffix added, on the
// same server, creating it when it does not exist.
func siblingDatabase(b *testing.B, raw, suffix string) string {
	u, err := url.Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/") + suffix
	u.Path = "/" + name
	ctx := context.Background()
	db, err := Open(ctx, raw, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var exists bool
	if err := db.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		if _, err := db.db.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
			b.Fatal(err)
		}
	}
	return u.String()
}
