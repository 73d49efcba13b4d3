package issuerdb

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// writeCustomerName renames customer id through a connection of its own that does not wait
// for locks, as another program writing the file would, and returns its error.
func writeCustomerName(t *testing.T, path, id, name string) error {
	t.Helper()
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = w.Exec("UPDATE customers SET first_name = ? WHERE id = ?", name, id)
	return err
}

// TestReadOnlySnapshotHoldsItsReadLock checks that a read-only pool on a seeded snapshot (a
// rollback-journal file) keeps the file's shared lock from its first read until Close, so
// that its statements need not take and release it one by one, and that a writer is refused
// meanwhile rather than changing pages under a search; and that a file in WAL mode, which the
// dashboard's store may share, stays open to writers.
func TestReadOnlySnapshotHoldsItsReadLock(t *testing.T) {
	ctx := context.Background()
	id := CustomerID(7)

	t.Run("snapshot", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "issuer.db")
		db := mustSeeded(t, "sqlite:"+path, 50, Options{ReadOnly: true})
		before, err := db.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			err := writeCustomerName(t, path, id, "Changed")
			if err == nil || !strings.Contains(err.Error(), "locked") {
				t.Fatalf("a write while the snapshot is open = %v, want database is locked", err)
			}
		}
		after, err := db.Get(ctx, id)
		if err != nil || after.FirstName != before.FirstName {
			t.Fatalf("after the refused write: %q, %v; want %q", after.FirstName, err, before.FirstName)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := writeCustomerName(t, path, id, "Changed"); err != nil {
			t.Fatalf("a write once the snapshot is closed: %v", err)
		}
	})

	t.Run("wal", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "issuer.db")
		if err := Seed(ctx, "sqlite:"+path, 50, testSeed); err != nil {
			t.Fatal(err)
		}
		w, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		var mode string
		if err := w.QueryRow("PRAGMA journal_mode = WAL").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v", mode, err)
		}
		db, err := Open(ctx, "sqlite:"+path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := writeCustomerName(t, path, id, "Changed"); err != nil {
			t.Fatalf("a write to a WAL file a reader has open: %v", err)
		}
		c, err := db.Get(ctx, id)
		if err != nil || c.FirstName != "Changed" {
			t.Fatalf("the reader after the write: %q, %v; want Changed", c.FirstName, err)
		}
	})
}
