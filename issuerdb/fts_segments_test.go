package issuerdb

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ftsSegments is how many segments the SQLite name index holds.
func ftsSegments(t *testing.T, db *DB) int {
	t.Helper()
	n, err := strconv.Atoi(mustStrings(t, db, "SELECT count(DISTINCT segid) FROM customer_fts_idx")[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNameIndexIsOneSegment checks that a seeded SQLite portfolio's name index is merged into
// one segment, and that migrating a file whose index has been written in several
// transactions (each leaves a segment of its own) merges it again, with every name search
// answering as before.
func TestNameIndexIsOneSegment(t *testing.T) {
	ctx := context.Background()
	db := mustSeeded(t, backends(t)[0].url, testCustomers, Options{})
	if got := ftsSegments(t, db); got != 1 {
		t.Errorf("name index after a seed: %d segments, want 1", got)
	}
	queries := []string{"smith", "smi jo", "zoe", "jo", "m", "garcia maria", "nguyen", "ashworth zoe", "a b"}
	search := func() map[string][]string {
		out := map[string][]string{}
		for _, q := range queries {
			for cur := ""; ; {
				page, err := db.Search(ctx, Query{Text: q, After: cur})
				if err != nil {
					t.Fatalf("search %q: %v", q, err)
				}
				for _, c := range page.Customers {
					out[q] = append(out[q], c.ID)
				}
				out[q] = append(out[q], "total "+strconv.Itoa(page.Total))
				if cur = page.Next; cur == "" || len(out[q]) > 400 {
					break
				}
			}
		}
		return out
	}
	before := search()

	if err := migrateDownTo(ctx, db.db, sqliteDialect, 4); err != nil {
		t.Fatal(err)
	}
	// Rewrite some customers' index entries, the same words again, one transaction each, with
	// automatic merging off: each leaves a segment of its own.
	if _, err := db.db.ExecContext(ctx, "INSERT INTO customer_fts (customer_fts, rank) VALUES ('automerge', 0)"); err != nil {
		t.Fatal(err)
	}
	var rows [][3]string
	rs, err := db.db.QueryContext(ctx, "SELECT o.ord, c.search_name, c.short_key FROM name_order o "+
		"JOIN customers c ON c.rowid = o.customer_rowid WHERE o.ord % 97 = 0 ORDER BY o.ord")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var r [3]string
		if err := rs.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if err := errors.Join(rs.Err(), rs.Close()); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 {
		t.Fatalf("only %d index rows to rewrite", len(rows))
	}
	for _, r := range rows {
		for _, q := range []string{
			"INSERT INTO customer_fts (customer_fts, rowid, name, fl) VALUES ('delete', ?, ?, ?)",
			"INSERT INTO customer_fts (rowid, name, fl) VALUES (?, ?, ?)",
		} {
			if _, err := db.db.ExecContext(ctx, q, r[0], r[1], r[2]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.db.ExecContext(ctx, "INSERT INTO customer_fts (customer_fts, rank) VALUES ('automerge', 4)"); err != nil {
		t.Fatal(err)
	}
	if got := ftsSegments(t, db); got < 10 {
		t.Fatalf("rewritten name index: %d segments, want at least 10 for the test to mean anything", got)
	}
	if diff := cmp.Diff(before, search()); diff != "" {
		t.Fatalf("searches on the rewritten index differ (-seeded +rewritten):\n%s", diff)
	}

	if err := migrate(ctx, db.db, sqliteDialect, 0); err != nil {
		t.Fatal(err)
	}
	if got := ftsSegments(t, db); got != 1 {
		t.Errorf("name index after migrating: %d segments, want 1", got)
	}
	if diff := cmp.Diff(before, search()); diff != "" {
		t.Errorf("searches on the merged index differ (-seeded +merged):\n%s", diff)
	}
}
