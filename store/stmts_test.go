package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"ctpdesk/internal/pgtest"
	"ctpdesk/internal/sqldialect"
)

// Prepared takes a query with "?" placeholders on both engines and keeps it: a second call
// returns the same statement. After Close it fails. (How the statements are kept, concurrent
// callers included, is tested with sqldialect.Statements.)
func TestPreparedRebindsAndKeepsTheStatement(t *testing.T) {
	urls := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "app.db")}
	if pgtest.Configured(t) {
		urls["postgres"] = pgtest.URL(t, "ctpdesk_store_stmts")
	}
	const query = "SELECT CAST(? AS INTEGER) + 1"
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			st, err := db.Prepared(ctx, query)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := st.QueryRowContext(ctx, 1).Scan(&n); err != nil || n != 2 {
				t.Fatalf("prepared query: %d, %v; want 2", n, err)
			}
			if again, err := db.Prepared(ctx, query); err != nil || again != st {
				t.Fatalf("second Prepared = %p, %v; want the first statement %p", again, err, st)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Prepared(ctx, query); !errors.Is(err, sqldialect.ErrClosed) {
				t.Errorf("Prepared after Close = %v, want sqldialect.ErrClosed", err)
			}
		})
	}
}
