package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"ctpdesk/internal/pgtest"
)

// A hot statement is prepared once per DB: every caller, concurrent ones included, gets the
// same *sql.Stmt, it runs with "?" placeholders on both engines, inside a transaction too,
// and Close retires it.
func TestPreparedStatementsArePreparedOnce(t *testing.T) {
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
			got := make([]any, 8)
			var wg sync.WaitGroup
			for i := range got {
				wg.Go(func() {
					st, err := db.Prepared(ctx, query)
					if err != nil {
						got[i] = err
						return
					}
					got[i] = st
				})
			}
			wg.Wait()
			for i, st := range got {
				if st != got[0] {
					t.Fatalf("caller %d got %v, caller 0 got %v: want one statement", i, st, got[0])
				}
			}
			st, err := db.Prepared(ctx, query)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := st.QueryRowContext(ctx, 1).Scan(&n); err != nil || n != 2 {
				t.Fatalf("prepared query: %d, %v; want 2", n, err)
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.StmtContext(ctx, st).QueryRowContext(ctx, 2).Scan(&n); err != nil || n != 3 {
				t.Fatalf("prepared query in a transaction: %d, %v; want 3", n, err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Prepared(ctx, query); !errors.Is(err, errClosed) {
				t.Errorf("Prepared after Close = %v, want errClosed", err)
			}
		})
	}
}

// A query that does not parse is an error from Prepared and is not kept.
func TestPreparedRefusesBadSQL(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Prepared(ctx, "SELEC nothing"); err == nil {
		t.Fatal("Prepared accepted SQL that does not parse")
	}
	if len(db.stmts.stmts) != 0 {
		t.Errorf("a failed statement was kept: %v", db.stmts.stmts)
	}
}
