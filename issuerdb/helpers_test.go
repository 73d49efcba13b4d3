package issuerdb

import (
	"context"
	"ctpdesk/internal/pgtest"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// testSeed and testCustomers define the small portfolio the tests search: big enough for
// shared prefixes, duplicate last 4s and several pages, small enough to load in a blink.
const (
	testSeed      = 42
	testCustomers = 2000
)

// backend is one database engine under test.
type backend struct {
	name string
	url  string
}

// backends returns a fresh, empty database URL per engine: a SQLite file always, and a
// PostgreSQL database of its own when CTPDESK_TEST_POSTGRES_URL is set (required with CI=true).
func backends(t testing.TB) []backend {
	t.Helper()
	out := []backend{{name: "sqlite", url: "sqlite:" + filepath.Join(t.TempDir(), "issuer.db")}}
	if u := mustPostgresDB(t); u != "" {
		out = append(out, backend{name: "postgres", url: u})
	}
	return out
}

// mustPostgresDB creates a uniquely named database on the test server, drops it when the
// test ends, and returns its URL; "" when no server is configured outside CI.
func mustPostgresDB(t testing.TB) string {
	t.Helper()
	if !pgtest.Configured(t) {
		t.Log(pgtest.EnvVar + " not set: PostgreSQL not tested")
		return ""
	}
	return pgtest.URL(t, "issuerdb_test")
}

// mustSeeded seeds the test portfolio at url and opens it.
func mustSeeded(t testing.TB, url string, n int, opts Options) *DB {
	t.Helper()
	ctx := context.Background()
	if err := Seed(ctx, url, n, testSeed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	db, err := Open(ctx, url, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// portfolio is the generated portfolio the tests compute expected results from.
func portfolio(n int) []Customer {
	g := NewGenerator(testSeed)
	out := make([]Customer, n)
	for i := range out {
		out[i] = g.Customer(i)
	}
	return out
}

// renameSurnames gives each customer of some a surname of its own, surname(i) for the i-th,
// and no middle name, in the PostgreSQL portfolio of db and in some itself. The trigger brings
// name_tokens and name_given_words along.
func renameSurnames(tb testing.TB, db *DB, some []Customer, surname func(i int) string) {
	tb.Helper()
	var ids, lasts, search, sortNames, nameKeys, shortKeys []string
	for i := range some {
		c := &some[i]
		c.MiddleName, c.LastName = "", surname(i)
		cols := deriveSearchColumns(c)
		ids, lasts = append(ids, c.ID), append(lasts, c.LastName)
		search, sortNames = append(search, cols.SearchName), append(sortNames, cols.SortName)
		nameKeys, shortKeys = append(nameKeys, cols.NameKey), append(shortKeys, cols.ShortKey)
	}
	if _, err := db.db.ExecContext(context.Background(), `UPDATE customers c SET middle_name = '',
			last_name = r.last, search_name = r.search, sort_name = r.sort, name_key = r.name_key, short_key = r.short_key
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
			AS r (id, last, search, sort, name_key, short_key)
		WHERE c.id = r.id`, ids, lasts, search, sortNames, nameKeys, shortKeys); err != nil {
		tb.Fatal(err)
	}
}
