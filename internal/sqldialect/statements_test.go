package sqldialect

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"ctpdesk/internal/pgtest"
)

// statementDBs are an open pool on each engine the tests can reach: SQLite always, PostgreSQL
// when its test server is set.
func statementDBs(t *testing.T) map[Engine]*sql.DB {
	t.Helper()
	targets := map[Engine]Target{SQLite: {Engine: SQLite, Path: filepath.Join(t.TempDir(), "x.db")}}
	if pgtest.Configured(t) {
		targets[Postgres] = Target{Engine: Postgres, URL: pgtest.URL(t, "ctpdesk_sqldialect_stmts")}
	}
	dbs := map[Engine]*sql.DB{}
	for e, tg := range targets {
		db, err := Open(tg, OpenOptions{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[e] = db
	}
	return dbs
}

// Concurrent callers of one text all get the same *sql.Stmt, one per text; it runs, inside a
// transaction too; Close closes it, and Get fails afterwards.
func TestStatementsPrepareEachTextOnce(t *testing.T) {
	for engine, db := range statementDBs(t) {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			texts := []string{"SELECT CAST(? AS INTEGER) + 1", "SELECT CAST(? AS INTEGER) + 2"}
			var rewrite func(string) string
			if engine == Postgres {
				rewrite = Rebind
			}
			s := NewStatements(db, rewrite)
			got := make([]*sql.Stmt, 16)
			errs := make([]error, len(got))
			var wg sync.WaitGroup
			for i := range got {
				wg.Go(func() { got[i], errs[i] = s.Get(ctx, texts[i%2]) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			for i, st := range got {
				if st != got[i%2] {
					t.Fatalf("caller %d got %p, caller %d got %p: want one statement per text", i, st, i%2, got[i%2])
				}
			}
			if got[0] == got[1] {
				t.Fatal("two texts share one statement")
			}
			if n := s.Len(); n != 2 {
				t.Errorf("Len = %d, want 2", n)
			}
			st := got[0]
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
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := st.QueryRowContext(ctx, 1).Scan(&n); err == nil {
				t.Error("a statement still runs after Close")
			}
			if _, err := s.Get(ctx, texts[0]); !errors.Is(err, ErrClosed) {
				t.Errorf("Get after Close = %v, want ErrClosed", err)
			}
			if n := s.Len(); n != 0 {
				t.Errorf("Len after Close = %d, want 0", n)
			}
		})
	}
}

// A query that does not parse is an error from Get and is not kept.
func TestStatementsRefuseBadSQL(t *testing.T) {
	s := NewStatements(statementDBs(t)[SQLite], nil)
	defer s.Close()
	if _, err := s.Get(context.Background(), "SELEC nothing"); err == nil {
		t.Fatal("Get accepted SQL that does not parse")
	}
	if texts := s.Texts(); len(texts) != 0 {
		t.Errorf("a failed statement was kept: %q", texts)
	}
}

// A text is rewritten once, when it is first prepared, kept by the text as written, and
// listed by Texts as it was prepared.
func TestStatementsRewriteOnce(t *testing.T) {
	var rewrites atomic.Int32
	s := NewStatements(statementDBs(t)[SQLite], func(q string) string {
		rewrites.Add(1)
		return strings.ReplaceAll(q, "?", "+?")
	})
	defer s.Close()
	ctx := context.Background()
	for range 50 {
		st, err := s.Get(ctx, "SELECT CAST(? AS INTEGER) * 2")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := st.QueryRowContext(ctx, 21).Scan(&n); err != nil || n != 42 {
			t.Fatalf("prepared query: %d, %v; want 42", n, err)
		}
	}
	if n := rewrites.Load(); n != 1 {
		t.Errorf("rewritten %d times for one text, want once", n)
	}
	if texts := s.Texts(); len(texts) != 1 || texts[0] != "SELECT CAST(+? AS INTEGER) * 2" {
		t.Errorf("Texts = %q, want the rewritten text", texts)
	}
}
