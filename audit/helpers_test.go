package audit

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"ctpdesk/internal/pgtest"
	"ctpdesk/store"
)

// mustKey returns a fresh random HMAC key; no key is ever kept in the repository.
func mustKey(tb testing.TB) []byte {
	tb.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		tb.Fatal(err)
	}
	return k
}

// mustSQLite opens a migrated SQLite database in a fresh temporary directory.
func mustSQLite(tb testing.TB) *store.DB {
	tb.Helper()
	return mustOpen(tb, "sqlite:"+filepath.Join(tb.TempDir(), "ctpdesk.db"))
}

func mustOpen(tb testing.TB, rawURL string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), rawURL)
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// mustPostgresURL creates a uniquely named database on the server named by
// CTPDESK_TEST_POSTGRES_URL, drops it when the test ends, and returns its URL. Without the
// variable the test is skipped, or fails under CI=true.
func mustPostgresURL(tb testing.TB) string {
	tb.Helper()
	return pgtest.URL(tb, "ctpdesk_audit_test")
}

func mustPostgres(tb testing.TB) *store.DB {
	tb.Helper()
	return mustOpen(tb, mustPostgresURL(tb))
}

// dialects runs fn against SQLite and, when available, PostgreSQL.
func dialects(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, mustSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, mustPostgres(t)) })
}

// twoPools runs fn with two connection pools on one database, as two replicas have, on SQLite
// and, when available, PostgreSQL.
func twoPools(t *testing.T, fn func(t *testing.T, a, b *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		url := "sqlite:" + t.TempDir() + "/shared.db"
		fn(t, mustOpen(t, url), mustOpen(t, url))
	})
	t.Run("postgres", func(t *testing.T) {
		url := mustPostgresURL(t)
		fn(t, mustOpen(t, url), mustOpen(t, url))
	})
}

func mustTrail(tb testing.TB, db *store.DB, opts Options) *Trail {
	tb.Helper()
	if opts.Key == nil {
		opts.Key = mustKey(tb)
	}
	if opts.RecordTimeout == 0 {
		// The tests of what the trail stores and proves wait as long as a busy machine needs;
		// the tests of the 1 s bound (health_test.go) ask for it explicitly.
		opts.RecordTimeout = contendedRecordTimeout
	}
	tr, err := New(db, opts)
	if err != nil {
		tb.Fatalf("audit.New: %v", err)
	}
	tb.Cleanup(func() { tr.Close() })
	return tr
}

// sampleEvent is a synthetic customer view by a synthetic agent.
func sampleEvent(i int) Event {
	return Event{
		Actor: Actor{
			Issuer:  "https://idp.example.test",
			Subject: fmt.Sprintf("agent-%d", i%7),
			Name:    fmt.Sprintf("Agent %d", i%7),
			Roles:   []string{"agent"},
		},
		Action:     ActionCustomerView,
		Outcome:    Success,
		CustomerID: fmt.Sprintf("C%06d", i%100),
		Details:    map[string]string{"view": "record", "n": fmt.Sprint(i)},
		ClientIP:   "192.0.2.10",
		UserAgent:  "Mozilla/5.0 (test)",
		RequestID:  fmt.Sprintf("req-%d", i),
	}
}

// mustRecord appends n sample events one after the other.
func mustRecord(tb testing.TB, tr *Trail, n int) {
	tb.Helper()
	for i := range n {
		if err := tr.Record(context.Background(), sampleEvent(i)); err != nil {
			tb.Fatalf("Record %d: %v", i, err)
		}
	}
}

func mustVerify(tb testing.TB, tr *Trail) VerifyReport {
	tb.Helper()
	r, err := tr.Verify(context.Background())
	if err != nil {
		tb.Fatalf("Verify: %v", err)
	}
	return r
}

func mustCount(tb testing.TB, db *store.DB) int64 {
	tb.Helper()
	var n int64
	if err := db.QueryRow("SELECT COUNT(*) FROM audit_events").Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// fixedClock is a test clock that advances only when told.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

// openForChild opens the database in a child process, where there is no testing.TB.
func openForChild(rawURL string) (*store.DB, error) {
	return store.Open(context.Background(), rawURL)
}
