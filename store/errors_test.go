package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctpdesk/internal/dbfault"
	"ctpdesk/internal/pgtest"
)

// writeRow is a write of the kind the dashboard makes all the time: one small row.
func writeRow(ctx context.Context, db *DB, i int) error {
	_, err := db.ExecContext(ctx, db.Rebind(
		`INSERT INTO auth_sessions (id_hash, data, created_at, last_seen_at) VALUES (?, ?, ?, ?)`),
		fmt.Sprintf("probe-%d-%s", i, strings.Repeat("x", 40)), strings.Repeat("{}", 100), 1, 1)
	return err
}

func mustOpenSQLite(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dash.db")
	db, err := Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// Each way a SQLite file stops taking writes is reported as ErrUnavailable, so the layers
// above answer 503 instead of calling it a bug.
func TestClassifyMarksSQLiteOutages(t *testing.T) {
	t.Run("locked", func(t *testing.T) {
		db, path := mustOpenSQLite(t)
		dbfault.LockSQLite(t, path)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := Classify(writeRow(ctx, db, 0))
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("write while another connection holds the lock: %v, want ErrUnavailable", err)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		db, _ := mustOpenSQLite(t)
		dbfault.ReadOnlySQLite(t, db.DB)
		err := Classify(writeRow(context.Background(), db, 0))
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "readonly") {
			t.Fatalf("write to a read-only database: %v, want ErrUnavailable (readonly)", err)
		}
	})
	t.Run("full", func(t *testing.T) {
		db, _ := mustOpenSQLite(t)
		dbfault.FullSQLite(t, db.DB)
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			err = writeRow(context.Background(), db, i)
		}
		if err = Classify(err); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "full") {
			t.Fatalf("writes to a full database: %v, want ErrUnavailable (full)", err)
		}
	})
}

// A failing query that is our own mistake stays what it is: a 500 and a bug to fix.
func TestClassifyLeavesDefectsAlone(t *testing.T) {
	db, _ := mustOpenSQLite(t)
	if err := writeRow(context.Background(), db, 1); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"constraint":    writeRow(context.Background(), db, 1),
		"missing table": db.QueryRowContext(context.Background(), "SELECT 1 FROM no_such_table").Scan(new(int)),
		"cancelled":     context.Canceled,
	} {
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if errors.Is(Classify(err), ErrUnavailable) {
			t.Errorf("%s (%v) was marked ErrUnavailable", name, err)
		}
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) is not nil")
	}
}

// A PostgreSQL database switched to read-only transactions (a failover onto a standby looks
// the same) is an outage too.
func TestClassifyMarksPostgresReadOnly(t *testing.T) {
	db, err := Open(context.Background(), pgtest.URL(t, "ctpdesk_store_ro"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := writeRow(context.Background(), db, 0); err != nil {
		t.Fatal(err)
	}
	restore := dbfault.ReadOnlyPostgres(t, db.DB)
	err = Classify(writeRow(context.Background(), db, 1))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write under default_transaction_read_only: %v, want ErrUnavailable", err)
	}
	restore()
	if err := writeRow(context.Background(), db, 2); err != nil {
		t.Fatalf("write after the database is writable again: %v", err)
	}
}
